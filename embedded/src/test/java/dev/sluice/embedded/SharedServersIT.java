package dev.sluice.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.exceptions.JedisConnectionException;

/** The shared servers are real: a Kafka broker that stores and serves records, a Redis that answers. */
class SharedServersIT {

    @Test
    void kafkaStoresAndServesRecordsAndRunsTransactions() throws Exception {
        String bootstrap = SharedServers.kafkaBootstrapServers();
        String topic = "t-" + UUID.randomUUID();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, "tx-" + topic),
                new StringSerializer(), new StringSerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "k", "committed"));
            producer.commitTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "k", "aborted"));
            producer.flush();
            producer.abortTransaction();
        }
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
                new StringDeserializer(), new StringDeserializer())) {
            TopicPartition partition = new TopicPartition(topic, 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            ConsumerRecords<String, String> records = consumer.poll(Duration.ofSeconds(10));

            assertThat(records.records(partition)).extracting(r -> r.value()).containsExactly("committed");
        }
    }

    @Test
    void kafkaDoesNotCreateTopicsOnFirstUse() throws Exception {
        String bootstrap = SharedServers.kafkaBootstrapServers();
        String typo = "sluice.q.typo-" + UUID.randomUUID();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, "1500"),
                new StringSerializer(), new StringSerializer())) {
            assertThatThrownBy(() -> producer.send(new ProducerRecord<>(typo, "v")).get())
                    .hasCauseInstanceOf(TimeoutException.class);
        }
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            assertThat(admin.listTopics().names().get(10, TimeUnit.SECONDS)).doesNotContain(typo);
        }
    }

    @Test
    void redisAnswersAndKeepsData() {
        try (RedisClient redis = RedisClient.create(URI.create(SharedServers.redisUri()))) {
            String key = "t:" + UUID.randomUUID();
            redis.set(key, "v");

            assertThat(redis.ping()).isEqualTo("PONG");
            assertThat(redis.get(key)).isEqualTo("v");
            assertThat(redis.info("server")).contains("redis_version:");
        }
    }

    @Test
    void aStoppedRedisRefusesConnectionsAndComesBackOnTheSamePort() {
        assumeTrue(SharedServers.redisProcess().isPresent(), "REDIS_URL names an external server");
        RedisServerProcess process = RedisServerProcess.startEphemeral();
        try (RedisClient redis = RedisClient.create(URI.create(process.uri()))) {
            process.stop();
            assertThatThrownBy(redis::ping).isInstanceOf(JedisConnectionException.class);

            process.start();
            assertThat(redis.ping()).isEqualTo("PONG");
        } finally {
            process.close();
        }
    }

    @Test
    void appendOnlyDataSurvivesARestart(@org.junit.jupiter.api.io.TempDir java.nio.file.Path data) {
        assumeTrue(SharedServers.redisProcess().isPresent(), "REDIS_URL names an external server");
        try (RedisServerProcess process = RedisServerProcess.start(RedisServerProcess.freePort(), data, true)) {
            try (RedisClient redis = RedisClient.create(URI.create(process.uri()))) {
                redis.set("kept", "yes");
            }
            process.stop();
            process.start();
            try (RedisClient redis = RedisClient.create(URI.create(process.uri()))) {
                assertThat(redis.get("kept")).isEqualTo("yes");
            }
        }
    }

    @Test
    void aPortInUseIsReportedWithTheServersOwnWords() {
        assumeTrue(SharedServers.redisProcess().isPresent(), "REDIS_URL names an external server");
        int taken = SharedServers.redisProcess().orElseThrow().port();

        assertThatThrownBy(() -> RedisServerProcess.start(taken, java.nio.file.Files.createTempDirectory("r"), false))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("did not start on port " + taken);
    }

}
