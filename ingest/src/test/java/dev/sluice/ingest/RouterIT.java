package dev.sluice.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.QueueName;
import dev.sluice.core.QueueSpec;
import dev.sluice.core.RateLimit;
import dev.sluice.core.SluiceConfig;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.kafka.TopicProvisioner;
import dev.sluice.core.redis.QueueRegistry;
import dev.sluice.embedded.SharedServers;
import dev.sluice.embedded.TopicReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

/** The router on the real broker and Redis: everything routed once, bad records rejected, restarts lose nothing. */
class RouterIT {

    @Test
    void routesEveryTaskExactlyOnceAcrossARestartAndRejectsTheBadOnes() throws Exception {
        String prefix = "r" + UUID.randomUUID().toString().substring(0, 8);
        SluiceConfig config = SluiceConfig.fromEnvironment(Map.of(
                SluiceConfig.ENV_KAFKA, SharedServers.kafkaBootstrapServers(),
                SluiceConfig.ENV_REDIS, SharedServers.redisUri(),
                SluiceConfig.ENV_TOPIC_PREFIX, prefix, SluiceConfig.ENV_KEY_PREFIX, prefix));
        List<QueueName> queues = List.of(QueueName.generate(), QueueName.generate(), QueueName.generate());
        try (RedisClient redis = RedisClient.create(URI.create(SharedServers.redisUri()));
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafkaBootstrapServers()))) {
            TopicProvisioner provisioner = new TopicProvisioner(admin, config.topics(), (short) 1);
            provisioner.ensureSharedTopics(1);
            QueueRegistry registry = new QueueRegistry(redis, config.keys());
            for (QueueName queue : queues) {
                provisioner.ensureQueueTopic(queue);
                registry.create(queue, QueueSpec.of(RateLimit.parse("10/1s")));
            }
        }

        try (TaskSubmitter submitter = TaskSubmitter.unchecked(config)) {
            Router first = Router.start(config, 1024);
            await().atMost(Duration.ofSeconds(30)).until(() -> first.state() == KafkaStreams.State.RUNNING);
            submitHalf(submitter, queues, 0);
            first.close();
            submitHalf(submitter, queues, 1);
            try (Router second = Router.start(config, 1024)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> second.state() == KafkaStreams.State.RUNNING);
                for (QueueName queue : queues) {
                    List<ConsumerRecord<byte[], byte[]>> routed = read(config, config.topics().queue(queue), 334);
                    Set<String> ids = new HashSet<>();
                    routed.forEach(r -> ids.add(new String(r.headers().lastHeader(TaskHeaders.ID).value(),
                            StandardCharsets.UTF_8)));
                    assertThat(routed).as("tasks routed to %s", queue).hasSize(334);
                    assertThat(ids).hasSize(334);
                }
                List<ConsumerRecord<byte[], byte[]>> rejected = read(config, config.topics().rejected(), 12);
                List<String> reasons = rejected.stream().map(r -> new String(
                        r.headers().lastHeader(RoutingProcessor.REJECT_REASON).value(), StandardCharsets.UTF_8)).toList();
                assertThat(reasons).hasSize(12);
                assertThat(reasons).filteredOn(reason -> reason.startsWith("unknown queue \"no-such-queue\"")).hasSize(6);
                assertThat(reasons).filteredOn(reason -> reason.startsWith("payload of 2000 bytes")).hasSize(6);
            }
        }
    }

    /** 167 tasks per queue (half of 334) and 6 bad records interleaved (i = 0, 33, ... 165). */
    private static void submitHalf(TaskSubmitter submitter, List<QueueName> queues, int half) {
        for (int i = 0; i < 167; i++) {
            for (QueueName queue : queues) {
                submitter.submit(queue.value(), ("{\"half\":" + half + ",\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8));
            }
            if (i % 33 == 0) {
                submitter.submit(i % 2 == 0 ? "no-such-queue" : queues.get(0).value(),
                        new byte[i % 2 == 0 ? 10 : 2000]);
            }
        }
        submitter.flush();
    }

    private static List<ConsumerRecord<byte[], byte[]>> read(SluiceConfig config, String topic, int expected) {
        // half a second more than needed: anything beyond the expected count would be a duplicate
        return TopicReader.readCommitted(config.kafkaBootstrapServers(), topic, expected, Duration.ofSeconds(30),
                Duration.ofMillis(500));
    }
}
