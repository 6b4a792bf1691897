package dev.sluice.bench;

import dev.sluice.core.QueueName;
import dev.sluice.core.QueueSpec;
import dev.sluice.core.RateLimit;
import dev.sluice.core.SluiceConfig;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.Topics;
import dev.sluice.core.kafka.TopicProvisioner;
import dev.sluice.core.redis.QueueRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import redis.clients.jedis.RedisClient;

/**
 * The whole path of a task, measured where the user feels the limit: a gate and workers each in a
 * process of their own (the workers with the {@code http} handler, 16 slots, as {@link TimedHttpHandler}
 * so that the start of each handler is known too), on the given Kafka and
 * Redis, calling a {@link CallRecorder} in a process of its own. Each {@link #run} creates a queue,
 * writes its tasks (each a GET of {@code /<queue>/<i>} on the recorder), and returns what the recorder
 * saw once every task was called. Shared by {@code bench/run handler} and the integration test.
 */
public final class HandlerRun implements AutoCloseable {

    /**
     * One case: a limit, how many tasks, how many workers, whether one is killed and restarted, and
     * whether the workers first run 600 tasks at 200/1s, so that the case measures workers whose code
     * the JVM has compiled (a fresh JVM's first seconds starve a small machine; a restarted worker is
     * cold whatever this says).
     */
    public record Case(String limit, int tasks, int workers, boolean restart, boolean warmUp) {
        public String describe() {
            return String.format("%-8s %5d tasks, %d worker%s%s", limit, tasks, workers, workers == 1 ? "" : "s",
                    restart ? ", one killed (SIGKILL) at 40 % and started again" : "");
        }
    }

    /** Slots per worker: 16, or {@code -Dhandler.concurrency}. */
    private static final int CONCURRENCY = Integer.getInteger("handler.concurrency", 16);

    private final String bootstrap;
    private final String redisUri;
    private final String prefix = "h" + UUID.randomUUID().toString().substring(0, 8);
    private final SluiceConfig sluice;
    private final Topics topics;
    private final Admin admin;
    private final RedisClient redis;
    private final QueueRegistry registry;
    private final KafkaProducer<byte[], byte[]> producer;
    private final ChildJvm recorder;
    private final int recorderPort;
    private final int controlPort;
    private final ChildJvm gate;
    private final HttpClient http = HttpClient.newHttpClient();
    private final String servicesClasspath;
    private final String handler;

    public HandlerRun(String bootstrap, String redisUri) throws IOException, InterruptedException {
        this(bootstrap, redisUri, null);
    }

    /**
     * @param servicesClasspath where the gate and the workers come from, when not from this JVM's
     *     classpath: another build, to measure it beside this one (its workers run the plain {@code http}
     *     handler, so only the arrivals are known)
     */
    public HandlerRun(String bootstrap, String redisUri, String servicesClasspath)
            throws IOException, InterruptedException {
        this.servicesClasspath = servicesClasspath == null
                ? System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"))
                : servicesClasspath;
        this.handler = servicesClasspath == null ? "http-timed" : "http";
        this.bootstrap = bootstrap;
        this.redisUri = redisUri;
        this.sluice = SluiceConfig.fromEnvironment(env(Map.of()));
        this.topics = sluice.topics();
        this.admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
        new TopicProvisioner(admin, topics, (short) 1).ensureSharedTopics(8);
        this.redis = RedisClient.create(URI.create(redisUri));
        this.registry = new QueueRegistry(redis, sluice.keys());
        this.producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.LINGER_MS_CONFIG, 5), new ByteArraySerializer(), new ByteArraySerializer());
        this.recorder = ChildJvm.start("recorder", CallRecorder.class.getName(), Map.of(),
                List.of("-Xmx64m", "-XX:+UseSerialGC"));
        String[] ready = recorder.awaitLine("listening ", Duration.ofSeconds(30)).strip().split(" ");
        this.recorderPort = Integer.parseInt(ready[1]);
        this.controlPort = Integer.parseInt(ready[2]);
        this.gate = ChildJvm.start("gate", this.servicesClasspath, "dev.sluice.gate.GateMain",
                env(Map.of("SLUICE_GATE_ID", prefix)), List.of("-Xmx256m"));
        gate.awaitLine("started", Duration.ofSeconds(60));
    }

    private Map<String, String> env(Map<String, String> more) {
        Map<String, String> env = new HashMap<>(Map.of(SluiceConfig.ENV_KAFKA, bootstrap, SluiceConfig.ENV_REDIS, redisUri,
                SluiceConfig.ENV_TOPIC_PREFIX, prefix, SluiceConfig.ENV_KEY_PREFIX, prefix));
        env.putAll(more);
        return env;
    }

    private ChildJvm startWorker(int n) throws IOException {
        return ChildJvm.start("worker-" + n, servicesClasspath, "dev.sluice.worker.WorkerMain",
                env(Map.of("SLUICE_WORKER_HANDLER", handler, "SLUICE_WORKER_CONCURRENCY",
                        String.valueOf(CONCURRENCY), "SLUICE_HTTP_ALLOWED_HOSTS", "127.0.0.1",
                        // -Dhandler.mode=share: the workers in share mode
                        "SLUICE_WORKER_MODE", System.getProperty("handler.mode", "group"))),
                List.of("-Xmx256m"));
    }

    /** Runs one case to the end: every task called at least once (or the timeout). */
    public Measured run(Case c, Duration timeout) throws Exception {
        RateLimit limit = RateLimit.parse(c.limit());
        List<ChildJvm> workers = new ArrayList<>();
        List<ChildJvm> all = new ArrayList<>();
        ChildJvm paced = null;
        boolean beside = "beside".equals(System.getProperty("handler.floor"));
        int started = 0;
        try {
            for (int i = 0; i < c.workers(); i++) {
                workers.add(startWorker(started++));
            }
            all.addAll(workers);
            awaitWorkers(c.workers(), Duration.ofSeconds(60));
            if (c.warmUp()) {
                QueueName warm = QueueName.generate();
                new TopicProvisioner(admin, topics, (short) 1).ensureQueueTopic(warm);
                produce(warm, 600);
                registry.create(warm, QueueSpec.of(RateLimit.parse("200/1s")));
                long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (calls(warm).distinct().size() < 600 && System.nanoTime() < until) {
                    Thread.sleep(100);
                }
                registry.remove(warm);
            }

            QueueName queue = QueueName.generate();
            new TopicProvisioner(admin, topics, (short) 1).ensureQueueTopic(queue);
            produce(queue, c.tasks());
            QueueName pacedName = QueueName.generate();
            if (beside) {
                // the floor under the same load: paced calls to the same server while this case runs
                paced = startPaced(pacedName, c, limit, true);
                paced.awaitLine("calling", Duration.ofSeconds(30));
            }
            registry.create(queue, QueueSpec.of(limit));

            long deadline = System.nanoTime() + timeout.toNanos();
            boolean restarted = !c.restart();
            Calls calls = calls(queue);
            while (calls.distinct().size() < c.tasks() && System.nanoTime() < deadline) {
                Thread.sleep(100);
                calls = calls(queue);
                if (!restarted && calls.distinct().size() >= c.tasks() * 0.4) {
                    workers.remove(0).kill(); // tasks running and finished but not committed are redone
                    workers.add(startWorker(started++));
                    all.add(workers.get(workers.size() - 1));
                    restarted = true;
                }
            }
            registry.remove(queue);
            workers.forEach(ChildJvm::close);
            Thread.sleep(200); // their last lines
            Measured floorBeside = null;
            if (paced != null) {
                paced.awaitLine("done", timeout);
                Calls pacedCalls = calls(pacedName);
                floorBeside = new Measured(new CallFigures(limit, pacedCalls.arrivals(), pacedCalls.distinct().size()),
                        new CallFigures(limit, pacedCalls.starts(), pacedCalls.distinct().size()), "", null, null);
            }
            return new Measured(new CallFigures(limit, calls.arrivals(), calls.distinct().size()),
                    new CallFigures(limit, calls.starts(), calls.distinct().size()), missedStarts(all), slots(queue, limit),
                    floorBeside);
        } finally {
            workers.forEach(ChildJvm::close);
            if (paced != null) {
                paced.close();
            }
        }
    }

    /**
     * The floor for a case: {@link PacedCaller} calls the recorder as often, at exactly the schedule Sluice's
     * slots follow (the guarded interval, {@link dev.sluice.core.StartGuard}), with the same handler and
     * threads and nothing between schedule and call. What the machine itself adds on the way to a server.
     */
    public Measured floor(Case c, Duration timeout) throws Exception {
        RateLimit limit = RateLimit.parse(c.limit());
        QueueName name = QueueName.generate();
        try (ChildJvm caller = startPaced(name, c, limit, false)) {
            caller.awaitLine("done", timeout);
        }
        Calls calls = calls(name);
        return new Measured(new CallFigures(limit, calls.arrivals(), calls.distinct().size()),
                new CallFigures(limit, calls.starts(), calls.distinct().size()), "", null, null);
    }

    private ChildJvm startPaced(QueueName name, Case c, RateLimit limit, boolean cold) throws IOException {
        long intervalNanos = Math.round(dev.sluice.core.StartGuard.guardedPeriodMicros(limit.periodMicros()) * 1000.0
                / limit.permits());
        return ChildJvm.start("paced", PacedCaller.class.getName(), Map.of("SLUICE_HTTP_ALLOWED_HOSTS", "127.0.0.1"),
                List.of("-Xmx256m"), "http://127.0.0.1:" + recorderPort + "/" + name.value() + "/",
                String.valueOf(c.tasks()), String.valueOf(intervalNanos), cold ? "cold" : "warm");
    }

    /** Writes {@code count} tasks to the queue's topic, each a GET of {@code /<queue>/<i>} on the recorder. */
    private void produce(QueueName queue, int count) {
        for (int i = 0; i < count; i++) {
            String payload = "{\"url\":\"http://127.0.0.1:" + recorderPort + "/" + queue.value() + "/" + i + "\"}";
            ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topics.queue(queue),
                    utf8(queue.value() + "-" + i), utf8(payload));
            record.headers().add(TaskHeaders.ID, utf8(queue.value() + "-" + i));
            record.headers().add(TaskHeaders.QUEUE, utf8(queue.value()));
            producer.send(record);
        }
        producer.flush();
    }

    /** Waits until the worker group is stable with {@code count} members, each with partitions. */
    private void awaitWorkers(int count, Duration timeout) throws InterruptedException, ExecutionException {
        long deadline = System.nanoTime() + timeout.toNanos();
        if ("share".equals(System.getProperty("handler.mode"))) {
            // share mode: each worker is 4 share consumers (ShareLoop.MAX_CONSUMERS at 16 slots)
            String group = topics.workerShareGroup();
            while (System.nanoTime() < deadline) {
                try {
                    var members = admin.describeShareGroups(List.of(group)).all().get().get(group).members();
                    if (members.size() == 4 * count
                            && members.stream().allMatch(m -> !m.assignment().topicPartitions().isEmpty())) {
                        return;
                    }
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof org.apache.kafka.common.errors.GroupIdNotFoundException)) {
                        throw e;
                    }
                }
                Thread.sleep(100);
            }
            throw new IllegalStateException("the " + count + " workers did not join their share group within " + timeout);
        }
        String group = topics.workerGroup();
        while (System.nanoTime() < deadline) {
            ConsumerGroupDescription description;
            try {
                description = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof org.apache.kafka.common.errors.GroupIdNotFoundException)) {
                    throw e;
                }
                description = null; // no worker has joined yet
            }
            if (description != null && description.groupState() == GroupState.STABLE
                    && description.members().size() == count
                    && description.members().stream().allMatch(m -> !m.assignment().topicPartitions().isEmpty())) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("the " + count + " workers did not join their group within " + timeout);
    }

    private record Calls(long[] arrivals, long[] starts, Set<String> distinct) {
    }

    /**
     * What one case measured: the calls where they arrived, and the same calls when their handler
     * started (the {@code http-timed} handler says): the difference is the way from worker to server.
     */
    /**
     * @param atSlot the slots the gate gave (null for a floor)
     * @param floorBeside with {@code -Dhandler.floor=beside}: a {@link PacedCaller} calling the same server at
     *     the same schedule while the case ran, under the same load (null otherwise)
     */
    public record Measured(CallFigures atArrival, CallFigures atStart, String missedStarts, CallFigures atSlot,
                           Measured floorBeside) {
    }

    /**
     * The start slots the gate gave the queue's tasks, as written on {@code sluice.ready} (Redis's clock):
     * the limit at release. A task sent back and given a new slot counts once per slot.
     */
    private CallFigures slots(QueueName queue, RateLimit limit) {
        Map<String, Object> props = new HashMap<>(Map.of(
                org.apache.kafka.clients.consumer.ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                org.apache.kafka.clients.consumer.ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                org.apache.kafka.clients.consumer.ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000));
        List<Long> slots = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        try (org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]> consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(
                props, new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            List<org.apache.kafka.common.TopicPartition> partitions = consumer.partitionsFor(topics.ready()).stream()
                    .map(p -> new org.apache.kafka.common.TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<org.apache.kafka.common.TopicPartition, Long> ends = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < ends.get(p)) && System.nanoTime() < deadline) {
                for (var record : consumer.poll(Duration.ofMillis(200))) {
                    var queueHeader = record.headers().lastHeader(TaskHeaders.QUEUE);
                    var startAt = record.headers().lastHeader(TaskHeaders.START_AT);
                    if (queueHeader != null && startAt != null
                            && queue.value().equals(new String(queueHeader.value(), StandardCharsets.UTF_8))) {
                        slots.add(Long.parseLong(new String(startAt.value(), StandardCharsets.UTF_8)) * 1_000);
                        ids.add(new String(record.headers().lastHeader(TaskHeaders.ID).value(), StandardCharsets.UTF_8));
                    }
                }
            }
        }
        return new CallFigures(limit, slots.stream().mapToLong(Long::longValue).sorted().toArray(), ids.size());
    }

    private static final java.util.regex.Pattern MISSED = java.util.regex.Pattern.compile(
            "(\\d+) tasks missed their start slot .*\\((\\d+) reached this worker past their latest start, (\\d+) waited"
                    + " for a free slot past it, (\\d+) were not started in time by their slot thread\\); the latest by"
                    + " (\\d+) ms");

    /** What the workers said they sent back: tasks that missed their start slot, and why. */
    private static String missedStarts(List<ChildJvm> workers) {
        long onArrival = 0;
        long waiting = 0;
        long atSlot = 0;
        long latest = 0;
        for (ChildJvm worker : workers) {
            java.util.regex.Matcher m = MISSED.matcher(worker.output());
            while (m.find()) {
                onArrival += Long.parseLong(m.group(2));
                waiting += Long.parseLong(m.group(3));
                atSlot += Long.parseLong(m.group(4));
                latest = Math.max(latest, Long.parseLong(m.group(5)));
            }
        }
        return String.format("%d tasks missed their slot and went back (%d reached a worker late, %d waited for a free"
                + " slot, %d woke late in theirs; the latest by %d ms)", onArrival + waiting + atSlot, onArrival, waiting,
                atSlot, latest);
    }

    private Calls calls(QueueName queue) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + controlPort + "/calls")).build(), HttpResponse.BodyHandlers.ofString());
        String prefixPath = "/" + queue.value() + "/";
        List<Long> arrivals = new ArrayList<>();
        List<Long> starts = new ArrayList<>();
        Set<String> distinct = new HashSet<>();
        for (String line : response.body().split("\n")) {
            String[] fields = line.split(" ");
            if (fields.length >= 2 && fields[1].startsWith(prefixPath)) {
                arrivals.add(Long.parseLong(fields[0]));
                distinct.add(fields[1]);
                if (fields.length >= 3) {
                    starts.add(Long.parseLong(fields[2]));
                }
            }
        }
        return new Calls(arrivals.stream().mapToLong(Long::longValue).toArray(),
                starts.stream().mapToLong(Long::longValue).toArray(), distinct);
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        gate.close();
        recorder.close();
        producer.close();
        redis.close();
        admin.close();
    }
}
