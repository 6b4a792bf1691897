package dev.sluice.bench;

import com.sun.net.httpserver.HttpServer;
import dev.sluice.core.QueueName;
import dev.sluice.core.SluiceConfig;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.kafka.TopicProvisioner;
import dev.sluice.embedded.SharedServers;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Worker processes on {@code sluice.ready}'s 8 partitions, in the consumer group or in share mode: each
 * process {@code sluice worker} of its own with 4 slots and the {@code http} handler, calling a server
 * here that answers each call after {@link #CALL_MILLIS} ms, as a slow API does (long enough that the
 * processes wait on calls, not on this machine's two cores). Prints the tasks per second through all
 * of them: in the consumer group a ninth process has no partition, in share mode it works.
 */
final class WorkerProcesses {

    static final int SLOTS = 4;
    static final long CALL_MILLIS = Long.getLong("worker.processes.callMillis", 500);

    private WorkerProcesses() {
    }

    /** Tasks per second through {@code processes} worker processes of this mode, over {@code tasks} tasks. */
    static double rate(String mode, int processes, int tasks) throws Exception {
        String prefix = "wproc" + UUID.randomUUID().toString().substring(0, 6);
        String bootstrap = SharedServers.kafkaBootstrapServers();
        Map<String, String> env = Map.of(SluiceConfig.ENV_KAFKA, bootstrap, SluiceConfig.ENV_REDIS,
                SharedServers.redisUri(), SluiceConfig.ENV_TOPIC_PREFIX, prefix, SluiceConfig.ENV_KEY_PREFIX, prefix,
                "SLUICE_WORKER_MODE", mode, "SLUICE_WORKER_HANDLER", "http",
                "SLUICE_WORKER_CONCURRENCY", String.valueOf(SLOTS), "SLUICE_HTTP_ALLOWED_HOSTS", "127.0.0.1");
        SluiceConfig sluice = SluiceConfig.fromEnvironment(env);
        TopicProvisioner.ensureSharedTopics(bootstrap, sluice.topics(), 8);

        AtomicInteger calls = new AtomicInteger();
        AtomicLong first = new AtomicLong();
        AtomicLong last = new AtomicLong();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/", exchange -> {
            first.compareAndSet(0, System.nanoTime());
            try {
                Thread.sleep(CALL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
            calls.incrementAndGet();
            last.set(System.nanoTime());
        });
        server.start();
        List<ChildJvm> workers = new ArrayList<>();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            for (int i = 1; i <= processes; i++) {
                workers.add(ChildJvm.start(mode + "-worker-" + i, "dev.sluice.worker.WorkerMain", env,
                        List.of("-Xmx128m", "-XX:TieredStopAtLevel=1")));
            }
            for (ChildJvm worker : workers) {
                worker.awaitLine("Worker started", Duration.ofSeconds(120));
            }
            awaitMembers(admin, sluice, mode, processes);
            produce(bootstrap, sluice.topics().ready(), server.getAddress().getPort(), tasks);
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            while (calls.get() < tasks && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            return (calls.get() - 1) * 1e9 / Math.max(1, last.get() - first.get());
        } finally {
            workers.forEach(ChildJvm::close);
            server.stop(0);
        }
    }

    /** Until every process is in its group (share mode: each of its share consumers) or 2 minutes passed. */
    private static void awaitMembers(Admin admin, SluiceConfig sluice, String mode, int processes) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (System.nanoTime() < deadline) {
            int members;
            try {
                members = mode.equals("share")
                        ? admin.describeShareGroups(List.of(sluice.topics().workerShareGroup())).all().get()
                                .get(sluice.topics().workerShareGroup()).members().size() / Math.min(4, SLOTS)
                        : admin.describeConsumerGroups(List.of(sluice.topics().workerGroup())).all().get()
                                .get(sluice.topics().workerGroup()).members().size();
            } catch (java.util.concurrent.ExecutionException notYet) {
                members = 0;
            }
            if (members >= processes) {
                return;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException(processes + " worker processes did not all join within 2 minutes");
    }

    private static void produce(String bootstrap, String topic, int port, int tasks) {
        String queue = QueueName.generate().value();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap), new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < tasks; i++) {
                String id = "t-" + i;
                ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic, i % 8, null,
                        ("{\"method\":\"POST\",\"url\":\"http://127.0.0.1:" + port + "/" + id + "\",\"body\":\"{}\"}")
                                .getBytes(StandardCharsets.UTF_8));
                record.headers().add(TaskHeaders.ID, id.getBytes(StandardCharsets.UTF_8));
                record.headers().add(TaskHeaders.QUEUE, queue.getBytes(StandardCharsets.UTF_8));
                record.headers().add(TaskHeaders.ATTEMPT, "0".getBytes(StandardCharsets.UTF_8));
                producer.send(record);
            }
        }
    }
}
