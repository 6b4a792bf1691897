package dev.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.QueueName;
import dev.sluice.core.RedisKeys;
import dev.sluice.core.TaskEvent;
import dev.sluice.embedded.SharedServers;
import dev.sluice.ingest.RedisStatsSink;
import io.micronaut.core.type.Argument;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.client.HttpClient;
import io.micronaut.http.client.annotation.Client;
import io.micronaut.http.client.exceptions.HttpClientResponseException;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import io.micronaut.test.support.TestPropertyProvider;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import redis.clients.jedis.RedisClient;

/**
 * Health, metrics, the OpenAPI document, the idle reaper and the consumed records' janitor, against the
 * real broker and Redis.
 */
@MicronautTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OperationsIT implements TestPropertyProvider {

    private final String prefix = "o" + UUID.randomUUID().toString().substring(0, 8);

    @Inject
    @Client("/")
    HttpClient client;

    @Inject
    Admin kafka;

    @Override
    public Map<String, String> getProperties() {
        return Map.of("sluice.kafka", SharedServers.kafkaBootstrapServers(), "sluice.redis", SharedServers.redisUri(),
                "sluice.prefix", prefix, "micronaut.server.port", "-1",
                "sluice.metrics.refresh", "200ms", "sluice.reaper.interval", "300ms", "sluice.janitor.interval", "300ms");
    }

    private String create(Map<String, Object> body) {
        return (String) client.toBlocking().retrieve(HttpRequest.POST("/queues", body),
                Argument.mapOf(String.class, Object.class)).get("name");
    }

    private String get(String path) {
        return client.toBlocking().retrieve(HttpRequest.GET(path), String.class);
    }

    @Test
    void aQueuesRecordsTheGateIsDoneWithAreDeletedAndTheRestKeptWhateverTheirAge() throws Exception {
        String name = create(Map.of("rateLimit", "5/1s"));
        String topic = prefix + ".q." + name;
        org.apache.kafka.common.TopicPartition partition = new org.apache.kafka.common.TopicPartition(topic, 0);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                "bootstrap.servers", SharedServers.kafkaBootstrapServers()),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < 5; i++) {
                producer.send(new ProducerRecord<>(topic, ("t" + i).getBytes())).get();
            }
        }
        // the gate released three
        kafka.alterConsumerGroupOffsets(prefix + "-gate", Map.of(partition,
                new org.apache.kafka.clients.consumer.OffsetAndMetadata(3))).all().get(10, TimeUnit.SECONDS);

        await().atMost(Duration.ofSeconds(10)).until(() -> kafka.listOffsets(Map.of(partition,
                org.apache.kafka.clients.admin.OffsetSpec.earliest())).partitionResult(partition).get().offset() == 3);
        org.apache.kafka.common.config.ConfigResource config = new org.apache.kafka.common.config.ConfigResource(
                org.apache.kafka.common.config.ConfigResource.Type.TOPIC, topic);
        await().atMost(Duration.ofSeconds(10)).until(() -> "-1".equals(kafka.describeConfigs(java.util.List.of(config))
                .all().get().get(config).get("retention.ms").value()));
    }

    @Test
    void healthSaysRedisAndKafkaAreUp() {
        HttpResponse<Map<String, Object>> health = client.toBlocking().exchange(HttpRequest.GET("/health"),
                Argument.mapOf(String.class, Object.class));

        assertThat(health.getStatus().getCode()).isEqualTo(200);
        assertThat(health.body()).containsEntry("status", "UP");
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> details = (Map<String, Map<String, Object>>) health.body().get("details");
        assertThat(details.get("redis")).containsEntry("status", "UP");
        assertThat(details.get("kafka")).containsEntry("status", "UP");
        assertThat(details.get("kafka").get("details")).isEqualTo(Map.of("brokers", 1, "controller", "0"));
    }

    @Test
    void prometheusShowsEachQueuesCountersAndDropsThemWithTheQueue() {
        String name = create(Map.of("rateLimit", "5/1s"));
        try (RedisClient redis = RedisClient.create(SharedServers.redisUri())) {
            RedisStatsSink sink = new RedisStatsSink(redis, new RedisKeys(prefix));
            sink.total(QueueName.of(name), TaskEvent.Type.released, 7);
            sink.total(QueueName.of(name), TaskEvent.Type.completed, 5);
        }

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(get("/prometheus"))
                .contains("sluice_queue_released_total{queue=\"" + name + "\"} 7.0")
                .contains("sluice_queue_completed_total{queue=\"" + name + "\"} 5.0")
                .contains("sluice_queue_waiting{queue=\"" + name + "\"} 0.0")
                .contains("sluice_queue_tokens{queue=\"" + name + "\"} 1.0")
                .contains("http_server_requests_seconds_count"));

        client.toBlocking().exchange(HttpRequest.DELETE("/queues/" + name));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(get("/prometheus")).doesNotContain(name));
    }

    @Test
    void theOpenApiDocumentDescribesTheQueueEndpoints() {
        String document = get("/openapi");

        assertThat(document).startsWith("openapi: 3").contains("  /queues/{name}:", "  /queues/{name}/tasks:",
                "  /overview:", "title: sluice-admin");
    }

    @Test
    void theReaperRemovesQueuesIdleForTheirTtlAndKeepsTheOthers() throws Exception {
        String idle = create(Map.of("rateLimit", "5/1s", "ttlSeconds", 1));
        String backlogged = create(Map.of("rateLimit", "5/1s", "ttlSeconds", 1));
        String forever = create(Map.of("rateLimit", "5/1s", "ttlSeconds", 0));
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                "bootstrap.servers", SharedServers.kafkaBootstrapServers()),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(prefix + ".q." + backlogged, "waits".getBytes())).get();
        }

        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThatThrownBy(() -> get("/queues/" + idle))
                .isInstanceOfSatisfying(HttpClientResponseException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(404)));
        await().atMost(Duration.ofSeconds(15)).until(() -> !kafka.listTopics().names().get(5, TimeUnit.SECONDS)
                .contains(prefix + ".q." + idle));
        // the others had their TTL and more, and stay
        await().during(Duration.ofMillis(1_500)).atMost(Duration.ofSeconds(3)).untilAsserted(() -> {
            assertThat(get("/queues/" + backlogged)).contains("\"waiting\":1");
            assertThat(get("/queues/" + forever)).contains(forever);
        });
    }
}
