package dev.sluice.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.core.SluiceConfig;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.kafka.TopicProvisioner;
import dev.sluice.embedded.SharedServers;
import dev.sluice.embedded.TopicReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class TaskSubmitterIT {

    @Test
    void submitsTasksKeyedByQueueWithTheirIdsAndPayloadsUntouched() {
        String prefix = "s" + UUID.randomUUID().toString().substring(0, 8);
        SluiceConfig config = config(prefix);
        TopicProvisioner.ensureSharedTopics(config.kafkaBootstrapServers(), config.topics(), 1);
        createQueues(config, "emails", "sms");
        List<String> ids = new ArrayList<>();
        try (TaskSubmitter submitter = new TaskSubmitter(config)) {
            ids.add(submitter.submit("emails", "{\"to\":\"a@b.c\"}".getBytes(StandardCharsets.UTF_8)).join());
            ids.add(submitter.submit("emails", "order-42", new byte[] {0, 1, 2}).join());
            for (CompletableFuture<String> id : submitter.submitAll("sms", List.of(new byte[] {7}, new byte[] {8}))) {
                ids.add(id.join());
            }

            assertThatThrownBy(() -> submitter.submit("a.b", new byte[0])).hasMessageContaining("invalid queue name");
            assertThatThrownBy(() -> submitter.submit("emails", " ", new byte[0])).hasMessageContaining("task id");
        }

        List<ConsumerRecord<byte[], byte[]>> stored = readAll(config);
        assertThat(stored).hasSize(4);
        assertThat(stored).extracting(r -> new String(r.key(), StandardCharsets.UTF_8))
                .containsExactlyInAnyOrder("emails", "emails", "sms", "sms");
        assertThat(stored).extracting(r -> new String(r.headers().lastHeader(TaskHeaders.ID).value(),
                StandardCharsets.UTF_8)).containsExactlyInAnyOrderElementsOf(ids).contains("order-42");
        assertThat(stored).filteredOn(r -> r.value().length == 3).singleElement()
                .satisfies(r -> assertThat(r.value()).containsExactly(0, 1, 2));
        assertThat(stored).allSatisfy(r -> assertThat(r.headers().lastHeader(TaskHeaders.SUBMITTED_AT)).isNotNull());
    }

    @Test
    void aQueueThatDoesNotExistIsRefusedAtOnceUnlessUnchecked() {
        SluiceConfig config = config("s" + UUID.randomUUID().toString().substring(0, 8));
        TopicProvisioner.ensureSharedTopics(config.kafkaBootstrapServers(), config.topics(), 1);
        createQueues(config, "emails");
        try (TaskSubmitter submitter = new TaskSubmitter(config)) {
            assertThatThrownBy(() -> submitter.submit("nosuchqueue", new byte[] {1}))
                    .isInstanceOf(UnknownQueueException.class)
                    .hasMessageContaining("no queue named \"nosuchqueue\"");
            assertThatThrownBy(() -> submitter.submitAll("nosuchqueue", List.of(new byte[] {1})))
                    .isInstanceOf(UnknownQueueException.class);
            submitter.submit("emails", "known", new byte[] {2}).join();
        }
        try (TaskSubmitter unchecked = TaskSubmitter.unchecked(config)) {
            unchecked.submit("nosuchqueue", "sent-anyway", new byte[] {3}).join(); // the router will reject it
        }

        List<ConsumerRecord<byte[], byte[]>> stored = TopicReader.readCommitted(config.kafkaBootstrapServers(),
                config.topics().tasks(), 2, Duration.ofSeconds(10), Duration.ofMillis(300));
        assertThat(stored).extracting(r -> new String(r.headers().lastHeader(TaskHeaders.ID).value(),
                StandardCharsets.UTF_8)).containsExactlyInAnyOrder("known", "sent-anyway");
    }

    @Test
    void aForecastTellsWhenEachTaskIsReleasedBehindTheBacklogAtTheLimit() throws Exception {
        SluiceConfig config = config("s" + UUID.randomUUID().toString().substring(0, 8));
        TopicProvisioner.ensureSharedTopics(config.kafkaBootstrapServers(), config.topics(), 1);
        createQueues(config, "emails");
        dev.sluice.core.QueueName emails = dev.sluice.core.QueueName.of("emails");
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(config.kafkaProperties())) {
            new TopicProvisioner(admin, config.topics(), (short) 1).ensureQueueTopic(emails);
        }
        // four tasks already wait in the queue's topic, released by no gate here
        try (org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]> producer = new org.apache.kafka.clients.producer.KafkaProducer<>(
                config.kafkaProperties(), new org.apache.kafka.common.serialization.ByteArraySerializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            for (int i = 0; i < 4; i++) {
                producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(config.topics().queue(emails),
                        new byte[] {(byte) i})).get();
            }
        }
        java.time.Instant before = java.time.Instant.now();
        try (TaskSubmitter submitter = new TaskSubmitter(config)) {
            TaskSubmitter.Submitted submitted = submitter.submitAllForecast("emails",
                    List.of(new byte[] {1}, new byte[] {2}, new byte[] {3}));

            assertThat(submitted.ids()).hasSize(3).doesNotHaveDuplicates();
            List<java.time.Instant> forecast = submitted.releaseForecast();
            assertThat(forecast).hasSize(3);
            // 10/1s with a full bucket of 1: the first waiting task goes now, then one every 101 ms (the guarded
            // period, 1.01 s, over 10): the new tasks are the 5th, 6th and 7th, 4, 5 and 6 intervals on
            assertThat(Duration.between(forecast.get(0), forecast.get(1))).isEqualTo(Duration.ofMillis(101));
            assertThat(Duration.between(forecast.get(1), forecast.get(2))).isEqualTo(Duration.ofMillis(101));
            assertThat(forecast.get(0)).isBetween(before.plusMillis(404 - 1_000), before.plusMillis(404 + 5_000));

            try (redis.clients.jedis.UnifiedJedis redis = dev.sluice.core.redis.RedisConnections.open(config)) {
                new dev.sluice.core.redis.QueueRegistry(redis, config.keys()).setState(emails, dev.sluice.core.QueueState.INACTIVE);
            }
            TaskSubmitter.Submitted paused = submitter.submitAllForecast("emails", List.of(new byte[] {4}));
            assertThat(paused.ids()).hasSize(1);
            assertThat(paused.releaseForecast()).as("a paused queue releases nothing until resumed").isEmpty();

            assertThatThrownBy(() -> submitter.submitAllForecast("nosuchqueue", List.of(new byte[] {5})))
                    .isInstanceOf(UnknownQueueException.class);
        }
        try (TaskSubmitter unchecked = TaskSubmitter.unchecked(config)) {
            assertThatThrownBy(() -> unchecked.submitAllForecast("emails", List.of(new byte[] {6})))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("unchecked");
        }
    }

    private static SluiceConfig config(String prefix) {
        return SluiceConfig.fromEnvironment(Map.of(
                SluiceConfig.ENV_KAFKA, SharedServers.kafkaBootstrapServers(),
                SluiceConfig.ENV_REDIS, SharedServers.redisUri(),
                SluiceConfig.ENV_TOPIC_PREFIX, prefix,
                SluiceConfig.ENV_KEY_PREFIX, prefix));
    }

    private static void createQueues(SluiceConfig config, String... names) {
        try (redis.clients.jedis.UnifiedJedis redis = dev.sluice.core.redis.RedisConnections.open(config)) {
            dev.sluice.core.redis.QueueRegistry registry = new dev.sluice.core.redis.QueueRegistry(redis, config.keys());
            for (String name : names) {
                registry.create(dev.sluice.core.QueueName.of(name),
                        dev.sluice.core.QueueSpec.of(dev.sluice.core.RateLimit.parse("10/1s")));
            }
        }
    }

    private static List<ConsumerRecord<byte[], byte[]>> readAll(SluiceConfig config) {
        return TopicReader.readCommitted(config.kafkaBootstrapServers(), config.topics().tasks(), 4,
                Duration.ofSeconds(10), Duration.ofMillis(300));
    }
}
