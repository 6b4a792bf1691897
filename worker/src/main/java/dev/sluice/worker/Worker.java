package dev.sluice.worker;

import dev.sluice.core.kafka.TopicProvisioner;
import dev.sluice.core.redis.RedisClock;
import dev.sluice.worker.api.TaskHandler;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.UnifiedJedis;

/**
 * A running worker: consumer group {@code sluice-worker} on {@code sluice.ready}, a bounded number of
 * tasks at once, each started at the slot the gate stamped on it (on Redis's clock, read every second),
 * each partition committed only up to its first unfinished task. Start one with {@link #start};
 * {@link #close()} stops fetching, lets running tasks finish within the handler timeout, commits and
 * leaves. In share mode ({@link WorkerConfig.Mode#SHARE}) a share group hands the tasks out instead
 * ({@link ShareLoop}); the rest is the same.
 */
public final class Worker implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Worker.class);

    // the consumer group's (mode GROUP), else null
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final HandlerThreads handlerThreads;
    private final WriteBacks writeBacks;
    private final WorkerLoop loop;
    private final java.util.concurrent.ScheduledExecutorService watchdog;
    private final Thread thread;
    // the share group's (mode SHARE), else null
    private final ShareLoop share;
    private final KafkaConsumer<byte[], byte[]> metadata;

    private final KafkaProducer<byte[], byte[]> producer;
    private final EventBatcher events;
    private final KafkaConsumer<byte[], byte[]> delayConsumer;
    private final KafkaProducer<byte[], byte[]> delayProducer;
    private final DelayForwarder delays;
    private final Thread delayThread;
    private final WorkerMetrics metrics = new WorkerMetrics();
    private final Map<String, TaskHandler> handlers;
    private final UnifiedJedis redis;
    private final RedisClock clock;
    private final ClockSyncer clockSyncer;
    private final WorkerConfig config;

    private Worker(WorkerConfig config, List<TaskHandler> extraHandlers) {
        this(config, extraHandlers, Map.of());
    }

    /** @param shareConsumerSettings Kafka settings over the share consumers' own, for tests that shape a fetch */
    private Worker(WorkerConfig config, List<TaskHandler> extraHandlers, Map<String, Object> shareConsumerSettings) {
        this.config = config;
        this.handlers = new HashMap<>();
        try {
            ServiceLoader.load(TaskHandler.class).forEach(h -> handlers.put(h.name(), h));
        } catch (java.util.ServiceConfigurationError e) {
            // a handler refusing its configuration (a wrong SLUICE_HTTP_ALLOWED_HOSTS, say): its own words
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new IllegalArgumentException(cause.getMessage(), e);
        }
        extraHandlers.forEach(h -> handlers.put(h.name(), h));
        for (String name : configuredHandlerNames(config)) {
            if (!handlers.containsKey(name)) {
                throw new IllegalArgumentException("no task handler named \"" + name + "\"; known: "
                        + handlers.keySet());
            }
        }
        TopicProvisioner.ensureSharedTopics(config.sluice(), 8);
        this.producer = new KafkaProducer<>(producerConfig(config), new ByteArraySerializer(),
                new ByteArraySerializer());
        this.events = new EventBatcher(producer, config.sluice().topics());
        this.redis = dev.sluice.core.redis.RedisConnections.open(config.sluice());
        this.clock = new RedisClock(redis);
        this.clockSyncer = new ClockSyncer(clock);
        TaskOutcomes outcomes = new TaskOutcomes(producer, config.sluice().topics(), config.maxAttempts(), events);
        if (config.mode() == WorkerConfig.Mode.SHARE) {
            boolean renews = ShareGroups.configure(config);
            this.consumer = null;
            this.handlerThreads = null;
            this.writeBacks = null;
            this.loop = null;
            this.thread = null;
            this.watchdog = null;
            Map<String, Object> metadataConfig = config.sluice().kafkaProperties();
            metadataConfig.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
            this.metadata = new KafkaConsumer<>(metadataConfig, new ByteArrayDeserializer(), new ByteArrayDeserializer());
            KnownTopics known = new KnownTopics(metadata);
            this.share = new ShareLoop(config, handlers, outcomes, producer, clock, metrics, topic -> {
                synchronized (known) { // one consumer, asked from every slot thread
                    return known.exists(topic);
                }
            }, (perPoll, clientId) -> ShareGroups.consumer(config, perPoll, clientId, shareConsumerSettings), () -> {
                try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                        config.sluice().kafkaProperties())) {
                    return ShareGroups.assignedMembers(admin, config);
                }
            }, renews);
        } else {
            this.share = null;
            this.metadata = null;
            this.consumer = new KafkaConsumer<>(consumerConfig(config), new ByteArrayDeserializer(),
                    new ByteArrayDeserializer());
            this.handlerThreads = new HandlerThreads(config.concurrency(), daemon("sluice-task-"));
            this.writeBacks = writeBacks(config, consumer);
            this.loop = new WorkerLoop(config, consumer, handlers, outcomes, writeBacks, handlerThreads, metrics, clock);
            this.thread = new Thread(this::runLoop, "sluice-worker");
            this.watchdog = Executors.newSingleThreadScheduledExecutor(daemon("sluice-timeouts-"));
        }
        Map<String, Object> delayConsumerConfig = consumerConfig(config);
        delayConsumerConfig.put(ConsumerConfig.GROUP_ID_CONFIG, config.sluice().topics().delayGroup());
        delayConsumerConfig.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
        this.delayConsumer = new KafkaConsumer<>(delayConsumerConfig, new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
        Map<String, Object> delayProducerConfig = producerConfig(config);
        delayProducerConfig.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG,
                config.sluice().topics().prefix() + "-delay-" + java.util.UUID.randomUUID());
        delayProducerConfig.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, 5);
        delayProducerConfig.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 10_000);
        this.delayProducer = new KafkaProducer<>(delayProducerConfig, new ByteArraySerializer(),
                new ByteArraySerializer());
        this.delays = new DelayForwarder(config.sluice().topics(), delayConsumer, delayProducer);
        this.delayThread = new Thread(this::runDelays, "sluice-delays");
    }

    private void runDelays() {
        try {
            delays.run();
        } catch (RuntimeException e) {
            LOG.error("Delay forwarder stopped on an unexpected error", e);
        }
    }

    /** Starts a worker with the handlers found by ServiceLoader. */
    public static Worker start(WorkerConfig config) {
        return start(config, List.of());
    }

    /** Starts a worker with the handlers found by ServiceLoader plus these (which win on a name clash). */
    public static Worker start(WorkerConfig config, List<TaskHandler> handlers) {
        return start(new Worker(config, handlers), config);
    }

    /** For tests: share consumers with these Kafka settings over their own. */
    static Worker startWithShareConsumerSettings(WorkerConfig config, List<TaskHandler> handlers,
                                                 Map<String, Object> shareConsumerSettings) {
        return start(new Worker(config, handlers, shareConsumerSettings), config);
    }

    private static Worker start(Worker worker, WorkerConfig config) {
        worker.clockSyncer.start();
        worker.warmUp(config);
        if (worker.share != null) {
            worker.share.start();
        } else {
            worker.watchdog.scheduleWithFixedDelay(worker.loop::timeOutOverdue, 50, 50, TimeUnit.MILLISECONDS);
            worker.thread.start();
        }
        worker.delayThread.start();
        LOG.info("Worker started ({} mode): {} at once, handler {}, up to {} attempts",
                config.mode().name().toLowerCase(java.util.Locale.ROOT), config.concurrency(), config.handler(),
                config.maxAttempts());
        return worker;
    }

    /** Lets each configured handler prepare before the first task (see {@link TaskHandler#warmUp()}). */
    private void warmUp(WorkerConfig config) {
        for (String name : new java.util.LinkedHashSet<>(configuredHandlerNames(config))) {
            long started = System.nanoTime();
            try {
                handlers.get(name).warmUp();
                LOG.debug("Handler {} warmed up in {} ms", name, (System.nanoTime() - started) / 1_000_000);
            } catch (Exception e) {
                LOG.warn("Handler {} could not warm up; its first task may start late: {}", name, e.toString());
            }
        }
    }

    /**
     * Waits until this worker can start tasks at their slots: its consumer has joined the group and
     * Redis's clock has been read. A task released before that reaches it late and goes back through its
     * queue's limit (ADR 0005); {@code sluice up} waits for this before it says it is up.
     *
     * @return false when the time ran out first
     */
    public boolean awaitReady(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        if (!(share != null ? share.awaitJoined(timeout) : loop.awaitJoined(timeout))) {
            return false;
        }
        while (!clock.known()) {
            if (System.nanoTime() >= deadline) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }

    public WorkerMetrics metrics() {
        return metrics;
    }

    private void runLoop() {
        try {
            loop.run();
        } catch (RuntimeException e) {
            LOG.error("Worker stopped on an unexpected error", e);
        }
    }

    @Override
    public void close() {
        if (share != null) {
            share.stop();
            delays.stop();
            share.join(config.handlerTimeout().plusSeconds(10));
            join();
            share.close();
            metadata.close();
        } else {
            loop.stop();
            delays.stop();
            join();
            consumer.close();
        }
        delayConsumer.close();
        delayProducer.close(Duration.ofSeconds(10));
        if (share == null) {
            writeBacks.close(Duration.ofSeconds(10)); // after the consumer's close, which commits with it
            watchdog.shutdownNow();
            handlerThreads.shutdownNow();
        }
        events.close();
        producer.close(Duration.ofSeconds(10));
        clockSyncer.close();
        redis.close();
        LOG.info("Worker stopped");
    }

    /** Stops as a killed process would: nothing more committed, running tasks abandoned. For tests. */
    void halt() {
        if (share != null) {
            share.halt();
        } else {
            loop.halt();
        }
        delays.stop();
        join();
        delayConsumer.close(CloseOptions.timeout(Duration.ZERO));
        delayProducer.close(Duration.ZERO);
        if (share == null) {
            watchdog.shutdownNow();
            handlerThreads.shutdownNow();
            consumer.close(CloseOptions.timeout(Duration.ZERO));
            writeBacks.close(Duration.ZERO);
        }
        events.close();
        producer.close(Duration.ZERO);
        clockSyncer.close();
        redis.close();
    }

    private void join() {
        try {
            if (thread != null) {
                thread.join(60_000);
            }
            delayThread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The worker's write-backs: a transactional producer of its own (a new transactional id per process:
     * the consumer group's generation, sent with each transaction's offsets, fences a worker the group
     * has moved on from), and the consumer, on the loop thread, asked whether a queue's topic still exists.
     */
    private static WriteBacks writeBacks(WorkerConfig config, KafkaConsumer<byte[], byte[]> consumer) {
        Map<String, Object> props = producerConfig(config);
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG,
                config.sluice().topics().prefix() + "-worker-" + java.util.UUID.randomUUID());
        props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 10_000);
        // the loop thread waits on it: a Kafka that does not answer delays its next try, not every task
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        props.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, 5);
        KnownTopics known = new KnownTopics(consumer);
        return new WriteBacks(() -> new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer()),
                known::exists, topic -> config.sluice().topics().queueOf(topic).isPresent(),
                config.sluice().topics().dead());
    }

    private static List<String> configuredHandlerNames(WorkerConfig config) {
        java.util.ArrayList<String> names = new java.util.ArrayList<>(config.queueHandlers().values());
        names.add(config.handler());
        return names;
    }

    static ThreadFactory daemon(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }

    /** The consumer group: {@code sluice-worker} under the default topic prefix. */
    public static String group(WorkerConfig config) {
        return config.sluice().topics().workerGroup();
    }

    static Map<String, Object> consumerConfig(WorkerConfig config) {
        Map<String, Object> props = config.sluice().kafkaProperties();
        props.put(ConsumerConfig.GROUP_ID_CONFIG, group(config));
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        // never fetch more than can be started; what is fetched beyond the free slots is sought back
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, config.concurrency());
        props.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000);
        props.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1_000);
        props.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 100);
        // asked whether a queue's topic still exists (KnownTopics): asking must never create it again
        props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        return props;
    }

    static Map<String, Object> producerConfig(WorkerConfig config) {
        Map<String, Object> props = config.sluice().kafkaProperties();
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        return props;
    }
}
