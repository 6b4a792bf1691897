package dev.sluice.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.QueueName;
import dev.sluice.core.QueueSpec;
import dev.sluice.core.RateLimit;
import dev.sluice.core.SluiceConfig;
import dev.sluice.core.TaskEvent;
import dev.sluice.core.kafka.TopicProvisioner;
import dev.sluice.core.redis.QueueRegistry;
import dev.sluice.embedded.SharedServers;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

/** The statistics application on the real broker and Redis: events counted exactly, seen in Redis promptly. */
class StatsIT {

    @Test
    void countsEventsOfThreeQueuesExactlyIntoRedis() throws Exception {
        String prefix = "x" + UUID.randomUUID().toString().substring(0, 8);
        SluiceConfig config = SluiceConfig.fromEnvironment(Map.of(
                SluiceConfig.ENV_KAFKA, SharedServers.kafkaBootstrapServers(),
                SluiceConfig.ENV_REDIS, SharedServers.redisUri(),
                SluiceConfig.ENV_TOPIC_PREFIX, prefix, SluiceConfig.ENV_KEY_PREFIX, prefix));
        TopicProvisioner.ensureSharedTopics(config.kafkaBootstrapServers(), config.topics(), 1);
        List<QueueName> queues = List.of(QueueName.generate(), QueueName.generate(), QueueName.generate());
        try (RedisClient redis = RedisClient.create(URI.create(SharedServers.redisUri()));
             Stats stats = Stats.start(config);
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                     ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafkaBootstrapServers()),
                     new ByteArraySerializer(), new ByteArraySerializer())) {
            QueueRegistry registry = new QueueRegistry(redis, config.keys());
            queues.forEach(q -> registry.create(q, QueueSpec.of(RateLimit.parse("10/1s"))));
            await().atMost(Duration.ofSeconds(30)).until(() -> stats.state() == KafkaStreams.State.RUNNING);

            long now = System.currentTimeMillis();
            for (int i = 0; i < 1000; i++) {
                QueueName queue = queues.get(i % 3);
                if (i % 10 == 0) {
                    release(producer, config, queue, 5, now); // as the gate writes them
                    continue;
                }
                TaskEvent event = TaskEvent.of(TaskEvent.Type.completed, queue, "t-" + i, 0, now);
                producer.send(new ProducerRecord<>(config.topics().events(), null, event.at(),
                        queue.value().getBytes(StandardCharsets.UTF_8), event.toJson()));
            }
            producer.flush();
            // a gate's transaction that failed: its records are on the topic, aborted, and released nothing
            try (KafkaProducer<byte[], byte[]> gate = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafkaBootstrapServers(),
                    ProducerConfig.TRANSACTIONAL_ID_CONFIG, prefix + "-aborted"),
                    new ByteArraySerializer(), new ByteArraySerializer())) {
                gate.initTransactions();
                gate.beginTransaction();
                release(gate, config, queues.get(0), 7, now);
                gate.flush();
                gate.abortTransaction();
            }
            release(producer, config, queues.get(1), 1, now); // after the aborted ones in the partition: seen after them
            producer.flush();
            long sent = System.currentTimeMillis();

            // i % 10 == 0 for 100 events: i = 0, 10, ... 990; queue i % 3
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                assertThat(redis.hget(config.keys().stats(queues.get(0)), "completed")).isEqualTo("300");
                assertThat(redis.hget(config.keys().stats(queues.get(1)), "completed")).isEqualTo("300");
                assertThat(redis.hget(config.keys().stats(queues.get(2)), "completed")).isEqualTo("300");
                assertThat(redis.hget(config.keys().stats(queues.get(0)), "released")).isEqualTo("170");
                assertThat(redis.hget(config.keys().stats(queues.get(1)), "released")).isEqualTo("166");
                assertThat(redis.hget(config.keys().stats(queues.get(2)), "released")).isEqualTo("165");
            });
            System.out.printf("statistics for 900 events and 501 releases visible in Redis %d ms after the last was sent%n",
                    System.currentTimeMillis() - sent);
            assertThat(redis.get(config.keys().releasedInSecond(queues.get(0), now / 1000))).isEqualTo("170");
        }
    }

    private static void release(KafkaProducer<byte[], byte[]> producer, SluiceConfig config, QueueName queue, int count,
                                long slotMillis) {
        for (int i = 0; i < count; i++) {
            ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(config.topics().ready(), null, slotMillis,
                    null, "{}".getBytes(StandardCharsets.UTF_8));
            record.headers().add(dev.sluice.core.TaskHeaders.QUEUE, queue.value().getBytes(StandardCharsets.UTF_8));
            producer.send(record);
        }
    }
}
