package dev.sluice.gate;

import dev.sluice.core.QueueName;
import dev.sluice.core.QueueSpec;
import dev.sluice.core.RateLimit;
import dev.sluice.core.RedisKeys;
import dev.sluice.core.SluiceConfig;
import dev.sluice.core.TaskEvent;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.Topics;
import dev.sluice.core.kafka.TopicProvisioner;
import dev.sluice.core.redis.QueueRegistry;
import dev.sluice.embedded.SharedServers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import redis.clients.jedis.UnifiedJedis;

/**
 * One test's world on the shared broker: its own topic and key prefix (so its gates follow only its
 * queues and its consumer group is its own), a registry, a producer of tasks and a reader of
 * {@code <prefix>.ready}.
 */
final class GateFixture implements AutoCloseable {

    final SluiceConfig sluice;
    final Topics topics;
    final UnifiedJedis redis;
    final QueueRegistry registry;
    final Admin admin;
    final TopicProvisioner provisioner;
    private final KafkaProducer<byte[], byte[]> producer;
    private final List<Gate> gates = new ArrayList<>();

    GateFixture() {
        this(SharedServers.redisUri());
    }

    GateFixture(String redisUri) {
        this(SharedServers.kafkaBootstrapServers(), redisUri);
    }

    /** On a broker of the test's own (one it stops, say). */
    GateFixture(String kafka, String redisUri) {
        this(kafka, Map.of(SluiceConfig.ENV_REDIS, redisUri));
    }

    /** On a Redis Cluster: its seed nodes, as {@code REDIS_CLUSTER_NODES} takes them. */
    static GateFixture onRedisCluster(String seeds) {
        return new GateFixture(SharedServers.kafkaBootstrapServers(), Map.of(SluiceConfig.ENV_REDIS_CLUSTER, seeds));
    }

    private GateFixture(String kafka, Map<String, String> redisSettings) {
        String prefix = "g" + UUID.randomUUID().toString().substring(0, 8);
        Map<String, String> env = new java.util.HashMap<>(redisSettings);
        env.putAll(Map.of(
                SluiceConfig.ENV_KAFKA, kafka,
                SluiceConfig.ENV_TOPIC_PREFIX, prefix,
                SluiceConfig.ENV_KEY_PREFIX, prefix));
        this.sluice = SluiceConfig.fromEnvironment(env);
        this.topics = sluice.topics();
        this.redis = dev.sluice.core.redis.RedisConnections.open(sluice);
        this.registry = new QueueRegistry(redis, sluice.keys());
        this.admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, sluice.kafkaBootstrapServers()));
        this.provisioner = new TopicProvisioner(admin, topics, (short) 1);
        provisioner.ensureSharedTopics(4);
        this.producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, sluice.kafkaBootstrapServers(),
                ProducerConfig.LINGER_MS_CONFIG, 5),
                new ByteArraySerializer(), new ByteArraySerializer());
    }

    RedisKeys keys() {
        return sluice.keys();
    }

    GateConfig gateConfig() {
        return GateConfig.of(sluice).withInstanceId("t-" + UUID.randomUUID().toString().substring(0, 8));
    }

    Gate startGate() {
        return startGate(gateConfig());
    }

    Gate startGate(GateConfig config) {
        Gate gate = Gate.start(config);
        gates.add(gate);
        return gate;
    }

    /** Creates the queue as the admin service does: its topic first, then its metadata. */
    QueueName createQueue(String rate, int burst) {
        QueueName name = QueueName.generate();
        provisioner.ensureQueueTopic(name);
        registry.create(name, QueueSpec.of(RateLimit.parse(rate)).withBurst(burst));
        return name;
    }

    /** Produces {@code count} tasks straight to the queue topic; ids are {@code <queue>-<i>}. */
    List<String> submit(QueueName queue, int count) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String id = queue.value() + "-" + i;
            ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topics.queue(queue),
                    utf8(id), utf8("{\"n\":" + i + "}"));
            record.headers().add(TaskHeaders.ID, utf8(id));
            record.headers().add(TaskHeaders.QUEUE, utf8(queue.value()));
            producer.send(record);
            ids.add(id);
        }
        producer.flush();
        return ids;
    }

    /** The events of one queue on the events topic (read_committed), until their counts reach a total. */
    List<TaskEvent> readEvents(QueueName queue, int totalCount, Duration timeout) {
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, sluice.kafkaBootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topics.events(), Duration.ofSeconds(10)).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            List<TaskEvent> events = new ArrayList<>();
            long deadline = System.nanoTime() + timeout.toNanos();
            while (events.stream().mapToInt(TaskEvent::count).sum() < totalCount && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
                    if (queue.value().equals(new String(record.key(), StandardCharsets.UTF_8))) {
                        events.add(TaskEvent.fromJson(record.value()));
                    }
                }
            }
            return events;
        }
    }

    /** A read_committed reader of the ready topic, from its beginning. */
    ReadyReader readyReader() {
        return new ReadyReader();
    }

    @Override
    public void close() {
        for (Gate gate : gates) {
            if (gate.isRunning()) {
                gate.close();
            }
        }
        producer.close();
        admin.close();
        redis.close();
    }

    static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        var header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    /** Collects what the gate released, in the order read. */
    final class ReadyReader implements AutoCloseable {

        private final KafkaConsumer<byte[], byte[]> consumer;
        final List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();

        ReadyReader() {
            consumer = new KafkaConsumer<>(Map.of(
                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, sluice.kafkaBootstrapServers(),
                    ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
                    new ByteArrayDeserializer(), new ByteArrayDeserializer());
            List<TopicPartition> partitions = consumer.partitionsFor(topics.ready(), Duration.ofSeconds(10)).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
        }

        /** Reads until {@code count} records in all were read or the time is up. */
        List<ConsumerRecord<byte[], byte[]>> readUntil(int count, Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (records.size() < count && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(100)).forEach(records::add);
            }
            return records;
        }

        /** Reads whatever arrives during {@code duration}. */
        List<ConsumerRecord<byte[], byte[]>> readFor(Duration duration) {
            long deadline = System.nanoTime() + duration.toNanos();
            while (System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(100)).forEach(records::add);
            }
            return records;
        }

        List<ConsumerRecord<byte[], byte[]>> of(QueueName queue) {
            return records.stream().filter(r -> queue.value().equals(header(r, TaskHeaders.QUEUE))).toList();
        }

        @Override
        public void close() {
            consumer.close();
        }
    }

    static long[] timestamps(List<ConsumerRecord<byte[], byte[]>> records) {
        return records.stream().mapToLong(ConsumerRecord::timestamp).sorted().toArray();
    }

    static void sleep(Duration duration) {
        try {
            TimeUnit.MILLISECONDS.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
