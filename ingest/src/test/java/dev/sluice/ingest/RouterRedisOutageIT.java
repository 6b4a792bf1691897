package dev.sluice.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.sluice.core.QueueName;
import dev.sluice.core.QueueSpec;
import dev.sluice.core.RateLimit;
import dev.sluice.core.SluiceConfig;
import dev.sluice.core.kafka.TopicProvisioner;
import dev.sluice.core.redis.QueueRegistry;
import dev.sluice.embedded.RedisServerProcess;
import dev.sluice.embedded.SharedServers;
import dev.sluice.embedded.TopicReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.RedisClient;

/** The router meets a queue it must look up while Redis is down: it waits for Redis, then goes on. */
class RouterRedisOutageIT {

    @Test
    void aLookupWhileRedisIsDownWaitsForRedisInsteadOfFailingInALoop() throws Exception {
        ListAppender<ILoggingEvent> routerLog = new ListAppender<>();
        routerLog.start();
        ((Logger) LoggerFactory.getLogger(Router.class)).addAppender(routerLog);
        String prefix = "ro" + UUID.randomUUID().toString().substring(0, 8);
        QueueName known = QueueName.generate();
        QueueName missing = QueueName.generate(); // never created: rejected once Redis can say so
        try (RedisServerProcess redisServer = RedisServerProcess.start(RedisServerProcess.freePort(),
                Files.createTempDirectory("router-redis"), true)) {
            SluiceConfig config = SluiceConfig.fromEnvironment(Map.of(
                    SluiceConfig.ENV_KAFKA, SharedServers.kafkaBootstrapServers(),
                    SluiceConfig.ENV_REDIS, redisServer.uri(),
                    SluiceConfig.ENV_TOPIC_PREFIX, prefix, SluiceConfig.ENV_KEY_PREFIX, prefix));
            try (RedisClient redis = RedisClient.create(java.net.URI.create(redisServer.uri()));
                 Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                         config.kafkaBootstrapServers()))) {
                TopicProvisioner provisioner = new TopicProvisioner(admin, config.topics(), (short) 1);
                provisioner.ensureSharedTopics(1);
                provisioner.ensureQueueTopic(known);
                new QueueRegistry(redis, config.keys()).create(known, QueueSpec.of(RateLimit.parse("10/1s")));
            }
            try (TaskSubmitter submitter = new TaskSubmitter(config);
                 Router router = Router.start(config, 1024)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> router.state() == KafkaStreams.State.RUNNING);

                redisServer.stop();
                submitter.submit(missing.value(), utf8("{\"n\":0}"));
                submitter.submit(known.value(), utf8("{\"n\":1}"));
                submitter.flush();
                Thread.sleep(8_000); // a lookup that fails is retried at once: dozens of failures by now

                assertThat(routerLog.list).as("router threads replaced while Redis was down")
                        .noneMatch(e -> e.getFormattedMessage().contains("is replaced"));
                assertThat(router.state()).isEqualTo(KafkaStreams.State.RUNNING);

                redisServer.start();
                List<ConsumerRecord<byte[], byte[]>> rejected = TopicReader.readCommitted(
                        config.kafkaBootstrapServers(), config.topics().rejected(), 1, Duration.ofSeconds(30),
                        Duration.ofMillis(500));
                assertThat(rejected).hasSize(1);
                assertThat(new String(rejected.get(0).headers().lastHeader(RoutingProcessor.REJECT_REASON).value(),
                        StandardCharsets.UTF_8)).startsWith("unknown queue \"" + missing + "\"");
                assertThat(TopicReader.readCommitted(config.kafkaBootstrapServers(), config.topics().queue(known), 1,
                        Duration.ofSeconds(30), Duration.ofMillis(500))).hasSize(1);
                assertThat(routerLog.list).noneMatch(e -> e.getFormattedMessage().contains("is replaced"));
            }
        } finally {
            ((Logger) LoggerFactory.getLogger(Router.class)).detachAppender(routerLog);
        }
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
