package dev.sluice.bench;

import dev.sluice.core.QueueName;
import dev.sluice.core.SluiceConfig;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.kafka.TopicProvisioner;
import dev.sluice.embedded.SharedServers;
import dev.sluice.worker.Worker;
import dev.sluice.worker.WorkerConfig;
import dev.sluice.worker.api.Task;
import dev.sluice.worker.api.TaskHandler;
import dev.sluice.worker.api.TaskResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Tasks per second through the worker (no-op handler, commit after completion, events written)
 * against a plain consumer with auto-commit over the same records, in the same run, both timed after
 * the first 20,000 records. Printed beside it for reference: (a') a consumer that commits after each
 * poll, and (aN) the plain consumer held to the worker's prefetch bound of N records per poll. The
 * worker's peer, (p) Confluent's parallel-consumer (UNORDERED, no-op handler), runs on the same records
 * in the same run; (r) the crash scenario of issue 14 for both, each in a process killed with SIGKILL
 * ({@code -Dworker.replay=false} leaves it out).
 */
public final class WorkerBenchmark {

    /** {@code -Dworker.records=N} to change it (a longer run for profiling). */
    private static final int RECORDS = Integer.getInteger("worker.records", 300_000);
    private static final int WARM_UP = 20_000;
    /** Kafka's default max.poll.records. */
    private static final int DEFAULT_MAX_POLL_RECORDS = 500;

    private WorkerBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        String prefix = "wbench" + UUID.randomUUID().toString().substring(0, 6);
        SluiceConfig sluice = SluiceConfig.fromEnvironment(Map.of(
                SluiceConfig.ENV_KAFKA, SharedServers.kafkaBootstrapServers(),
                SluiceConfig.ENV_REDIS, SharedServers.redisUri(),
                SluiceConfig.ENV_TOPIC_PREFIX, prefix));
        TopicProvisioner.ensureSharedTopics(sluice.kafkaBootstrapServers(), sluice.topics(), 8);
        QueueName queue = QueueName.generate();
        java.util.concurrent.atomic.AtomicReference<Exception> lost = new java.util.concurrent.atomic.AtomicReference<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, sluice.kafkaBootstrapServers(),
                ProducerConfig.LINGER_MS_CONFIG, 10, ProducerConfig.BATCH_SIZE_CONFIG, 65536,
                // one request in flight: a first batch to a new topic that fails once must not be
                // refused as out of order behind the next one (records lost; see GateBenchmark)
                ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < RECORDS; i++) {
                ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(sluice.topics().ready(), new byte[200]);
                record.headers().add(TaskHeaders.ID, ("t-" + i).getBytes(StandardCharsets.UTF_8));
                record.headers().add(TaskHeaders.QUEUE, queue.value().getBytes(StandardCharsets.UTF_8));
                producer.send(record, (metadata, error) -> {
                    if (error != null) {
                        lost.compareAndSet(null, error);
                    }
                });
            }
            producer.flush();
            if (lost.get() != null) {
                throw new IllegalStateException("the benchmark's producer lost records: " + lost.get(), lost.get());
            }
        }
        System.out.printf("Worker benchmark on the embedded broker: %d records of 200 B on %s (8 partitions)%n",
                RECORDS, sluice.topics().ready());

        // the baseline before and after the worker's runs: on a shared 2-core machine one pass of the
        // plain consumer (under half a second) varies by a third from run to run; ratios use the mean
        // and a first pass not counted: the first consumer in this JVM runs its fetch path cold, and
        // measured half as fast as the same consumer after the worker's runs
        plainConsumer(sluice, prefix + "-plain-warm-up");
        double before = plainConsumer(sluice, prefix + "-plain-before");
        System.out.printf(Locale.ROOT, "(a) plain consumer, auto-commit: %.0f records/s%n", before);
        double committing = consumer(sluice, prefix + "-commit-after-poll", true, DEFAULT_MAX_POLL_RECORDS);
        System.out.printf(Locale.ROOT, "(a') consumer committing after each poll's records, read_committed: %.0f records/s"
                + " (for reference; not the issue's baseline)%n", committing);
        List<double[]> cases = new java.util.ArrayList<>();
        // the plain consumer held to the worker's prefetch bound: a poll returns at most one round of slots
        java.util.Map<Integer, Double> bounded = new java.util.HashMap<>();
        for (int concurrency : concurrencies()) {
            double rate = consumer(sluice, prefix + "-plain-" + concurrency, false, concurrency);
            bounded.put(concurrency, rate);
            System.out.printf(Locale.ROOT, "(a%d) plain consumer, auto-commit, max.poll.records=%d (the worker's"
                    + " prefetch bound at %d slots): %.0f records/s%n", concurrency, concurrency, concurrency, rate);
        }

        for (int concurrency : concurrencies()) {
            double rate = workerRate(sluice, prefix, concurrency, WorkerConfig.Mode.GROUP);
            System.out.printf(Locale.ROOT, "(b) worker, no-op handler, %d at once, commit after completion: %.0f"
                    + " tasks/s%n", concurrency, rate);
            cases.add(new double[] {concurrency, rate});
        }
        // share mode (Kafka's share group): the same records, the same slots
        java.util.Map<Integer, Double> shared = new java.util.HashMap<>();
        if (Boolean.parseBoolean(System.getProperty("worker.share", "true"))) {
            for (int concurrency : concurrencies()) {
                double rate = workerRate(sluice, prefix, concurrency, WorkerConfig.Mode.SHARE);
                shared.put(concurrency, rate);
                System.out.printf(Locale.ROOT, "(s) worker in share mode, no-op handler, %d at once, each task"
                        + " acknowledged after completion: %.0f tasks/s%n", concurrency, rate);
            }
        }
        // the peer that does the same job: parallel-consumer, unordered, a no-op handler, the same records
        java.util.Map<Integer, Double> peer = new java.util.HashMap<>();
        for (int concurrency : concurrencies()) {
            double rate = parallelConsumer(sluice, prefix + "-pc-" + concurrency, concurrency);
            peer.put(concurrency, rate);
            System.out.printf(Locale.ROOT, "(p) parallel-consumer 0.5.3.3, UNORDERED, no-op handler, %d at once:"
                    + " %.0f tasks/s%n", concurrency, rate);
        }
        double after = plainConsumer(sluice, prefix + "-plain-after");
        System.out.printf(Locale.ROOT, "(a) plain consumer again, after: %.0f records/s%n", after);
        double plain = (before + after) / 2;
        for (double[] c : cases) {
            System.out.printf(Locale.ROOT, "b/a, %d at once: %.2f (against the mean of both plain runs, %.0f/s);"
                    + " b/a' %.2f; b/a%d %.2f%n", (int) c[0], c[1] / plain, plain, c[1] / committing, (int) c[0],
                    c[1] / bounded.get((int) c[0]));
        }
        for (double[] c : cases) {
            System.out.printf(Locale.ROOT, "worker / parallel-consumer, %d at once: %.2f%n", (int) c[0],
                    c[1] / peer.get((int) c[0]));
        }
        for (double[] c : cases) {
            if (shared.containsKey((int) c[0])) {
                System.out.printf(Locale.ROOT, "share mode / group mode, %d at once: %.2f%n", (int) c[0],
                        shared.get((int) c[0]) / c[1]);
            }
        }
        // worker processes on 8 partitions, both modes: -Dworker.processes=1,12 (none: leave it out)
        String processes = System.getProperty("worker.processes", "1,12");
        if (!processes.isBlank() && !processes.equals("none")) {
            for (String count : processes.split(",")) {
                int n = Integer.parseInt(count.strip());
                int tasks = 100 * n;
                double group = WorkerProcesses.rate("group", n, tasks);
                double share = WorkerProcesses.rate("share", n, tasks);
                System.out.printf(Locale.ROOT, "(x) %d worker process(es) on 8 partitions, %d slots each, calls of %d ms,"
                        + " %d tasks: consumer group %.0f tasks/s, share mode %.0f tasks/s (%.2f)%n", n,
                        WorkerProcesses.SLOTS, WorkerProcesses.CALL_MILLIS, tasks, group, share, share / group);
            }
        }
        if (Boolean.parseBoolean(System.getProperty("worker.replay", "true"))) {
            int slots = Integer.getInteger("worker.replay.slots", 32);
            long workerRuns = replayAfterCrash(sluice.kafkaBootstrapServers(), "worker", slots);
            long peerRuns = replayAfterCrash(sluice.kafkaBootstrapServers(), "pc", slots);
            System.out.printf(Locale.ROOT, "(r) tasks run again after a SIGKILL, %d slots, %d tasks, one held and"
                    + " every other one finished and committed: worker %d, parallel-consumer %d%n", slots,
                    REPLAY_RECORDS, workerRuns, peerRuns);
        }
        System.exit(0);
    }

    /**
     * Parallel-consumer over the ready topic with a no-op handler: tasks/s as for the worker. Its
     * options are its defaults but the ordering (UNORDERED, as the worker) and the concurrency.
     */
    private static double parallelConsumer(SluiceConfig sluice, String group, int concurrency) {
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, sluice.kafkaBootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, group,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
                new ByteArrayDeserializer(), new ByteArrayDeserializer());
        AtomicLong done = new AtomicLong();
        var pc = io.confluent.parallelconsumer.ParallelStreamProcessor.createEosStreamProcessor(
                io.confluent.parallelconsumer.ParallelConsumerOptions.<byte[], byte[]>builder().consumer(consumer)
                        .ordering(io.confluent.parallelconsumer.ParallelConsumerOptions.ProcessingOrder.UNORDERED)
                        .maxConcurrency(concurrency).build());
        pc.subscribe(List.of(sluice.topics().ready()));
        pc.poll(context -> done.incrementAndGet());
        double rate = timeUntil(done::get, RECORDS);
        pc.closeDontDrainFirst();
        return rate;
    }

    private static final int REPLAY_RECORDS = 20_000;

    /**
     * The crash scenario of issue 14: {@value #REPLAY_RECORDS} tasks on 8 partitions, one of them held by
     * its handler for good and every other one finished; 6 s later (parallel-consumer commits every 5 s)
     * the process is killed with SIGKILL and another one started. Returns how many tasks the second one
     * ran again: the held one, plus every finished task its predecessor's commits did not cover.
     */
    private static long replayAfterCrash(String bootstrap, String kind, int slots) throws Exception {
        String prefix = "replay" + UUID.randomUUID().toString().substring(0, 6);
        SluiceConfig sluice = SluiceConfig.fromEnvironment(Map.of(SluiceConfig.ENV_KAFKA, bootstrap,
                SluiceConfig.ENV_REDIS, SharedServers.redisUri(), SluiceConfig.ENV_TOPIC_PREFIX, prefix));
        TopicProvisioner.ensureSharedTopics(bootstrap, sluice.topics(), 8);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            QueueName queue = QueueName.generate();
            for (int i = 0; i < REPLAY_RECORDS; i++) {
                ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(sluice.topics().ready(), i % 8, null,
                        new byte[200]);
                record.headers().add(TaskHeaders.ID, ("t-" + i).getBytes(StandardCharsets.UTF_8));
                record.headers().add(TaskHeaders.QUEUE, queue.value().getBytes(StandardCharsets.UTF_8));
                producer.send(record);
            }
        }
        Map<String, String> env = Map.of(SluiceConfig.ENV_KAFKA, bootstrap, SluiceConfig.ENV_REDIS,
                SharedServers.redisUri(), SluiceConfig.ENV_TOPIC_PREFIX, prefix);
        String held = "t-80"; // early in partition 0: 2,490 tasks behind it there
        java.nio.file.Path first = java.nio.file.Files.createTempFile("replay-" + kind + "-1-", ".txt");
        java.nio.file.Path second = java.nio.file.Files.createTempFile("replay-" + kind + "-2-", ".txt");
        try (ChildJvm one = ChildJvm.start(kind + "-1", ReplayChild.class.getName(), env, List.of("-Xmx512m"),
                kind, first.toString(), String.valueOf(slots), held)) {
            one.awaitLine("started", Duration.ofSeconds(60));
            awaitLines(first, REPLAY_RECORDS, Duration.ofMinutes(3));
            Thread.sleep(6_000);
            one.kill();
        }
        try (ChildJvm two = ChildJvm.start(kind + "-2", ReplayChild.class.getName(), env, List.of("-Xmx512m"),
                kind, second.toString(), String.valueOf(slots), held)) {
            two.awaitLine("started", Duration.ofSeconds(60));
            // it runs the held task again, and whatever else it runs again comes with it: wait for quiet
            long lines = -1;
            long quietSince = System.nanoTime();
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (System.nanoTime() < deadline) {
                long now = lines(second);
                if (now != lines) {
                    lines = now;
                    quietSince = System.nanoTime();
                } else if (lines > 0 && System.nanoTime() - quietSince > Duration.ofSeconds(5).toNanos()) {
                    break;
                }
                Thread.sleep(200);
            }
            two.kill();
        }
        return lines(second);
    }

    private static long lines(java.nio.file.Path file) throws java.io.IOException {
        try (var lines = java.nio.file.Files.lines(file)) {
            return lines.count();
        }
    }

    private static void awaitLines(java.nio.file.Path file, long count, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (lines(file) < count) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(file + " has fewer than " + count + " lines after " + timeout);
            }
            Thread.sleep(200);
        }
    }

    /**
     * Tasks per second through a worker of this mode with a no-op handler over the benchmark's records,
     * in a group of its own (deleted after, so that the next run reads them all again).
     */
    private static double workerRate(SluiceConfig sluice, String prefix, int concurrency, WorkerConfig.Mode mode)
            throws Exception {
        AtomicLong done = new AtomicLong();
        TaskHandler noop = new TaskHandler() {
            @Override
            public String name() {
                return "noop";
            }

            @Override
            public TaskResult handle(Task task) {
                done.incrementAndGet();
                return TaskResult.success();
            }
        };
        SluiceConfig own = SluiceConfig.fromEnvironment(Map.of(
                SluiceConfig.ENV_KAFKA, sluice.kafkaBootstrapServers(), SluiceConfig.ENV_REDIS, SharedServers.redisUri(),
                SluiceConfig.ENV_TOPIC_PREFIX, prefix));
        double rate;
        try (Worker worker = Worker.start(WorkerConfig.of(own).withConcurrency(concurrency).withHandler("noop")
                .withMode(mode), List.of(noop))) {
            rate = timeUntil(() -> worker.metrics().completed(), RECORDS);
        }
        try (var admin = org.apache.kafka.clients.admin.Admin.create(Map.of(
                org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, sluice.kafkaBootstrapServers()))) {
            if (mode == WorkerConfig.Mode.SHARE) {
                admin.deleteShareGroups(List.of(own.topics().workerShareGroup())).all().get();
            } else {
                admin.deleteConsumerGroups(List.of(own.topics().workerGroup())).all().get();
            }
        }
        return rate;
    }

    /** {@code -Dworker.concurrency=8,32} runs only those cases. */
    private static int[] concurrencies() {
        return java.util.Arrays.stream(System.getProperty("worker.concurrency", "8,32,256").split(","))
                .map(String::strip).mapToInt(Integer::parseInt).toArray();
    }

    private static double plainConsumer(SluiceConfig sluice, String group) {
        return consumer(sluice, group, false, DEFAULT_MAX_POLL_RECORDS);
    }

    /**
     * A consumer that does nothing per record; with {@code commitAfterPoll}, read_committed and
     * committing (async) after each poll's records, the bare minimum of "commit after processing";
     * {@code maxPoll} records at most per poll.
     */
    private static double consumer(SluiceConfig sluice, String group, boolean commitAfterPoll, int maxPoll) {
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, sluice.kafkaBootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, group,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, commitAfterPoll ? "read_committed" : "read_uncommitted",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, !commitAfterPoll,
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPoll),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(sluice.topics().ready()));
            AtomicLong seen = new AtomicLong();
            Thread poller = new Thread(() -> {
                while (seen.get() < RECORDS) {
                    var records = consumer.poll(Duration.ofMillis(100));
                    records.forEach(r -> seen.incrementAndGet());
                    if (commitAfterPoll && !records.isEmpty()) {
                        consumer.commitAsync();
                    }
                }
            });
            poller.start();
            double rate = timeUntil(seen::get, RECORDS);
            try {
                poller.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return rate;
        }
    }

    /** Records/s from the moment the counter passes the warm-up until it reaches the total. */
    private static double timeUntil(java.util.function.LongSupplier counter, long total) {
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        long start = 0;
        long from = 0;
        while (counter.getAsLong() < total && System.nanoTime() < deadline) {
            if (start == 0 && counter.getAsLong() >= WARM_UP) {
                start = System.nanoTime();
                from = counter.getAsLong();
            }
            // sleep, not spin: a spinning observer takes one of the machine's two cores from what it measures
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
        return (counter.getAsLong() - from) * 1e9 / (System.nanoTime() - start);
    }
}
