package dev.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.SluiceConfig;
import dev.sluice.core.TaskHeaders;
import dev.sluice.embedded.RedisServerProcess;
import dev.sluice.embedded.SharedServers;
import io.micronaut.context.ApplicationContext;
import io.micronaut.core.type.Argument;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.client.BlockingHttpClient;
import io.micronaut.http.client.HttpClient;
import io.micronaut.runtime.server.EmbeddedServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * The dead-letter indexer across a Redis outage: Redis stopped while dead letters keep coming, started
 * again (its append-only file kept): every dead letter is listed, none twice, and what was listed before
 * is still there.
 */
class DeadLetterOutageIT {

    @Test
    void deadLettersThatCameWhileRedisWasDownAreListedOnceWhenItIsBack() throws Exception {
        String prefix = "o" + UUID.randomUUID().toString().substring(0, 8);
        String queue = "dl-" + UUID.randomUUID().toString().substring(0, 8);
        SluiceConfig config = SluiceConfig.fromEnvironment(Map.of(
                SluiceConfig.ENV_KAFKA, SharedServers.kafkaBootstrapServers(),
                SluiceConfig.ENV_TOPIC_PREFIX, prefix, SluiceConfig.ENV_KEY_PREFIX, prefix));
        try (RedisServerProcess redis = RedisServerProcess.start(RedisServerProcess.freePort(),
                Files.createTempDirectory("dead-letter-redis"), true);
             EmbeddedServer server = ApplicationContext.run(EmbeddedServer.class, Map.of(
                     "sluice.kafka", SharedServers.kafkaBootstrapServers(), "sluice.redis", redis.uri(),
                     "sluice.prefix", prefix, "micronaut.server.port", "-1"));
             HttpClient http = HttpClient.create(server.getURL());
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                     ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedServers.kafkaBootstrapServers()),
                     new ByteArraySerializer(), new ByteArraySerializer())) {
            BlockingHttpClient client = http.toBlocking();
            client.exchange(HttpRequest.POST("/queues", Map.of("rateLimit", "5/1s", "name", queue)));

            die(producer, config, queue, 0, 30);
            await().atMost(Duration.ofSeconds(30)).until(() -> listed(client, queue).size() == 30);

            redis.stop();
            die(producer, config, queue, 30, 60); // the indexer cannot write them down meanwhile
            Thread.sleep(4_000);
            redis.start();

            await().atMost(Duration.ofSeconds(60)).until(() -> listed(client, queue).size() >= 60);
            List<Map<String, Object>> all = listed(client, queue);
            assertThat(all).extracting(d -> d.get("id")).hasSize(60).doesNotHaveDuplicates();
            assertThat(all).extracting(d -> ((Number) d.get("offset")).longValue()).doesNotHaveDuplicates();
            for (int i = 0; i < 60; i++) {
                assertThat(all).extracting(d -> d.get("id")).contains("d-" + i);
            }
        }
    }

    /** Writes the dead letters {@code d-from … d-(to-1)} of the queue as a worker does. */
    private static void die(KafkaProducer<byte[], byte[]> producer, SluiceConfig config, String queue, int from, int to)
            throws Exception {
        for (int i = from; i < to; i++) {
            ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(config.topics().dead(), 0, null,
                    utf8("d-" + i), utf8("{\"n\":" + i + "}"));
            record.headers().add(TaskHeaders.ID, utf8("d-" + i));
            record.headers().add(TaskHeaders.QUEUE, utf8(queue));
            record.headers().add(TaskHeaders.ATTEMPT, utf8("2"));
            record.headers().add(TaskHeaders.ERROR, utf8("failed for good"));
            producer.send(record).get();
        }
    }

    private static List<Map<String, Object>> listed(BlockingHttpClient client, String queue) {
        try {
            Map<String, Object> page = client.retrieve(HttpRequest.GET("/queues/" + queue + "/dead?limit=500"),
                    Argument.mapOf(String.class, Object.class));
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> deadLetters = (List<Map<String, Object>>) page.get("deadLetters");
            return deadLetters;
        } catch (RuntimeException unavailable) {
            return List.of(); // Redis or the service not answering yet
        }
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
