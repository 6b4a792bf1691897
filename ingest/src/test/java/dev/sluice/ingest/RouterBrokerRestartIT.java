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
import dev.sluice.embedded.EmbeddedKafka;
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
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

/** The router rides out a broker restart: nothing lost, nothing routed twice. Its own broker, not the shared one. */
class RouterBrokerRestartIT {

    @Test
    void routesEveryTaskExactlyOnceAcrossABrokerRestart() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start();
             RedisClient redis = RedisClient.create(URI.create(SharedServers.redisUri()))) {
            String prefix = "b" + UUID.randomUUID().toString().substring(0, 8);
            SluiceConfig config = SluiceConfig.fromEnvironment(Map.of(
                    SluiceConfig.ENV_KAFKA, kafka.bootstrapServers(), SluiceConfig.ENV_REDIS, SharedServers.redisUri(),
                    SluiceConfig.ENV_TOPIC_PREFIX, prefix, SluiceConfig.ENV_KEY_PREFIX, prefix));
            TopicProvisioner.ensureSharedTopics(config.kafkaBootstrapServers(), config.topics(), 1);
            QueueName queue = QueueName.generate();
            try (var admin = org.apache.kafka.clients.admin.Admin.create(Map.of(
                    org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
                new TopicProvisioner(admin, config.topics(), (short) 1).ensureQueueTopic(queue);
            }
            new QueueRegistry(redis, config.keys()).create(queue, QueueSpec.of(RateLimit.parse("10/1s")));

            try (Router router = Router.start(config, 1024);
                 TaskSubmitter submitter = new TaskSubmitter(config)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> router.state() == KafkaStreams.State.RUNNING);
                for (int i = 0; i < 200; i++) {
                    submitter.submit(queue.value(), "before-" + i, new byte[] {1});
                }
                submitter.flush();
                kafka.restartBroker();
                for (int i = 0; i < 200; i++) {
                    submitter.submit(queue.value(), "after-" + i, new byte[] {2});
                }
                submitter.flush();

                List<ConsumerRecord<byte[], byte[]>> routed = TopicReader.readCommitted(kafka.bootstrapServers(),
                        config.topics().queue(queue), 400, Duration.ofSeconds(90), Duration.ofSeconds(1));
                Set<String> ids = new HashSet<>();
                routed.forEach(r -> ids.add(new String(r.headers().lastHeader(TaskHeaders.ID).value(),
                        StandardCharsets.UTF_8)));
                assertThat(routed).hasSize(400);
                assertThat(ids).hasSize(400).contains("before-0", "before-199", "after-0", "after-199");
            }
        }
    }
}
