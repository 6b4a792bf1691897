package dev.sluice.bench;

import dev.sluice.core.QueueName;
import dev.sluice.core.QueueSpec;
import dev.sluice.core.RateLimit;
import dev.sluice.core.SluiceConfig;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.Topics;
import dev.sluice.core.Windows;
import dev.sluice.core.kafka.TopicProvisioner;
import dev.sluice.core.redis.QueueRegistry;
import dev.sluice.embedded.SharedServers;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import redis.clients.jedis.RedisClient;

/**
 * Gates scaled out: 1, 2 and 3 gate processes ({@code GateMain}, each a JVM of its own, one consumer
 * group) on the same queues, each case on fresh queues:
 * <ul>
 *   <li>throughput: {@value #FAST_QUEUES} queues of {@value #FAST_TASKS} tasks, limits far above the load;
 *       released tasks per second read committed from {@code sluice.ready}, against one gate;</li>
 *   <li>strictness: {@value #STRICT_QUEUES} queues at {@value #STRICT_LIMIT}/1s; the most releases of any
 *       queue in any 1 s window (by release timestamp), and every task released once.</li>
 * </ul>
 * Then churn: the strict case with one gate at first, a second and a third joining, one of them killed
 * with SIGKILL and another stopped with SIGTERM mid-run; again every task once and every window kept.
 * Limits live in Redis, so gates share them; the queues' partitions are shared out between gates by
 * the consumer group.
 */
public final class ScaleOutBenchmark {

    static final int FAST_QUEUES = 200;
    static final int FAST_TASKS = Integer.getInteger("scaleout.fastTasks", 500);
    static final int STRICT_QUEUES = 40;
    static final int STRICT_LIMIT = 25;
    static final int STRICT_TASKS = 250; // 10 s per queue
    private static final byte[] PAYLOAD = new byte[200];

    private final String bootstrap = SharedServers.kafkaBootstrapServers();
    private final String redisUri = SharedServers.redisUri();

    private ScaleOutBenchmark() {
    }

    public static void main(String[] args) {
        try {
            new ScaleOutBenchmark().run();
            System.exit(0);
        } catch (Throwable e) {
            e.printStackTrace();
            System.exit(1); // the embedded broker's threads would keep the JVM alive
        }
    }

    private void run() throws Exception {
        System.out.printf("Scale-out benchmark on the embedded broker (%s) and redis-server (%s); %d cores%n",
                bootstrap, redisUri, Runtime.getRuntime().availableProcessors());
        double oneGate = 0;
        for (int gates = 1; gates <= 3; gates++) {
            try (World world = new World()) {
                List<QueueName> queues = world.queues(FAST_QUEUES, FAST_TASKS);
                List<ChildJvm> started = world.gates(gates);
                try (ReadyLog ready = world.readyLog()) {
                    world.register(queues, "1000000/1s");
                    int total = FAST_QUEUES * FAST_TASKS;
                    double rate = ready.rate(total, total / 10, Duration.ofMinutes(5));
                    if (gates == 1) {
                        oneGate = rate;
                    }
                    System.out.printf(Locale.ROOT, "%d gate(s), %d queues x %d tasks, limits far above the load: %.0f"
                                    + " released/s (%.2f x one gate), every task once: %s%n", gates, FAST_QUEUES,
                            FAST_TASKS, rate, rate / oneGate, ready.exactlyOnce(queues, FAST_TASKS));
                }
                started.forEach(ChildJvm::close);
            }
            try (World world = new World()) {
                List<QueueName> queues = world.queues(STRICT_QUEUES, STRICT_TASKS);
                List<ChildJvm> started = world.gates(gates);
                try (ReadyLog ready = world.readyLog()) {
                    world.register(queues, STRICT_LIMIT + "/1s");
                    ready.readAll(STRICT_QUEUES * STRICT_TASKS, Duration.ofMinutes(3));
                    System.out.printf(Locale.ROOT, "%d gate(s), %d queues at %d/1s x %d tasks: most in any 1 s window"
                                    + " of any queue %d (limit %d), every task once: %s%n", gates, STRICT_QUEUES,
                            STRICT_LIMIT, STRICT_TASKS, ready.mostInAnyWindow(queues), STRICT_LIMIT,
                            ready.exactlyOnce(queues, STRICT_TASKS));
                }
                started.forEach(ChildJvm::close);
            }
        }
        try (World world = new World()) {
            List<QueueName> queues = world.queues(STRICT_QUEUES, STRICT_TASKS);
            List<ChildJvm> gates = new ArrayList<>(world.gates(1));
            try (ReadyLog ready = world.readyLog()) {
                world.register(queues, STRICT_LIMIT + "/1s");
                int total = STRICT_QUEUES * STRICT_TASKS;
                ready.readAll(total / 5, Duration.ofMinutes(1));
                gates.addAll(world.gates(1)); // a second joins
                ready.readAll(total * 2 / 5, Duration.ofMinutes(1));
                gates.addAll(world.gates(1)); // a third joins
                ready.readAll(total * 3 / 5, Duration.ofMinutes(1));
                gates.get(1).kill(); // a crash: SIGKILL, its open transaction aborted by the broker later
                ready.readAll(total * 4 / 5, Duration.ofMinutes(2));
                gates.get(2).close(); // an operator stops one: SIGTERM
                ready.readAll(total, Duration.ofMinutes(3));
                ready.readFor(Duration.ofSeconds(2));
                System.out.printf(Locale.ROOT, "churn: 1 gate, 2 and 3 joining, one killed (SIGKILL), one stopped (SIGTERM),"
                                + " %d queues at %d/1s x %d tasks: most in any 1 s window of any queue %d (limit %d),"
                                + " every task once: %s%n", STRICT_QUEUES, STRICT_LIMIT, STRICT_TASKS,
                        ready.mostInAnyWindow(queues), STRICT_LIMIT, ready.exactlyOnce(queues, STRICT_TASKS));
            }
            gates.forEach(ChildJvm::close);
        }
    }

    /** One case's topics, keys, queues and gate processes, under a prefix of its own. */
    private final class World implements AutoCloseable {
        final String prefix = "so" + UUID.randomUUID().toString().substring(0, 6);
        final Topics topics = new Topics(prefix);
        final SluiceConfig sluice = SluiceConfig.fromEnvironment(Map.of(
                SluiceConfig.ENV_KAFKA, bootstrap, SluiceConfig.ENV_REDIS, redisUri,
                SluiceConfig.ENV_TOPIC_PREFIX, prefix, SluiceConfig.ENV_KEY_PREFIX, prefix));
        final Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
        final RedisClient redis = RedisClient.create(URI.create(redisUri));
        final QueueRegistry registry = new QueueRegistry(redis, sluice.keys());
        private int gateCount;

        World() {
            new TopicProvisioner(admin, topics, (short) 1).ensureSharedTopics(8);
        }

        /** Queue topics with their tasks on them; not yet in the registry, so no gate releases them yet. */
        List<QueueName> queues(int count, int tasks) throws Exception {
            List<QueueName> queues = new ArrayList<>();
            List<NewTopic> newTopics = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                QueueName queue = QueueName.generate();
                queues.add(queue);
                newTopics.add(new NewTopic(topics.queue(queue), 1, (short) 1));
            }
            admin.createTopics(newTopics).all().get(120, TimeUnit.SECONDS);
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.LINGER_MS_CONFIG, 10,
                    ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1),
                    new ByteArraySerializer(), new ByteArraySerializer())) {
                List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
                for (QueueName queue : queues) {
                    for (int i = 0; i < tasks; i++) {
                        ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topics.queue(queue), null, PAYLOAD);
                        record.headers().add(TaskHeaders.ID, utf8(queue.value() + "-" + i));
                        record.headers().add(TaskHeaders.QUEUE, utf8(queue.value()));
                        sent.add(producer.send(record));
                    }
                }
                for (java.util.concurrent.Future<?> each : sent) {
                    each.get(60, TimeUnit.SECONDS); // a lost task would read as one the gates lost
                }
            }
            return queues;
        }

        void register(List<QueueName> queues, String rate) {
            for (QueueName queue : queues) {
                registry.create(queue, QueueSpec.of(RateLimit.parse(rate)));
            }
        }

        /** Starts gate processes and waits until the group has them all as members. */
        List<ChildJvm> gates(int count) throws Exception {
            List<ChildJvm> started = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                gateCount++;
                Map<String, String> env = new HashMap<>();
                env.put(SluiceConfig.ENV_KAFKA, bootstrap);
                env.put(SluiceConfig.ENV_REDIS, redisUri);
                env.put(SluiceConfig.ENV_TOPIC_PREFIX, prefix);
                env.put(SluiceConfig.ENV_KEY_PREFIX, prefix);
                env.put("SLUICE_GATE_ID", "gate-" + gateCount);
                started.add(ChildJvm.start("gate-" + gateCount, "dev.sluice.gate.GateMain", env, List.of("-Xmx512m")));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            // gates only ever join through here: the churn case kills and stops them after the last joined
            while (members() < gateCount && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            return started;
        }

        private int members() {
            try {
                return admin.describeConsumerGroups(List.of(topics.gateGroup())).describedGroups()
                        .get(topics.gateGroup()).get(5, TimeUnit.SECONDS).members().size();
            } catch (Exception notYet) {
                return 0;
            }
        }

        ReadyLog readyLog() {
            return new ReadyLog(topics.ready());
        }

        @Override
        public void close() {
            admin.close();
            redis.close();
        }
    }

    /** Everything released on {@code sluice.ready} (read committed) from now on: ids and timestamps by queue. */
    private final class ReadyLog implements AutoCloseable {
        private final KafkaConsumer<byte[], byte[]> consumer;
        private final Map<String, List<String>> ids = new HashMap<>();
        private final Map<String, List<Long>> timestamps = new HashMap<>();
        private int count;

        ReadyLog(String topic) {
            consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                    ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                    ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 10),
                    new ByteArrayDeserializer(), new ByteArrayDeserializer());
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToEnd(partitions);
            partitions.forEach(consumer::position);
        }

        private int pollOnce() {
            int before = count;
            for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(20))) {
                String queue = header(record, TaskHeaders.QUEUE);
                ids.computeIfAbsent(queue, q -> new ArrayList<>()).add(header(record, TaskHeaders.ID));
                timestamps.computeIfAbsent(queue, q -> new ArrayList<>()).add(record.timestamp());
                count++;
            }
            return count - before;
        }

        void readAll(int total, Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (count < total && System.nanoTime() < deadline) {
                pollOnce();
            }
        }

        void readFor(Duration duration) {
            long deadline = System.nanoTime() + duration.toNanos();
            while (System.nanoTime() < deadline) {
                pollOnce();
            }
        }

        /** Released per second from the {@code warmUp}th record read to the last of {@code total}. */
        double rate(int total, int warmUp, Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            long first = 0;
            long last = 0;
            int timedFrom = 0;
            while (count < total && System.nanoTime() < deadline) {
                if (pollOnce() > 0) {
                    last = System.nanoTime();
                }
                if (first == 0 && count >= warmUp) {
                    first = System.nanoTime();
                    timedFrom = count;
                }
            }
            readFor(Duration.ofSeconds(1)); // a task released twice would show now
            return (count - timedFrom) * 1e9 / (last - first);
        }

        int mostInAnyWindow(List<QueueName> queues) {
            int most = 0;
            for (QueueName queue : queues) {
                long[] times = timestamps.getOrDefault(queue.value(), List.of()).stream().mapToLong(Long::longValue)
                        .sorted().toArray();
                most = Math.max(most, Windows.maxInAnyWindow(times, 1000));
            }
            return most;
        }

        /** "yes", or what was missing or released twice. */
        String exactlyOnce(List<QueueName> queues, int tasksEach) {
            int missing = 0;
            int twice = 0;
            for (QueueName queue : queues) {
                List<String> released = ids.getOrDefault(queue.value(), List.of());
                Set<String> distinct = new HashSet<>(released);
                twice += released.size() - distinct.size();
                missing += tasksEach - distinct.size();
            }
            return missing == 0 && twice == 0 ? "yes" : "NO (" + missing + " missing, " + twice + " released twice)";
        }

        @Override
        public void close() {
            consumer.close();
        }
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        var header = record.headers().lastHeader(name);
        return header == null ? "" : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
