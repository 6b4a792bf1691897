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
