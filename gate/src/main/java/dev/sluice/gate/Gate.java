package dev.sluice.gate;

import dev.sluice.core.kafka.TopicProvisioner;
import dev.sluice.core.redis.QueueChangeWatcher;
import dev.sluice.core.redis.QueueRegistry;
import dev.sluice.core.redis.ScriptRunner;
import dev.sluice.core.redis.TokenBucket;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
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
 * A running gate: releases every queue's tasks from {@code sluice.q.<queue>} to {@code sluice.ready}
 * at the queue's rate, exactly once. Start one with {@link #start(GateConfig)}; {@link #close()} lets
 * it finish its current transaction and leave the group.
 *
 * <p>Several gates (consumer group {@code sluice-gate}) share the queues by rebalancing; the buckets
 * live in Redis, so the limits hold across all of them.
 */
public final class Gate implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Gate.class);
    /** The consumer group: {@code sluice-gate} under the default topic prefix. */
    public static String group(GateConfig config) {
        return config.sluice().topics().gateGroup();
    }

    private final GateConfig config;
    private final UnifiedJedis redis;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final KafkaProducer<byte[], byte[]> producer;
    private final GateLoop loop;
    private final QueueChangeWatcher watcher;
    private final Thread thread;
    private final GateMetrics metrics = new GateMetrics();

    private Gate(GateConfig config) {
        this.config = config;
        TopicProvisioner.ensureSharedTopics(config.sluice(), config.readyPartitions());
        // its group's metadata lists every queue topic: past about 6,000 queues, more than Kafka's 1 MiB
        TopicProvisioner.roomForGroupMetadata(config.sluice());
        this.redis = dev.sluice.core.redis.RedisConnections.open(config.sluice());
        this.consumer = new KafkaConsumer<>(consumerConfig(config), new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
        this.producer = new KafkaProducer<>(producerConfig(config), new ByteArraySerializer(),
                new ByteArraySerializer());
        ScriptRunner scripts = new ScriptRunner(redis);
        this.loop = new GateLoop(config, consumer, producer,
                new TokenBucket(scripts, config.sluice().keys(), config.sluice().bucketHorizon()),
                new QueueRegistry(redis, scripts, config.sluice().keys()), metrics);
        this.watcher = new QueueChangeWatcher(config.sluice(), loop::queueChanged);
        this.thread = new Thread(this::runLoop, "sluice-gate-" + config.instanceId());
    }

    /** Starts a gate on its own thread. */
    public static Gate start(GateConfig config) {
        Gate gate = new Gate(config);
        gate.thread.start();
        gate.watcher.start();
        LOG.info("Gate {} started (Kafka {}, Redis {})", config.instanceId(),
                config.sluice().kafkaBootstrapServers(), dev.sluice.core.Secrets.redact(config.sluice().redisUri()));
        return gate;
    }

    private void runLoop() {
        try {
            loop.run();
        } catch (RuntimeException e) {
            LOG.error("Gate {} stopped on an unexpected error", config.instanceId(), e);
        }
    }

    public GateMetrics metrics() {
        return metrics;
    }

    public boolean isRunning() {
        return thread.isAlive();
    }

    /** Finishes the current step (and its transaction), leaves the group, closes every connection. */
    @Override
    public void close() {
        watcher.close();
        loop.stop();
        join();
        consumer.close();
        producer.close(Duration.ofSeconds(10));
        redis.close();
        LOG.info("Gate {} stopped", config.instanceId());
    }

    /**
     * Stops as a killed process would: the open transaction is neither committed nor aborted by us,
     * and no offset is committed. For tests of crash recovery.
     */
    void halt() {
        watcher.close();
        loop.halt();
        join();
        producer.close(Duration.ZERO);
        consumer.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(Duration.ZERO));
        redis.close();
    }

    private void join() {
        try {
            thread.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static Map<String, Object> consumerConfig(GateConfig config) {
        Map<String, Object> props = config.sluice().kafkaProperties();
        props.put(ConsumerConfig.GROUP_ID_CONFIG, group(config));
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "sluice-gate-" + config.instanceId());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5_000);
        // a fetch already waiting at the broker when a new queue's partition arrives delays its first
        // records by up to this long
        props.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 100);
        // new queue topics are normally picked up through the registry's notification; this is the fallback
        props.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, 5_000);
        // a gate that died is noticed after this long and its queues move to the others
        props.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000);
        props.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1_000);
        return props;
    }

    static Map<String, Object> producerConfig(GateConfig config) {
        Map<String, Object> props = config.sluice().kafkaProperties();
        props.put(ProducerConfig.CLIENT_ID_CONFIG, "sluice-gate-" + config.instanceId());
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "sluice-gate-" + config.instanceId());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        // commitTransaction flushes at once whatever the linger: lingering only fills batches while a
        // step appends its records, it never delays a release
        props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 128 * 1024);
        // back-to-back transactions meet CONCURRENT_TRANSACTIONS while the previous one's markers are
        // written; the default first retry after 100 ms would make the gate late for its slots
        props.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, 5);
        // the open transaction of a gate that died blocks read_committed workers on the partitions it
        // wrote until it times out, unless a gate with the same instance id starts and aborts it first
        props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 10_000);
        return props;
    }
}
