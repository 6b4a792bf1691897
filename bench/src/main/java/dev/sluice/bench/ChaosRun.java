package dev.sluice.bench;

import com.sun.net.httpserver.HttpServer;
import dev.sluice.core.QueueName;
import dev.sluice.core.QueueSpec;
import dev.sluice.core.RateLimit;
import dev.sluice.core.SluiceConfig;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.Windows;
import dev.sluice.core.kafka.TopicProvisioner;
import dev.sluice.core.redis.QueueRegistry;
import dev.sluice.embedded.RedisServerProcess;
import dev.sluice.embedded.SharedServers;
import dev.sluice.ingest.TaskSubmitter;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import redis.clients.jedis.RedisClient;

/**
 * Sluice under fire (issue 13): the router, the statistics, two gates and two workers, each in a JVM
 * of its own, on a real broker and a real {@code redis-server} (append-only file, fsync on every
 * write), with a producer feeding queues at different limits, and every few seconds one of them (a
 * gate, a worker, the router, the statistics or the redis-server) killed with SIGKILL and started
 * again a second later. The workers' {@code http} handler calls a server here, which counts the calls.
 *
 * <p>At the end it reads {@code sluice.ready} (read_committed) and checks: every task released
 * (missing: 0), no first release twice (a task's releases are named by its id, attempt and
 * {@code sluice-requeues}: the same name twice is a duplicate; a requeued or retried task that a worker
 * wrote back twice, killed between the write and its commit, is counted apart: that write is not in a
 * transaction with the worker's offsets), no window of any queue's period with
 * more releases than its limit (by the records' timestamps, their slots), every task called at least
 * once, and the statistics' {@code released} in Redis (what the admin shows) equal to the records on
 * {@code sluice.ready}.
 *
 * <p>{@code bench/run chaos [seconds]}: 600 s by default, a kill every 8 s.
 */
public final class ChaosRun {

    /** One queue of the run: its limit and how many tasks it gets. */
    public record QueueLoad(String limit, int tasks) {
    }

    /** What the run saw, per queue and in all. */
    public record Result(int produced, int releasedOnce, int duplicates, int resentTwice, int missing,
                         int calledAtLeastOnce, int kills, Map<String, String> windows, boolean limitsHeld,
                         boolean statsMatch, String statsDetail) {

        public boolean passed() {
            return duplicates == 0 && missing == 0 && limitsHeld && statsMatch && calledAtLeastOnce == produced;
        }

        public void print(PrintStream out) {
            out.printf(Locale.ROOT, "tasks produced %d, released (distinct) %d, released twice %d, missing %d,"
                    + " called at least once %d, kills %d%n", produced, releasedOnce, duplicates, missing,
                    calledAtLeastOnce, kills);
            out.printf(Locale.ROOT, "sent back twice by workers killed before they committed (each then released"
                    + " twice; not counted above): %d%n", resentTwice);
            windows.forEach((queue, line) -> out.println("  " + queue + ": " + line));
            out.println("statistics: " + statsDetail + (statsMatch ? " (equal to sluice.ready)" : " (NOT EQUAL)"));
            out.println(passed() ? "Nothing lost, nothing twice, every limit held." : "FAILED");
        }
    }

    private final String bootstrap = SharedServers.kafkaBootstrapServers();
    private final String prefix = "chaos" + UUID.randomUUID().toString().substring(0, 6);
    private final Random random;
    private final PrintStream log;

    public ChaosRun(long seed, PrintStream log) {
        this.random = new Random(seed);
        this.log = log;
    }

    /**
     * Runs the queues' load to the end (every task released and called) or until {@code timeout}, killing
     * a process every {@code killEvery} meanwhile; the producer spreads its tasks over {@code feedFor}.
     */
    public Result run(List<QueueLoad> loads, Duration feedFor, Duration killEvery, Duration timeout) throws Exception {
        RedisServerProcess redisServer = RedisServerProcess.start(RedisServerProcess.freePort(),
                Files.createTempDirectory("chaos-redis"), true);
        Map<String, String> env = Map.of(SluiceConfig.ENV_KAFKA, bootstrap, SluiceConfig.ENV_REDIS, redisServer.uri(),
                SluiceConfig.ENV_TOPIC_PREFIX, prefix, SluiceConfig.ENV_KEY_PREFIX, prefix);
        SluiceConfig sluice = SluiceConfig.fromEnvironment(env);
        TopicProvisioner.ensureSharedTopics(bootstrap, sluice.topics(), 8);

        Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newFixedThreadPool(16));
        server.createContext("/", exchange -> {
            calls.computeIfAbsent(exchange.getRequestURI().getPath().substring(1), k -> new AtomicInteger())
                    .incrementAndGet();
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        server.start();

        Map<String, QueueName> queues = new LinkedHashMap<>();
        Map<String, RateLimit> limits = new HashMap<>();
        try (RedisClient redis = RedisClient.create(URI.create(redisServer.uri()));
             org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(Map.of(
                     "bootstrap.servers", bootstrap))) {
            QueueRegistry registry = new QueueRegistry(redis, sluice.keys());
            TopicProvisioner provisioner = new TopicProvisioner(admin, sluice.topics(), (short) 1);
            for (int i = 0; i < loads.size(); i++) {
                QueueName queue = QueueName.generate();
                provisioner.ensureQueueTopic(queue);
                registry.create(queue, QueueSpec.of(RateLimit.parse(loads.get(i).limit())));
                queues.put("q" + i, queue);
                limits.put("q" + i, RateLimit.parse(loads.get(i).limit()));
            }
        }

        Map<String, Service> services = new LinkedHashMap<>();
        services.put("router", new Service("router", "dev.sluice.ingest.RouterMain", env));
        services.put("stats", new Service("stats", "dev.sluice.ingest.StatsMain", env));
        for (int g = 1; g <= 2; g++) {
            Map<String, String> gateEnv = new HashMap<>(env);
            gateEnv.put("SLUICE_GATE_ID", prefix + "-gate-" + g); // kept across restarts: a zombie is fenced
            services.put("gate-" + g, new Service("gate-" + g, "dev.sluice.gate.GateMain", gateEnv));
        }
        for (int w = 1; w <= 2; w++) {
            Map<String, String> workerEnv = new HashMap<>(env);
            workerEnv.put("SLUICE_WORKER_HANDLER", "http");
            workerEnv.put("SLUICE_HTTP_ALLOWED_HOSTS", "127.0.0.1"); // the server that counts the calls
            workerEnv.put("SLUICE_WORKER_CONCURRENCY", "8");
            services.put("worker-" + w, new Service("worker-" + w, "dev.sluice.worker.WorkerMain", workerEnv));
        }
        int produced = loads.stream().mapToInt(QueueLoad::tasks).sum();
        int kills = 0;
        try {
            for (Service service : services.values()) {
                service.start();
            }
            for (Service service : services.values()) {
                service.awaitStarted();
            }
            log.printf("chaos: %d services up; %d tasks to %d queues %s, a kill every %d s%n", services.size(),
                    produced, queues.size(), loads, killEvery.toSeconds());

            Thread producer = new Thread(() -> feed(sluice, loads, queues, server.getAddress().getPort(), feedFor),
                    "chaos-producer");
            producer.start();

            List<String> victims = new ArrayList<>(services.keySet());
            victims.add("redis-server");
            long deadline = System.nanoTime() + timeout.toNanos();
            long nextKill = System.nanoTime() + killEvery.toNanos();
            while (System.nanoTime() < deadline && !(producer.getState() == Thread.State.TERMINATED
                    && calls.size() >= produced)) {
                if (System.nanoTime() >= nextKill) {
                    String victim = victims.get(random.nextInt(victims.size()));
                    kills++;
                    log.printf("chaos: kill -9 %s (kill %d, %d of %d tasks called)%n", victim, kills, calls.size(),
                            produced);
                    if (victim.equals("redis-server")) {
                        killRedis(redisServer);
                    } else {
                        services.get(victim).kill();
                        Thread.sleep(1_000);
                        services.get(victim).start();
                    }
                    nextKill = System.nanoTime() + killEvery.toNanos();
                }
                Thread.sleep(100);
            }
            producer.join(10_000);
            // the kills stop here; copies of tasks sent back for new slots may still be on their way through
            // the limit: counted once no release has been added for a while
            awaitQuiet(sluice, Duration.ofSeconds(15), Duration.ofSeconds(180));
            return check(sluice, redisServer.uri(), queues, limits, produced, calls, kills);
        } finally {
            for (Service service : services.values()) {
                service.stop();
            }
            server.stop(0);
            redisServer.close();
        }
    }

    /** Submits each queue's tasks, spread evenly over {@code feedFor}, ids {@code <label>-<n>}. */
    private void feed(SluiceConfig sluice, List<QueueLoad> loads, Map<String, QueueName> queues, int port,
                      Duration feedFor) {
        try (TaskSubmitter submitter = new TaskSubmitter(sluice)) {
            int rounds = (int) Math.max(1, feedFor.toSeconds() * 2);
            for (int round = 0; round < rounds; round++) {
                for (int q = 0; q < loads.size(); q++) {
                    int tasks = loads.get(q).tasks();
                    for (int n = tasks * round / rounds; n < tasks * (round + 1) / rounds; n++) {
                        String id = "q" + q + "-" + n;
                        String payload = "{\"method\":\"POST\",\"url\":\"http://127.0.0.1:" + port + "/" + id + "\"}";
                        submitter.submit(queues.get("q" + q).value(), id, payload.getBytes(StandardCharsets.UTF_8));
                    }
                }
                submitter.flush();
                Thread.sleep(500);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void killRedis(RedisServerProcess redisServer) throws Exception {
        long pid = redisServer.pid();
        new ProcessBuilder("kill", "-KILL", String.valueOf(pid)).start().waitFor();
        ProcessHandle.of(pid).ifPresent(p -> p.onExit().join());
        Thread.sleep(1_000);
        redisServer.start(); // same port, same data: its append-only file has every write
    }

    private Result check(SluiceConfig sluice, String redisUri, Map<String, QueueName> queues, Map<String, RateLimit> limits,
                         int produced, Map<String, AtomicInteger> calls, int kills) throws Exception {
        Map<String, String> labelOf = new HashMap<>();
        queues.forEach((label, queue) -> labelOf.put(queue.value(), label));
        Map<String, List<Long>> times = new HashMap<>();
        Set<String> names = new HashSet<>();
        Set<String> ids = new HashSet<>();
        Map<String, Integer> records = new HashMap<>();
        int duplicates = 0;
        int resentTwice = 0;
        for (ConsumerRecord<byte[], byte[]> record : readReady(sluice)) {
            String label = labelOf.get(header(record, TaskHeaders.QUEUE));
            if (label == null) {
                continue;
            }
            String id = header(record, TaskHeaders.ID);
            String name = id + "|" + header(record, TaskHeaders.ATTEMPT) + "|" + header(record, TaskHeaders.REQUEUES);
            if (!names.add(name)) {
                // a first release is the gate's alone, exactly once; a requeued or retried task was written
                // back by a worker, outside of any transaction with its offsets: a worker killed after the
                // write and before its commit is followed by one that writes it back again
                boolean resent = header(record, TaskHeaders.REQUEUES) != null
                        || !"0".equals(header(record, TaskHeaders.ATTEMPT));
                if (resent) {
                    resentTwice++;
                } else {
                    duplicates++;
                }
                log.println("chaos: released twice: " + name + " at offset " + record.partition() + "@" + record.offset()
                        + (resent ? " (written back twice by workers)" : ""));
            }
            ids.add(id);
            records.merge(label, 1, Integer::sum);
            times.computeIfAbsent(label, l -> new ArrayList<>()).add(record.timestamp());
        }
        Map<String, String> windows = new LinkedHashMap<>();
        boolean held = true;
        for (Map.Entry<String, QueueName> entry : queues.entrySet()) {
            RateLimit limit = limits.get(entry.getKey());
            long[] at = times.getOrDefault(entry.getKey(), List.of()).stream().mapToLong(Long::longValue).toArray();
            int most = Windows.maxInAnyWindow(at, limit.period().toMillis());
            held &= most <= limit.permits();
            windows.put(entry.getKey(), String.format(Locale.ROOT, "%s, %d releases, most in any window of %d ms: %d"
                    + " (limit %d)%s", limit, at.length, limit.period().toMillis(), most, limit.permits(),
                    most <= limit.permits() ? "" : " EXCEEDED"));
        }
        // the statistics catch up: released in Redis, what the admin shows, against the records
        boolean statsMatch = false;
        String detail = "";
        try (RedisClient redis = RedisClient.create(URI.create(redisUri))) {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            do {
                statsMatch = true;
                StringBuilder text = new StringBuilder();
                for (Map.Entry<String, QueueName> entry : queues.entrySet()) {
                    Map<String, String> stats = redis.hgetAll(sluice.keys().stats(entry.getValue()));
                    long released = Long.parseLong(stats.getOrDefault("released", "0"));
                    int onReady = records.getOrDefault(entry.getKey(), 0);
                    statsMatch &= released == onReady;
                    text.append(String.format(Locale.ROOT, "%s released %d (records %d), completed %s, requeued %s; ",
                            entry.getKey(), released, onReady, stats.getOrDefault("completed", "0"),
                            stats.getOrDefault("requeued", "0")));
                }
                detail = text.toString().strip();
                if (!statsMatch) {
                    Thread.sleep(1_000);
                }
            } while (!statsMatch && System.nanoTime() < deadline);
        }
        int called = (int) calls.keySet().stream().filter(id -> ids.contains(id)).count();
        return new Result(produced, ids.size(), duplicates, resentTwice, produced - ids.size(), called, kills, windows,
                held, statsMatch, detail);
    }

    /** Waits until sluice.ready has had no new record for {@code quiet} (at most {@code atMost}). */
    private void awaitQuiet(SluiceConfig sluice, Duration quiet, Duration atMost) throws InterruptedException {
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            String topic = sluice.topics().ready();
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            long deadline = System.nanoTime() + atMost.toNanos();
            Map<TopicPartition, Long> last = consumer.endOffsets(partitions);
            long quietSince = System.nanoTime();
            while (System.nanoTime() < deadline && System.nanoTime() - quietSince < quiet.toNanos()) {
                Thread.sleep(500);
                Map<TopicPartition, Long> now = consumer.endOffsets(partitions);
                if (!now.equals(last)) {
                    last = now;
                    quietSince = System.nanoTime();
                }
            }
        }
    }

    private List<ConsumerRecord<byte[], byte[]>> readReady(SluiceConfig sluice) {
        List<ConsumerRecord<byte[], byte[]>> all = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            String topic = sluice.topics().ready();
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (System.nanoTime() < deadline && partitions.stream().anyMatch(p -> consumer.position(p) < ends.get(p))) {
                consumer.poll(Duration.ofMillis(200)).forEach(all::add);
            }
        }
        return all;
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null || header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    /** A service in a JVM of its own, started again as often as it is killed. */
    private static final class Service {
        private final String name;
        private final String mainClass;
        private final Map<String, String> env;
        private ChildJvm running;

        Service(String name, String mainClass, Map<String, String> env) {
            this.name = name;
            this.mainClass = mainClass;
            this.env = env;
        }

        void start() throws IOException {
            running = ChildJvm.start(name, mainClass, env, List.of("-Xmx256m", "-XX:+UseSerialGC"));
        }

        void awaitStarted() throws InterruptedException {
            running.awaitLine("started", Duration.ofSeconds(120));
        }

        void kill() throws InterruptedException {
            running.kill();
        }

        void stop() {
            if (running != null) {
                running.close();
            }
        }
    }

    /** {@code bench/run chaos [seconds]}: the long version, 600 s and a kill every 8 s by default. */
    public static void main(String[] args) throws Exception {
        long seconds = args.length > 0 ? Long.parseLong(args[0]) : 600;
        long seed = Long.getLong("chaos.seed", System.currentTimeMillis());
        System.out.println("chaos: seed " + seed + " (-Dchaos.seed to run the same kills again)");
        // sized to drain within the run: the slowest queue ends last
        double span = seconds * 0.8;
        List<QueueLoad> loads = List.of(new QueueLoad("20/1s", (int) (span * 20 * 0.9)),
                new QueueLoad("5/1s", (int) (span * 5 * 0.9)), new QueueLoad("3/2s", (int) (span * 1.5 * 0.9)));
        Result result = new ChaosRun(seed, System.out).run(loads, Duration.ofSeconds((long) (seconds * 0.6)),
                Duration.ofSeconds(8), Duration.ofSeconds(seconds + 120));
        result.print(System.out);
        System.exit(result.passed() ? 0 : 1);
    }
}
