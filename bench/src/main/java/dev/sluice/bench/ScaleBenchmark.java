package dev.sluice.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.core.SluiceConfig;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.Topics;
import dev.sluice.embedded.SharedServers;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
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

/**
 * Many live queues on one gate and one broker, as the original's one-queue-per-batch use makes them
 * ({@code bench/run scale}; issue 16): the admin service and the gate each in a process of their own,
 * on the embedded broker and a redis-server. Queues are created through the admin API at mixed limits
 * (100/1s to 1/60s), each given a few tasks; at 1,000 queues and again at the full count it prints
 * the API's listing latencies, the gate's heap after a full GC and its CPU per released task; at the
 * full count, a 50/1s probe queue's release spacing, and how long a rate change, a pause and a removal
 * of one queue among them take to show in the releases. {@code -Dscale.queues=N} (default 10,000),
 * {@code -Dscale.tasks=N} tasks per queue (default 3).
 */
public final class ScaleBenchmark {

    private static final int QUEUES = Integer.getInteger("scale.queues", 10_000);
    private static final int TASKS = Integer.getInteger("scale.tasks", 3);
    private static final int CLIENTS = 8;
    private static final int FIRST_MARK = Math.min(1_000, QUEUES);
    private static final List<String> LIMITS = List.of("100/1s", "50/1s", "10/1s", "1/1s", "1/10s", "1/60s");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String bootstrap = SharedServers.kafkaBootstrapServers();
    private final String redisUri = SharedServers.redisUri();
    private final String prefix = "scale" + UUID.randomUUID().toString().substring(0, 6);
    private final Topics topics = new Topics(prefix);
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final AtomicReference<Exception> sendFailure = new AtomicReference<>();
    private String admin;

    private ScaleBenchmark() {
    }

    public static void main(String[] args) {
        try {
            new ScaleBenchmark().run();
            System.exit(0);
        } catch (Throwable e) {
            e.printStackTrace();
            System.exit(1); // the embedded broker's threads would keep the JVM alive
        }
    }

    private void run() throws Exception {
        System.out.printf("Scale benchmark: %d queues, %d tasks each, on the embedded broker (%s) and redis-server (%s);"
                + " %d cores%n", QUEUES, TASKS, bootstrap, redisUri, Runtime.getRuntime().availableProcessors());
        Map<String, String> env = Map.of(SluiceConfig.ENV_KAFKA, bootstrap, SluiceConfig.ENV_REDIS, redisUri,
                SluiceConfig.ENV_TOPIC_PREFIX, prefix, SluiceConfig.ENV_KEY_PREFIX, prefix);
        try (Admin kafka = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                     ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.LINGER_MS_CONFIG, 10,
                     ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1),
                     new ByteArraySerializer(), new ByteArraySerializer())) {
            dev.sluice.core.kafka.TopicProvisioner.ensureSharedTopics(bootstrap, topics, 8);
            baselineTopicCreation(kafka);

            int port = dev.sluice.embedded.RedisServerProcess.freePort();
            admin = "http://127.0.0.1:" + port;
            Map<String, String> adminEnv = new HashMap<>(env);
            adminEnv.putAll(Map.of("SLUICE_ADMIN_PORT", String.valueOf(port), "SLUICE_REAPER_ENABLED", "false",
                    "SLUICE_JANITOR_ENABLED", "false"));
            try (ChildJvm adminJvm = ChildJvm.start("admin", "dev.sluice.admin.AdminApplication", adminEnv,
                         List.of("-Xmx1g"));
                 ReleaseReader releases = new ReleaseReader(topics.ready())) {
                awaitHealthy(adminJvm);
                List<String> names = new ArrayList<>();
                long[] firstLatencies = create(names, FIRST_MARK, producer);
                report("queue creation through the API, first " + FIRST_MARK, firstLatencies);
                ChildJvm gate = ChildJvm.start("gate", "dev.sluice.gate.GateMain", withGateId(env), List.of("-Xmx1g"));
                try {
                    gate.awaitLine("started (Kafka", Duration.ofSeconds(60));
                    atMark(FIRST_MARK, gate, releases);
                    if (QUEUES > FIRST_MARK) {
                        long[] rest = create(names, QUEUES - FIRST_MARK, producer);
                        report("queue creation through the API, the next " + (QUEUES - FIRST_MARK) + " (a gate running)",
                                rest);
                        atMark(QUEUES, gate, releases);
                    }
                    probe(producer, releases);
                } finally {
                    gate.close();
                }
            }
        }
    }

    /** A bare topic per request, as many at once as the API's clients: what queue creation builds on. */
    private void baselineTopicCreation(Admin kafka) throws Exception {
        int count = Math.min(500, QUEUES);
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        long[] latencies = new long[count];
        AtomicInteger next = new AtomicInteger();
        long started = System.nanoTime();
        List<Future<?>> done = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            done.add(clients.submit(() -> {
                for (int i; (i = next.getAndIncrement()) < count; ) {
                    long t0 = System.nanoTime();
                    kafka.createTopics(List.of(new NewTopic(prefix + ".baseline-" + i, 1, (short) 1))).all()
                            .get(60, TimeUnit.SECONDS);
                    latencies[i] = System.nanoTime() - t0;
                }
                return null;
            }));
        }
        for (Future<?> each : done) {
            each.get();
        }
        clients.shutdown();
        report("baseline: bare topics through Kafka's Admin (" + count + ", " + CLIENTS + " at once)", latencies,
                System.nanoTime() - started);
    }

    private long[] create(List<String> names, int count, KafkaProducer<byte[], byte[]> producer) throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        long[] latencies = new long[count];
        int base = names.size();
        String[] made = new String[count];
        AtomicInteger next = new AtomicInteger();
        long started = System.nanoTime();
        List<Future<?>> done = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            done.add(clients.submit(() -> {
                for (int i; (i = next.getAndIncrement()) < count; ) {
                    String limit = LIMITS.get((base + i) % LIMITS.size());
                    long t0 = System.nanoTime();
                    JsonNode queue = call("POST", "/queues", "{\"rateLimit\":\"" + limit + "\"}", 201);
                    latencies[i] = System.nanoTime() - t0;
                    made[i] = queue.path("name").asText();
                }
                return null;
            }));
        }
        for (Future<?> each : done) {
            each.get();
        }
        clients.shutdown();
        long took = System.nanoTime() - started;
        for (String name : made) {
            names.add(name);
            for (int t = 0; t < TASKS; t++) {
                send(producer, name, name + "-" + t);
            }
        }
        producer.flush();
        if (sendFailure.get() != null) {
            throw new IllegalStateException("the benchmark's producer lost tasks", sendFailure.get());
        }
        System.out.printf(Locale.ROOT, "    %d queues in %.1f s%n", count, took / 1e9);
        return latencies;
    }

    /** Figures with {@code queues} live: listing latencies, the gate's heap and CPU per release. */
    private void atMark(int queues, ChildJvm gate, ReleaseReader releases) throws Exception {
        System.out.printf("with %d queues:%n", queues);
        // every queue's first task is released at once (full buckets): the gate's work for one each
        long cpuBefore = cpuNanos(gate.pid());
        int releasedBefore = releases.total();
        int firstOfEach = queues; // at least one per queue, at once
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (releases.queuesSeen() < queues && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        long cpu = cpuNanos(gate.pid()) - cpuBefore;
        int released = releases.total() - releasedBefore;
        System.out.printf(Locale.ROOT, "    gate: %d of %d queues released their first task; %d releases, %.0f µs of"
                + " gate CPU per release (the whole process, idle time included)%n", releases.queuesSeen(), firstOfEach,
                released, released == 0 ? 0 : cpu / 1e3 / released);
        System.out.println("    gate process heap: " + heap(gate.pid()));
        timeGet("GET /queues (all)", "/queues", 3);
        timeGet("GET /queues?limit=50 (by name)", "/queues?limit=50", 5);
        timeGet("GET /queues?sort=backlog&limit=50 (busiest first: the monitor, the CLI)", "/queues?sort=backlog&limit=50", 5);
        timeGet("GET /queues?sort=backlog&limit=100 (the dashboard)", "/queues?sort=backlog&limit=100", 5);
        timeOverview();
    }

    /** A 50/1s queue among the others: its spacing; then a rate change, a pause and a removal. */
    private void probe(KafkaProducer<byte[], byte[]> producer, ReleaseReader releases) throws Exception {
        String probe = call("POST", "/queues", "{\"rateLimit\":\"50/1s\"}", 201).path("name").asText();
        String doomed = call("POST", "/queues", "{\"rateLimit\":\"50/1s\"}", 201).path("name").asText();
        for (int i = 0; i < 1_500; i++) {
            send(producer, probe, probe + "-" + i);
            send(producer, doomed, doomed + "-" + i);
        }
        producer.flush();
        Thread.sleep(6_000); // a steady stretch of releases
        long[] steady = releases.timestamps(probe);
        System.out.printf("probe 50/1s queue among %d: %s%n", QUEUES, spacing(steady));

        long changedAt = System.currentTimeMillis();
        call("PATCH", "/queues/" + probe, "{\"rateLimit\":\"5/1s\"}", 200);
        Thread.sleep(3_000);
        long lastFast = lastGapUnder(releases.timestamps(probe), changedAt, 100);
        System.out.printf(Locale.ROOT, "    rate change 50/1s -> 5/1s: the last release at the old spacing %s%n",
                lastFast < 0 ? "came before the change answered" : "came " + (lastFast - changedAt) + " ms after it answered");

        if (steady.length == 0) {
            System.out.println("    the gate released nothing of the probe: no rate change, pause or removal to time");
            return;
        }
        long pausedAt = System.currentTimeMillis();
        call("POST", "/queues/" + probe + "/deactivate", "", 200);
        Thread.sleep(3_000);
        long lastPaused = last(releases.timestamps(probe));
        System.out.printf(Locale.ROOT, "    pause: the last release %d ms after the pause answered%n", lastPaused - pausedAt);

        long removedAt = System.currentTimeMillis();
        call("DELETE", "/queues/" + doomed, null, 204);
        Thread.sleep(3_000);
        long lastRemoved = last(releases.timestamps(doomed));
        System.out.printf(Locale.ROOT, "    removal of another 50/1s queue with a backlog: its last release %d ms after the"
                + " removal answered%n", lastRemoved - removedAt);
    }

    private static String spacing(long[] times) {
        if (times.length < 3) {
            return "too few releases (" + times.length + ")";
        }
        long[] gaps = new long[times.length - 1];
        for (int i = 1; i < times.length; i++) {
            gaps[i - 1] = times[i] - times[i - 1];
        }
        Arrays.sort(gaps);
        return String.format(Locale.ROOT, "%d releases, gaps p1/p50/p99 %d/%d/%d ms (ideal 20), most in any 1 s %d",
                times.length, gaps[(int) (gaps.length * 0.01)], gaps[gaps.length / 2],
                gaps[Math.min(gaps.length - 1, (int) (gaps.length * 0.99))],
                dev.sluice.core.Windows.maxInAnyWindow(times, 1000));
    }

    /** The last release after {@code from} that came within {@code under} ms of the one before, or -1. */
    private static long lastGapUnder(long[] times, long from, long under) {
        long found = -1;
        for (int i = 1; i < times.length; i++) {
            if (times[i] >= from && times[i] - times[i - 1] < under) {
                found = times[i];
            }
        }
        return found;
    }

    private static long last(long[] times) {
        return times.length == 0 ? 0 : times[times.length - 1];
    }

    private void timeGet(String what, String path, int times) throws Exception {
        long[] took = new long[times];
        int size = 0;
        for (int i = 0; i < times; i++) {
            long t0 = System.nanoTime();
            HttpResponse<String> response = http.send(request("GET", path, null).build(),
                    HttpResponse.BodyHandlers.ofString());
            took[i] = System.nanoTime() - t0;
            size = response.body().length();
            if (response.statusCode() != 200) {
                throw new IllegalStateException(path + " answered " + response.statusCode() + ": " + response.body());
            }
        }
        Arrays.sort(took);
        System.out.printf(Locale.ROOT, "    %-75s median %6.0f ms of %d (%,d bytes)%n", what, took[times / 2] / 1e6, times,
                size);
    }

    /** {@code /overview} read afresh each time (it reuses its sums for 2 s). */
    private void timeOverview() throws Exception {
        long[] took = new long[3];
        for (int i = 0; i < took.length; i++) {
            Thread.sleep(2_100);
            long t0 = System.nanoTime();
            call("GET", "/overview", null, 200);
            took[i] = System.nanoTime() - t0;
        }
        Arrays.sort(took);
        System.out.printf(Locale.ROOT, "    %-75s median %6.0f ms of 3%n", "GET /overview (its sums read afresh)",
                took[1] / 1e6);
    }

    private HttpRequest.Builder request(String method, String path, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(admin + path)).timeout(Duration.ofSeconds(120))
                .header("Accept", "application/json");
        if (body == null) {
            return request.method(method, HttpRequest.BodyPublishers.noBody());
        }
        return request.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
    }

    private JsonNode call(String method, String path, String body, int expected) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(request(method, path, body).build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != expected) {
            throw new IllegalStateException(method + " " + path + " answered " + response.statusCode() + ": "
                    + response.body());
        }
        return response.body().isBlank() ? JSON.nullNode() : JSON.readTree(response.body());
    }

    private void awaitHealthy(ChildJvm adminJvm) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (http.send(request("GET", "/health", null).build(), HttpResponse.BodyHandlers.ofString())
                        .statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // starting
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("the admin service did not start:\n" + adminJvm.output());
    }

    private void send(KafkaProducer<byte[], byte[]> producer, String queue, String id) {
        ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topics.queue(dev.sluice.core.QueueName.of(queue)),
                null, "{}".getBytes(StandardCharsets.UTF_8));
        record.headers().add(TaskHeaders.ID, id.getBytes(StandardCharsets.UTF_8));
        record.headers().add(TaskHeaders.QUEUE, queue.getBytes(StandardCharsets.UTF_8));
        producer.send(record, (metadata, error) -> {
            if (error != null) {
                sendFailure.compareAndSet(null, error);
            }
        });
    }

    private static Map<String, String> withGateId(Map<String, String> env) {
        Map<String, String> gateEnv = new HashMap<>(env);
        gateEnv.put("SLUICE_GATE_ID", "scale");
        return gateEnv;
    }

    private static void report(String what, long[] latencies) {
        report(what, latencies, -1);
    }

    private static void report(String what, long[] latencies, long tookNanos) {
        long[] sorted = latencies.clone();
        Arrays.sort(sorted);
        String rate = tookNanos > 0 ? String.format(Locale.ROOT, "%.0f/s, ", sorted.length / (tookNanos / 1e9)) : "";
        System.out.printf(Locale.ROOT, "%s: %sp50 %.1f ms, p99 %.1f ms%n", what, rate, sorted[sorted.length / 2] / 1e6,
                sorted[Math.min(sorted.length - 1, (int) (sorted.length * 0.99))] / 1e6);
    }

    /** The process's CPU time so far (user + system), from /proc. */
    private static long cpuNanos(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime
        return ticks * 10_000_000L; // USER_HZ = 100
    }

    private static String heap(long pid) {
        try {
            String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
            new ProcessBuilder(jcmd, String.valueOf(pid), "GC.run").start().waitFor(30, TimeUnit.SECONDS);
            Process info = new ProcessBuilder(jcmd, String.valueOf(pid), "GC.heap_info").redirectErrorStream(true).start();
            String text = new String(info.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            java.util.regex.Matcher used = java.util.regex.Pattern.compile("total (\\d+)K, used (\\d+)K").matcher(text);
            return used.find() ? String.format(Locale.ROOT, "%.1f MB used after a full GC (of %.0f MB committed)",
                    Long.parseLong(used.group(2)) / 1024.0, Long.parseLong(used.group(1)) / 1024.0)
                    : "unknown (" + text.strip() + ")";
        } catch (IOException | InterruptedException e) {
            return "unknown (" + e + ")";
        }
    }

    /** Reads sluice.ready (read_committed) on a thread of its own: release times per queue. */
    private final class ReleaseReader implements AutoCloseable {
        private final KafkaConsumer<byte[], byte[]> consumer;
        private final Map<String, List<Long>> byQueue = new ConcurrentHashMap<>();
        private final AtomicInteger total = new AtomicInteger();
        private final Thread thread;
        private volatile boolean running = true;

        ReleaseReader(String topic) {
            consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                    ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 10),
                    new ByteArrayDeserializer(), new ByteArrayDeserializer());
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            thread = new Thread(this::read, "release-reader");
            thread.start();
        }

        private void read() {
            while (running) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(50))) {
                    var header = record.headers().lastHeader(TaskHeaders.QUEUE);
                    String queue = header == null ? "" : new String(header.value(), StandardCharsets.UTF_8);
                    List<Long> times = byQueue.computeIfAbsent(queue, q -> java.util.Collections.synchronizedList(new ArrayList<>()));
                    times.add(record.timestamp());
                    total.incrementAndGet();
                }
            }
            consumer.close();
        }

        int total() {
            return total.get();
        }

        int queuesSeen() {
            return byQueue.size();
        }

        long[] timestamps(String queue) {
            List<Long> times = byQueue.getOrDefault(queue, List.of());
            synchronized (times) {
                return times.stream().mapToLong(Long::longValue).sorted().toArray();
            }
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.join(5_000);
        }
    }
}
