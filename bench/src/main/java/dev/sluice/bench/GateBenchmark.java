package dev.sluice.bench;

import dev.sluice.core.QueueName;
import dev.sluice.core.QueueSpec;
import dev.sluice.core.RateLimit;
import dev.sluice.core.SluiceConfig;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.Topics;
import dev.sluice.core.kafka.TopicProvisioner;
import dev.sluice.core.redis.QueueRegistry;
import dev.sluice.embedded.SharedServers;
import java.io.IOException;
import java.net.URI;
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
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import redis.clients.jedis.RedisClient;

/**
 * The gate on the embedded broker, run as its own process ({@code GateMain}) as in production:
 * <ol>
 *   <li>(a) baseline: a transactional consume-and-produce copy of the same records with no rate
 *       limiting, same consumer and producer settings as the gate;</li>
 *   <li>(b) the gate across 1,000 queues whose limits are far above the offered load;</li>
 *   <li>(c) one queue at 20,000/1s with a backlog of 60,000;</li>
 *   <li>a 50/1s queue: lateness of each start slot against the ideal schedule, and how long before its
 *       slot each task was visible to a read_committed consumer (a worker);</li>
 *   <li>a 50/1s queue through a worker with the {@code http} handler, measured where the calls arrive
 *       ({@link HandlerRun}).</li>
 * </ol>
 * Prints records/s, the ratio b/a, Redis calls per released task, lateness percentiles, the limit at
 * the handler and the gate process's heap.
 */
public final class GateBenchmark {

    private static final int QUEUES = 1000;
    /** Tasks per queue in (a) and (b); {@code -Dgate.perQueue=N} to change (longer runs are steadier). */
    private static final int PER_QUEUE = Integer.getInteger("gate.perQueue", 300);
    /** Records let through before timing starts, in (a) and (b) alike: a fresh JVM is slow at first. */
    private static final int WARM_UP = 20_000;
    private static final byte[] PAYLOAD = new byte[200];

    private final String bootstrap = SharedServers.kafkaBootstrapServers();
    private final String redisUri = SharedServers.redisUri();
    private final String prefix = "bench" + UUID.randomUUID().toString().substring(0, 6);
    private final java.util.concurrent.atomic.AtomicReference<Exception> sendFailure =
            new java.util.concurrent.atomic.AtomicReference<>();
    private final Topics topics = new Topics(prefix);
    private final SluiceConfig sluice = SluiceConfig.fromEnvironment(Map.of(
            SluiceConfig.ENV_KAFKA, bootstrap, SluiceConfig.ENV_REDIS, redisUri,
            SluiceConfig.ENV_TOPIC_PREFIX, prefix, SluiceConfig.ENV_KEY_PREFIX, prefix));

    private GateBenchmark() {
    }

    public static void main(String[] args) {
        try {
            new GateBenchmark().run();
            System.exit(0);
        } catch (Throwable e) {
            e.printStackTrace();
            System.exit(1); // the embedded broker's threads would keep the JVM alive
        }
    }

    private void run() throws Exception {
        System.out.printf("Gate benchmark on the embedded broker (%s) and redis-server (%s); %d cores%n",
                bootstrap, redisUri, Runtime.getRuntime().availableProcessors());
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
             RedisClient redis = RedisClient.create(URI.create(redisUri));
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                     ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.LINGER_MS_CONFIG, 10,
                     ProducerConfig.BATCH_SIZE_CONFIG, 65536,
                     // one request in flight per connection: with more, a first batch to a topic created a
                     // moment ago failed once and was then refused as out of order behind the batch after
                     // it, losing its records (seen once: 406 of 300,000)
                     ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1),
                     new ByteArraySerializer(), new ByteArraySerializer())) {
            TopicProvisioner provisioner = new TopicProvisioner(admin, topics, (short) 1);
            provisioner.ensureSharedTopics(8);
            QueueRegistry registry = new QueueRegistry(redis, sluice.keys());

            List<QueueName> queues = new ArrayList<>();
            List<NewTopic> newTopics = new ArrayList<>();
            for (int i = 0; i < QUEUES; i++) {
                QueueName queue = QueueName.generate();
                queues.add(queue);
                newTopics.add(new NewTopic(topics.queue(queue), 1, (short) 1));
            }
            admin.createTopics(newTopics).all().get(300, TimeUnit.SECONDS);
            for (QueueName queue : queues) {
                produce(producer, queue, PER_QUEUE);
            }
            checkSent(producer);
            int total = QUEUES * PER_QUEUE;

            String pipeOut = prefix + ".pipe-out";
            admin.createTopics(List.of(new NewTopic(pipeOut, 8, (short) 1))).all().get(60, TimeUnit.SECONDS);
            double[] pipe = rawPipe(queues, pipeOut, total);
            double pipeRate = pipe[0];
            System.out.printf(Locale.ROOT, "(a) raw transactional pipe (own process), %d records over %d topics: %.0f records/s"
                    + " read downstream (timed after the first %d; %.0f/s between the pipe's own commits)%n",
                    total, QUEUES, pipeRate, WARM_UP, pipe[1]);

            long callsBefore = evalshaCalls(redis);
            try (ReadyCounter ready = new ReadyCounter(topics.ready())) {
                for (QueueName queue : queues) {
                    registry.create(queue, QueueSpec.of(RateLimit.parse("1000000/1s")));
                }
                Process gate = startGate();
                try {
                    double gateRate = ready.throughput(total, Duration.ofMinutes(5));
                    long calls = evalshaCalls(redis) - callsBefore;
                    System.out.printf(Locale.ROOT, "(b) gate, same records, limits far above the load: %.0f records/s (timed likewise)"
                            + " (b/a = %.2f), %.3f Redis calls per released task%n",
                            gateRate, gateRate / pipeRate, (double) calls / total);
                    System.out.printf(Locale.ROOT, "    %.3f records on the events topic per released task (released events,"
                            + " one per queue and second, and the markers of the transactions carrying them)%n",
                            (double) eventRecords(admin) / total);
                    System.out.println("    gate process heap after (b), 1000 queues held: " + heap(gate));

                    QueueName fast = QueueName.generate();
                    provisioner.ensureQueueTopic(fast);
                    produce(producer, fast, 60_000);
                    checkSent(producer);
                    callsBefore = evalshaCalls(redis);
                    registry.create(fast, QueueSpec.of(RateLimit.parse("20000/1s")));
                    long[] fastTimes = ready.timestampsOf(fast, 60_000, Duration.ofMinutes(2));
                    calls = evalshaCalls(redis) - callsBefore;
                    double achieved = (fastTimes.length - 1) * 1000.0 / (fastTimes[fastTimes.length - 1] - fastTimes[0]);
                    System.out.printf(Locale.ROOT, "(c) one queue at 20000/1s, 60000 tasks: %.0f records/s released,"
                            + " max %d in any 1 s window, %.4f Redis calls per released task%n", achieved,
                            dev.sluice.core.Windows.maxInAnyWindow(fastTimes, 1000), (double) calls / fastTimes.length);

                    QueueName steady = QueueName.generate();
                    provisioner.ensureQueueTopic(steady);
                    produce(producer, steady, 500);
                    checkSent(producer);
                    registry.create(steady, QueueSpec.of(RateLimit.parse("50/1s")));
                    long[][] seen = ready.timestampsAndArrivals(steady, 500, Duration.ofMinutes(1));
                    lateness(seen[0], seen[1]);
                    System.out.println("    gate process heap at the end: " + heap(gate));
                } finally {
                    gate.destroy();
                    gate.waitFor(30, TimeUnit.SECONDS);
                }
            }
        }
        try (HandlerRun handler = new HandlerRun(bootstrap, redisUri)) {
            HandlerRun.Measured calls = handler.run(new HandlerRun.Case("50/1s", 500, 1, false, true),
                    Duration.ofMinutes(2));
            System.out.println("50/1s queue at the handler (a gate and a worker with the http handler, each in its own"
                    + " process, calling a server that notes when each call arrives):");
            System.out.println("    at the server:    " + calls.atArrival().summary());
            System.out.println("    at handler start: " + calls.atStart().summary());
        }
    }

    private void produce(KafkaProducer<byte[], byte[]> producer, QueueName queue, int count) {
        for (int i = 0; i < count; i++) {
            ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topics.queue(queue), null, PAYLOAD);
            record.headers().add(TaskHeaders.ID, (queue.value() + "-" + i).getBytes(StandardCharsets.UTF_8));
            record.headers().add(TaskHeaders.QUEUE, queue.value().getBytes(StandardCharsets.UTF_8));
            producer.send(record, (metadata, error) -> {
                if (error != null) {
                    sendFailure.compareAndSet(null, error);
                }
            });
        }
    }

    /** Fails the run if the benchmark's own producer lost a record: the figures would be of fewer. */
    private void checkSent(KafkaProducer<byte[], byte[]> producer) {
        producer.flush();
        Exception failure = sendFailure.get();
        if (failure != null) {
            throw new IllegalStateException("the benchmark's producer lost records: " + failure, failure);
        }
    }

    /**
     * (a), in a process of its own like the gate, so both share the machine with the broker alike:
     * {@link RawPipe} reads committed and copies in one transaction per poll with the consumed offsets.
     * Timed as (b) is: by a read_committed consumer in this process reading what the pipe writes, so
     * both runs carry the same downstream reader and are measured at the same point. Also returns the
     * rate the pipe measured itself, between its own commits.
     */
    private double[] rawPipe(List<QueueName> queues, String out, int total) throws IOException, InterruptedException {
        // the topics by name: a pattern subscription may first see only some of 1,000 new topics
        Path topicList = Files.createTempFile("sluice-pipe-topics", ".txt");
        Files.write(topicList, queues.stream().map(topics::queue).toList());
        Path log = Files.createTempFile("sluice-pipe", ".log");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", System.getProperty("java.class.path"), RawPipe.class.getName(),
                bootstrap, prefix, topicList.toString(), out, String.valueOf(total), String.valueOf(WARM_UP)));
        double seen;
        Process pipe;
        try (ReadyCounter reader = new ReadyCounter(out)) {
            pipe = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            seen = reader.throughput(total, Duration.ofMinutes(5));
        }
        if (!pipe.waitFor(6, TimeUnit.MINUTES) || pipe.exitValue() != 0) {
            throw new IllegalStateException("the raw pipe failed: " + Files.readString(log));
        }
        String output = Files.readString(log);
        Matcher rate = Pattern.compile("(?m)^records/s ([0-9.]+)$").matcher(output);
        if (!rate.find()) {
            throw new IllegalStateException("the raw pipe printed no rate: " + output);
        }
        return new double[] {seen, Double.parseDouble(rate.group(1))};
    }

    /** Records on the events topic so far (end offsets; its transaction markers included, one per transaction). */
    private long eventRecords(Admin admin) throws Exception {
        Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> ends = new HashMap<>();
        for (var partition : admin.describeTopics(List.of(topics.events())).allTopicNames().get().get(topics.events())
                .partitions()) {
            ends.put(new org.apache.kafka.common.TopicPartition(topics.events(), partition.partition()),
                    org.apache.kafka.clients.admin.OffsetSpec.latest());
        }
        long total = 0;
        for (var result : admin.listOffsets(ends).all().get().values()) {
            total += result.offset();
        }
        return total;
    }

    private Process startGate() throws IOException {
        String classpath = System.getProperty("java.class.path");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", classpath));
        String logging = System.getProperty("gate.logback");
        if (logging != null) {
            command.add("-Dlogback.configurationFile=" + logging); // e.g. to see the gate's steps at DEBUG
        }
        String jvmArgs = System.getProperty("gate.jvmArgs");
        if (jvmArgs != null) {
            command.addAll(List.of(jvmArgs.trim().split("\\s+"))); // e.g. a flight recording of the gate alone
        }
        command.add("dev.sluice.gate.GateMain");
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(Path.of("bench", "target", "gate-benchmark.log").toFile()));
        builder.environment().put(SluiceConfig.ENV_KAFKA, bootstrap);
        builder.environment().put(SluiceConfig.ENV_REDIS, redisUri);
        builder.environment().put(SluiceConfig.ENV_TOPIC_PREFIX, prefix);
        builder.environment().put(SluiceConfig.ENV_KEY_PREFIX, prefix);
        builder.environment().put("SLUICE_GATE_ID", "bench");
        return builder.start();
    }

    private static String heap(Process process) {
        try {
            String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
            new ProcessBuilder(jcmd, String.valueOf(process.pid()), "GC.run").start().waitFor(30, TimeUnit.SECONDS);
            Process info = new ProcessBuilder(jcmd, String.valueOf(process.pid()), "GC.heap_info")
                    .redirectErrorStream(true).start();
            String text = new String(info.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            Matcher used = Pattern.compile("total (\\d+)K, used (\\d+)K").matcher(text);
            return used.find() ? String.format(Locale.ROOT, "%.1f MB used after a full GC (of %.0f MB committed)",
                    Long.parseLong(used.group(2)) / 1024.0, Long.parseLong(used.group(1)) / 1024.0)
                    : "unknown (" + text.strip() + ")";
        } catch (IOException | InterruptedException e) {
            return "unknown (" + e + ")";
        }
    }

    private static long evalshaCalls(RedisClient redis) {
        return redis.info("commandstats").lines().filter(l -> l.startsWith("cmdstat_evalsha:")).findFirst()
                .map(l -> Long.parseLong(l.substring(l.indexOf("calls=") + 6, l.indexOf(','))))
                .orElse(0L);
    }

    /** The 50/1s queue: one slot per 20.2 ms on the guarded schedule (ADR 0005). */
    private static final double STEADY_INTERVAL_MILLIS = 20.2;

    private static void lateness(long[] timestamps, long[] arrivals) {
        long[] slotLate = new long[timestamps.length];
        long[] visibleAhead = new long[timestamps.length];
        for (int k = 0; k < timestamps.length; k++) {
            long ideal = timestamps[0] + (long) Math.floor(k * STEADY_INTERVAL_MILLIS);
            slotLate[k] = timestamps[k] - ideal;
            visibleAhead[k] = timestamps[k] - arrivals[k];
        }
        long[] gapError = new long[timestamps.length - 1];
        int firstLate = -1;
        for (int k = 1; k < timestamps.length; k++) {
            // timestamps are whole milliseconds: 20.2 ms apart reads as 20 or 21
            long expected = (long) Math.floor(k * STEADY_INTERVAL_MILLIS) - (long) Math.floor((k - 1) * STEADY_INTERVAL_MILLIS);
            gapError[k - 1] = Math.abs(timestamps[k] - timestamps[k - 1] - expected);
            if (firstLate < 0 && gapError[k - 1] > 1) {
                firstLate = k;
            }
        }
        if (firstLate > 0) { // a strict schedule cannot catch up: one late token shifts all that follow
            System.out.printf(Locale.ROOT, "    slot %d came %d ms after the one before it (20.2 ms expected)%n",
                    firstLate, timestamps[firstLate] - timestamps[firstLate - 1]);
        }
        Arrays.sort(slotLate);
        Arrays.sort(visibleAhead);
        Arrays.sort(gapError);
        System.out.printf(Locale.ROOT, "50/1s queue, %d start slots against the ideal schedule (first + k x 20.2 ms):%n"
                        + "    slot (timestamp) lateness p50 %d ms, p99 %d ms, max %d ms%n"
                        + "    visible to a read_committed consumer before its slot by: p1 %d ms, p50 %d ms, least %d ms"
                        + " (the worker starts it at the slot; under 0 it would arrive late and go back)%n"
                        + "    gap to the previous slot, distance from 20.2 ms: p50 %d ms, p99 %d ms, max %d ms%n",
                timestamps.length, pct(slotLate, 50), pct(slotLate, 99), slotLate[slotLate.length - 1],
                pct(visibleAhead, 1), pct(visibleAhead, 50), visibleAhead[0],
                pct(gapError, 50), pct(gapError, 99), gapError[gapError.length - 1]);
    }

    private static long pct(long[] sorted, int p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }

    /** Reads a topic (read_committed) from its end and keeps, per record, its timestamp and arrival time. */
    private final class ReadyCounter implements AutoCloseable {
        private final KafkaConsumer<byte[], byte[]> consumer;
        private final Map<String, List<long[]>> byQueue = new HashMap<>();
        private int count;

        ReadyCounter(String topic) {
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

        private void pollOnce() {
            for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(20))) {
                long arrived = System.currentTimeMillis();
                var header = record.headers().lastHeader(TaskHeaders.QUEUE);
                String queue = header == null ? "" : new String(header.value(), StandardCharsets.UTF_8);
                byQueue.computeIfAbsent(queue, q -> new ArrayList<>()).add(new long[] {record.timestamp(), arrived});
                count++;
            }
        }

        /** Records/s from the {@link #WARM_UP}th to the last of {@code total} records. */
        double throughput(int total, Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            long first = 0;
            int timedFrom = 0;
            long last = 0;
            while (count < total && System.nanoTime() < deadline) {
                int before = count;
                pollOnce();
                if (first == 0 && count >= WARM_UP) {
                    first = System.nanoTime();
                    timedFrom = count;
                }
                if (count > before) {
                    last = System.nanoTime();
                }
            }
            return (count - timedFrom) * 1e9 / (last - first);
        }

        long[] timestampsOf(QueueName queue, int expected, Duration timeout) {
            return timestampsAndArrivals(queue, expected, timeout)[0];
        }

        long[][] timestampsAndArrivals(QueueName queue, int expected, Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (byQueue.getOrDefault(queue.value(), List.of()).size() < expected && System.nanoTime() < deadline) {
                pollOnce();
            }
            List<long[]> seen = new ArrayList<>(byQueue.getOrDefault(queue.value(), List.of()));
            seen.sort((x, y) -> Long.compare(x[0], y[0]));
            long[][] result = new long[2][seen.size()];
            for (int i = 0; i < seen.size(); i++) {
                result[0][i] = seen.get(i)[0];
                result[1][i] = seen.get(i)[1];
            }
            return result;
        }

        @Override
        public void close() {
            consumer.close();
        }
    }
}
