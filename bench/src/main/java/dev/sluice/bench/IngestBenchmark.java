package dev.sluice.bench;

import dev.sluice.core.QueueName;
import dev.sluice.core.QueueSpec;
import dev.sluice.core.RateLimit;
import dev.sluice.core.SluiceConfig;
import dev.sluice.core.TaskEvent;
import dev.sluice.core.kafka.TopicProvisioner;
import dev.sluice.core.redis.QueueRegistry;
import dev.sluice.embedded.SharedServers;
import dev.sluice.ingest.Router;
import dev.sluice.ingest.RouterTopology;
import dev.sluice.ingest.Stats;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Produced;
import redis.clients.jedis.RedisClient;

/**
 * (a) a pass-through Kafka Streams copy (exactly-once v2) of 100,000 submissions against (b) the
 * router on the same records with the same guarantees, in one run; then the statistics' lag from an
 * event sent to its figure visible in Redis, p50 and p99 over 200 events.
 */
public final class IngestBenchmark {

    private static final int RECORDS = 100_000;

    private IngestBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        String prefix = "ibench" + UUID.randomUUID().toString().substring(0, 6);
        SluiceConfig config = SluiceConfig.fromEnvironment(Map.of(
                SluiceConfig.ENV_KAFKA, SharedServers.kafkaBootstrapServers(), SluiceConfig.ENV_REDIS, SharedServers.redisUri(),
                SluiceConfig.ENV_TOPIC_PREFIX, prefix, SluiceConfig.ENV_KEY_PREFIX, prefix));
        TopicProvisioner.ensureSharedTopics(config.kafkaBootstrapServers(), config.topics(), 1);
        List<QueueName> queues = List.of(QueueName.generate(), QueueName.generate(), QueueName.generate());
        String copyOut = prefix + ".copy-out";
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafkaBootstrapServers()));
             RedisClient redis = RedisClient.create(URI.create(SharedServers.redisUri()))) {
            TopicProvisioner provisioner = new TopicProvisioner(admin, config.topics(), (short) 1);
            QueueRegistry registry = new QueueRegistry(redis, config.keys());
            for (QueueName queue : queues) {
                provisioner.ensureQueueTopic(queue);
                registry.create(queue, QueueSpec.of(RateLimit.parse("10/1s")));
            }
            admin.createTopics(List.of(new NewTopic(copyOut, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafkaBootstrapServers(),
                    ProducerConfig.LINGER_MS_CONFIG, 10, ProducerConfig.BATCH_SIZE_CONFIG, 65536),
                    new ByteArraySerializer(), new ByteArraySerializer())) {
                for (int i = 0; i < RECORDS; i++) {
                    producer.send(new ProducerRecord<>(config.topics().tasks(),
                            queues.get(i % 3).value().getBytes(StandardCharsets.UTF_8), new byte[200]));
                }
            }
            System.out.printf("Ingest benchmark on the embedded broker: %d submissions of 200 B for 3 queues%n", RECORDS);

            double copy = passThrough(config, copyOut);
            System.out.printf(Locale.ROOT, "(a) pass-through Streams copy, exactly-once v2: %.0f records/s%n", copy);
            double routed;
            try (Router router = Router.start(config, RouterTopology.DEFAULT_MAX_PAYLOAD_BYTES)) {
                routed = count(config, queues.stream().map(q -> config.topics().queue(q)).toList(), RECORDS);
            }
            System.out.printf(Locale.ROOT, "(b) router, same records and guarantees: %.0f records/s (b/a = %.2f)%n",
                    routed, routed / copy);

            statisticsLag(config, queues.get(0), redis);
        }
        System.exit(0);
    }

    private static double passThrough(SluiceConfig config, String out) throws Exception {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(config.topics().tasks(), org.apache.kafka.streams.kstream.Consumed.with(Serdes.ByteArray(),
                Serdes.ByteArray())).to(out, Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, config.topics().prefix() + "-copy");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafkaBootstrapServers());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
        props.put(StreamsConfig.producerPrefix(ProducerConfig.RETRY_BACKOFF_MS_CONFIG), 5);
        props.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("copy").toString());
        try (KafkaStreams streams = new KafkaStreams(builder.build(), props)) {
            streams.start();
            return count(config, List.of(out), RECORDS);
        }
    }

    /** Records/s arriving (read committed) on the topics, timed from the first to the last. */
    private static double count(SluiceConfig config, List<String> topics, int total) {
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafkaBootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = topics.stream().map(t -> new TopicPartition(t, 0)).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            int seen = 0;
            long first = 0;
            long last = 0;
            long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
            while (seen < total && System.nanoTime() < deadline) {
                int got = consumer.poll(Duration.ofMillis(50)).count();
                if (got > 0) {
                    if (first == 0) {
                        first = System.nanoTime();
                    }
                    seen += got;
                    last = System.nanoTime();
                }
            }
            return seen * 1e9 / (last - first);
        }
    }

    private static void statisticsLag(SluiceConfig config, QueueName queue, RedisClient redis) throws Exception {
        long[] lags = new long[200];
        try (Stats stats = Stats.start(config);
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                     ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafkaBootstrapServers(), ProducerConfig.LINGER_MS_CONFIG, 0),
                     new ByteArraySerializer(), new ByteArraySerializer())) {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (stats.state() != KafkaStreams.State.RUNNING && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            for (int i = 0; i < lags.length; i++) {
                TaskEvent event = TaskEvent.of(TaskEvent.Type.completed, queue, "t-" + i, 0, System.currentTimeMillis());
                long sent = System.nanoTime();
                producer.send(new ProducerRecord<>(config.topics().events(), null, event.at(),
                        queue.value().getBytes(StandardCharsets.UTF_8), event.toJson())).get();
                String expected = Integer.toString(i + 1);
                while (!expected.equals(redis.hget(config.keys().stats(queue), "completed"))
                        && System.nanoTime() - sent < 10_000_000_000L) {
                    Thread.sleep(1);
                }
                lags[i] = (System.nanoTime() - sent) / 1_000_000;
            }
        }
        Arrays.sort(lags);
        System.out.printf(Locale.ROOT, "statistics lag, event sent to its total visible in Redis, 200 events one at"
                + " a time: p50 %d ms, p99 %d ms, max %d ms%n", lags[99], lags[197], lags[199]);
    }
}
