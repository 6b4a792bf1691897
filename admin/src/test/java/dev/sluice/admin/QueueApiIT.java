package dev.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.embedded.SharedServers;
import io.micronaut.core.type.Argument;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.client.HttpClient;
import io.micronaut.http.client.annotation.Client;
import io.micronaut.http.client.exceptions.HttpClientResponseException;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import io.micronaut.test.support.TestPropertyProvider;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The queue API against the real broker and Redis. */
@MicronautTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class QueueApiIT implements TestPropertyProvider {

    private final String prefix = "a" + UUID.randomUUID().toString().substring(0, 8);

    @Inject
    @Client("/")
    HttpClient client;

    @Inject
    Admin kafka;

    @Override
    public Map<String, String> getProperties() {
        return Map.of("sluice.kafka", SharedServers.kafkaBootstrapServers(), "sluice.redis", SharedServers.redisUri(),
                "sluice.prefix", prefix, "micronaut.server.port", "-1");
    }

    private HttpResponse<Map<String, Object>> post(Object body) {
        return client.toBlocking().exchange(HttpRequest.POST("/queues", body), Argument.mapOf(String.class, Object.class));
    }

    private static Map<String, Object> problem(HttpClientResponseException e) {
        return e.getResponse().getBody(Argument.mapOf(String.class, Object.class)).orElseThrow();
    }

    @Test
    void createsAQueueWithItsTopicAndShowsItsBucket() throws Exception {
        HttpResponse<Map<String, Object>> created = post(Map.of("rateLimit", "5/60s", "burst", 2));

        assertThat(created.getStatus().getCode()).isEqualTo(HttpStatus.CREATED.getCode());
        Map<String, Object> queue = created.body();
        String name = (String) queue.get("name");
        assertThat(name).matches("batch_[0-9a-f-]{36}");
        assertThat(queue).containsEntry("rateLimit", "5/60s").containsEntry("burst", 2).containsEntry("state", "active");
        assertThat(kafka.listTopics().names().get(10, TimeUnit.SECONDS)).contains(prefix + ".q." + name);

        Map<String, Object> shown = client.toBlocking().retrieve(HttpRequest.GET("/queues/" + name),
                Argument.mapOf(String.class, Object.class));
        @SuppressWarnings("unchecked")
        Map<String, Object> status = (Map<String, Object>) shown.get("rateLimitStatus");
        assertThat(status).containsEntry("tokens", 2).containsEntry("capacity", 2);
        List<Map<String, Object>> all = client.toBlocking().retrieve(HttpRequest.GET("/queues"),
                Argument.listOf(Argument.mapOf(String.class, Object.class)));
        assertThat(all).extracting(q -> q.get("name")).contains(name);
    }

    @Test
    void anExplicitNameIsKeptAndASecondQueueOfThatNameIsAConflict() {
        String name = "emails-" + UUID.randomUUID().toString().substring(0, 8);
        post(Map.of("rateLimit", "10/1s", "name", name));

        assertThatThrownBy(() -> post(Map.of("rateLimit", "1/1s", "name", name)))
                .isInstanceOfSatisfying(HttpClientResponseException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(HttpStatus.CONFLICT.getCode());
                    assertThat(e.getResponse().getContentType().orElseThrow().getName())
                            .isEqualTo("application/problem+json");
                    assertThat(problem(e)).containsEntry("status", 409)
                            .containsEntry("detail", "queue \"" + name + "\" already exists");
                });
    }

    @Test
    void badInputIsA400WithADetailThatSaysWhatIsWrong() {
        assertThatThrownBy(() -> post(Map.of("rateLimit", "5/60x")))
                .isInstanceOfSatisfying(HttpClientResponseException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(HttpStatus.BAD_REQUEST.getCode());
                    assertThat((String) problem(e).get("detail")).contains("unknown unit \"x\"");
                });
        assertThatThrownBy(() -> post(Map.of("rateLimit", "5/60s", "name", "a.b")))
                .isInstanceOfSatisfying(HttpClientResponseException.class,
                        e -> assertThat((String) problem(e).get("detail")).contains("invalid queue name"));
        assertThatThrownBy(() -> post(Map.of("rateLimit", "5/60s", "burst", 0)))
                .isInstanceOfSatisfying(HttpClientResponseException.class,
                        e -> assertThat((String) problem(e).get("detail")).contains("burst"));
        assertThatThrownBy(() -> post(Map.of("burst", 2)))
                .isInstanceOfSatisfying(HttpClientResponseException.class,
                        e -> assertThat((String) problem(e).get("detail")).contains("rateLimit is required"));
    }

    @Test
    void removingDeletesTheQueueAndAnUnknownQueueIsA404() {
        String name = (String) post(Map.of("rateLimit", "1/1s")).body().get("name");

        HttpResponse<?> removed = client.toBlocking().exchange(HttpRequest.DELETE("/queues/" + name));

        assertThat(removed.getStatus().getCode()).isEqualTo(HttpStatus.NO_CONTENT.getCode());
        assertThatThrownBy(() -> client.toBlocking().retrieve(HttpRequest.GET("/queues/" + name)))
                .isInstanceOfSatisfying(HttpClientResponseException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(HttpStatus.NOT_FOUND.getCode());
                    assertThat((String) problem(e).get("detail")).contains("does not exist");
                });
        assertThatThrownBy(() -> client.toBlocking().exchange(HttpRequest.DELETE("/queues/" + name)))
                .isInstanceOfSatisfying(HttpClientResponseException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(HttpStatus.NOT_FOUND.getCode()));
    }

    @Test
    void updatesPausesAndResumesAQueue() {
        String name = (String) post(Map.of("rateLimit", "2/1s")).body().get("name");

        Map<String, Object> updated = client.toBlocking().retrieve(
                HttpRequest.PATCH("/queues/" + name, Map.of("rateLimit", "20/1m", "burst", 3, "maxAttempts", 5)),
                Argument.mapOf(String.class, Object.class));
        Map<String, Object> paused = client.toBlocking().retrieve(
                HttpRequest.POST("/queues/" + name + "/deactivate", ""), Argument.mapOf(String.class, Object.class));
        Map<String, Object> resumed = client.toBlocking().retrieve(
                HttpRequest.POST("/queues/" + name + "/activate", ""), Argument.mapOf(String.class, Object.class));

        assertThat(updated).containsEntry("rateLimit", "20/60s").containsEntry("burst", 3).containsEntry("maxAttempts", 5);
        assertThat(paused).containsEntry("state", "inactive");
        assertThat(resumed).containsEntry("state", "active");
        assertThatThrownBy(() -> client.toBlocking().exchange(HttpRequest.PATCH("/queues/" + name, Map.of("burst", 0))))
                .isInstanceOfSatisfying(HttpClientResponseException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(400));
        assertThatThrownBy(() -> client.toBlocking().exchange(HttpRequest.PATCH("/queues/" + name, Map.of())))
                .isInstanceOfSatisfying(HttpClientResponseException.class,
                        e -> assertThat((String) problem(e).get("detail")).contains("nothing to update"));
        assertThatThrownBy(() -> client.toBlocking().exchange(HttpRequest.POST("/queues/nope-" + name + "/activate", "")))
                .isInstanceOfSatisfying(HttpClientResponseException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(404));
    }

    @Test
    void submitsTestTasksAndGivenPayloadsToTheTasksTopic() {
        String name = (String) post(Map.of("rateLimit", "5/1s")).body().get("name");

        HttpResponse<Map<String, Object>> tests = client.toBlocking().exchange(
                HttpRequest.POST("/queues/" + name + "/tasks", Map.of("count", 3)), Argument.mapOf(String.class, Object.class));
        HttpResponse<Map<String, Object>> given = client.toBlocking().exchange(
                HttpRequest.POST("/queues/" + name + "/tasks", Map.of("tasks", List.of("{\"to\":\"a@b.c\"}"))),
                Argument.mapOf(String.class, Object.class));

        assertThat(tests.getStatus().getCode()).isEqualTo(202);
        assertThat(tests.body()).containsEntry("submitted", 3);
        assertThat(given.body()).containsEntry("submitted", 1);
        List<org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]>> stored =
                dev.sluice.embedded.TopicReader.readCommitted(SharedServers.kafkaBootstrapServers(), prefix + ".tasks", 4,
                        java.time.Duration.ofSeconds(10));
        assertThat(stored).hasSize(4).allSatisfy(r -> assertThat(new String(r.key())).isEqualTo(name));
        assertThatThrownBy(() -> client.toBlocking().exchange(HttpRequest.POST("/queues/" + name + "/tasks", Map.of())))
                .isInstanceOfSatisfying(HttpClientResponseException.class,
                        e -> assertThat((String) problem(e).get("detail")).contains("give count"));
        assertThatThrownBy(() -> client.toBlocking().exchange(
                HttpRequest.POST("/queues/nope-" + name + "/tasks", Map.of("count", 1))))
                .isInstanceOfSatisfying(HttpClientResponseException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(404));
    }

    @Test
    void aSubmissionSaysWhenEachTaskIsExpectedToBeReleased() {
        String name = (String) post(Map.of("rateLimit", "1/3600s")).body().get("name");

        Map<String, Object> answer = client.toBlocking().retrieve(
                HttpRequest.POST("/queues/" + name + "/tasks", Map.of("count", 3)), Argument.mapOf(String.class, Object.class));

        // one token in the bucket: the first goes now, the next a guarded hour apart (3,636 s, ADR 0005)
        List<java.time.Instant> forecast = ((List<?>) answer.get("releaseForecast")).stream()
                .map(each -> java.time.Instant.parse((String) each)).toList();
        assertThat(forecast).hasSize(3);
        java.time.Instant now = java.time.Instant.now();
        assertThat(java.time.Duration.between(now, forecast.get(0)).abs()).isLessThan(java.time.Duration.ofSeconds(5));
        assertThat(java.time.Duration.between(forecast.get(0), forecast.get(1)).toSeconds()).isBetween(3600L, 3640L);
        assertThat(java.time.Duration.between(forecast.get(1), forecast.get(2)).toSeconds()).isBetween(3630L, 3640L);

        client.toBlocking().exchange(HttpRequest.POST("/queues/" + name + "/deactivate", ""));
        Map<String, Object> paused = client.toBlocking().retrieve(
                HttpRequest.POST("/queues/" + name + "/tasks", Map.of("count", 1)), Argument.mapOf(String.class, Object.class));
        assertThat(paused).containsEntry("submitted", 1).doesNotContainKey("releaseForecast");
    }

    @Test
    void theOverviewCountsQueuesAndSaysRedisAndKafkaAnswer() {
        String name = (String) post(Map.of("rateLimit", "5/1s")).body().get("name");
        client.toBlocking().exchange(HttpRequest.POST("/queues/" + name + "/deactivate", ""));

        Map<String, Object> overview = client.toBlocking().retrieve(HttpRequest.GET("/overview"),
                Argument.mapOf(String.class, Object.class));

        assertThat((Integer) overview.get("queues")).isGreaterThan((Integer) overview.get("activeQueues"));
        assertThat(overview).containsEntry("redis", "up").containsEntry("kafka", "up");
    }

    @Test
    void showsTheBacklogTheFiguresAndWhenTheBacklogWillBeGone() throws Exception {
        String name = (String) post(Map.of("rateLimit", "1/3600s")).body().get("name");
        dev.sluice.core.QueueName queue = dev.sluice.core.QueueName.of(name);
        String topic = prefix + ".q." + name;
        try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]>(Map.of(
                "bootstrap.servers", SharedServers.kafkaBootstrapServers(),
                "key.serializer", org.apache.kafka.common.serialization.ByteArraySerializer.class,
                "value.serializer", org.apache.kafka.common.serialization.ByteArraySerializer.class))) {
            for (int i = 0; i < 4; i++) {
                producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic, ("t" + i).getBytes())).get();
            }
        }
        // the gate released the first: its group committed offset 1
        kafka.alterConsumerGroupOffsets(prefix + "-gate", Map.of(new org.apache.kafka.common.TopicPartition(topic, 0),
                new org.apache.kafka.clients.consumer.OffsetAndMetadata(1))).all().get(10, TimeUnit.SECONDS);
        try (redis.clients.jedis.RedisClient jedis = redis.clients.jedis.RedisClient.create(SharedServers.redisUri())) {
            var sink = new dev.sluice.ingest.RedisStatsSink(jedis, new dev.sluice.core.RedisKeys(prefix));
            sink.total(queue, dev.sluice.core.TaskEvent.Type.released, 1);
            sink.total(queue, dev.sluice.core.TaskEvent.Type.started, 3);
            sink.total(queue, dev.sluice.core.TaskEvent.Type.failed, 2);
            sink.total(queue, dev.sluice.core.TaskEvent.Type.dead, 1);
        }

        Map<String, Object> shown = client.toBlocking().retrieve(HttpRequest.GET("/queues/" + name),
                Argument.mapOf(String.class, Object.class));

        assertThat(shown.get("stats")).isEqualTo(Map.of("waiting", 3, "released", 1, "processing", 1, "completed", 0,
                "failed", 2, "dead", 1, "requeued", 0));
        // one token in the bucket: the first of the three goes now, the other two a guarded hour apart
        // (3,636 s: the schedule keeps a hundredth of each period in hand, ADR 0005)
        java.time.Instant drainsAt = java.time.Instant.parse((String) shown.get("drainsAt"));
        assertThat(java.time.Duration.between(java.time.Instant.now(), drainsAt))
                .isBetween(java.time.Duration.ofSeconds(7262), java.time.Duration.ofSeconds(7282));
        assertThat(((Number) shown.get("drainSeconds")).doubleValue()).isBetween(7262.0, 7282.0);

        Map<String, Object> paused = client.toBlocking().retrieve(HttpRequest.POST("/queues/" + name + "/deactivate", ""),
                Argument.mapOf(String.class, Object.class));
        assertThat(paused).doesNotContainKey("drainsAt");
        List<Map<String, Object>> all = client.toBlocking().retrieve(HttpRequest.GET("/queues"),
                Argument.listOf(Argument.mapOf(String.class, Object.class)));
        assertThat(all).filteredOn(q -> name.equals(q.get("name"))).singleElement()
                .satisfies(q -> assertThat(q.get("stats")).asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.MAP)
                        .containsEntry("waiting", 3));
    }

    @Inject
    BusiestWindows busiestWindows;

    /** The busiest window of the queue's summary. */
    @SuppressWarnings("unchecked")
    private Map<String, Object> summaryWindow(String name) {
        return (Map<String, Object>) client.toBlocking().retrieve(HttpRequest.GET("/queues/" + name + "/summary"),
                Argument.mapOf(String.class, Object.class)).get("window");
    }

    @Test
    void theBusiestWindowOfTheSummaryOutlivesThePerSecondCountsTheStatisticsKeep() {
        String name = (String) post(Map.of("rateLimit", "5/2s")).body().get("name");
        dev.sluice.core.QueueName queue = dev.sluice.core.QueueName.of(name);
        dev.sluice.core.RedisKeys keys = new dev.sluice.core.RedisKeys(prefix);
        try (redis.clients.jedis.RedisClient jedis = redis.clients.jedis.RedisClient.create(SharedServers.redisUri())) {
            long now = BusiestWindows.redisSecond(jedis);
            dev.sluice.ingest.RedisStatsSink sink = new dev.sluice.ingest.RedisStatsSink(jedis, keys);
            // a batch from 400 s ago: its first release then (counted, its count gone by now), 3 then 2 releases
            // in two seconds 250 s ago (5 in a window of 2 s), 1 a second after, 1 a moment ago
            sink.releasedInSecond(queue, (now - 400) * 1000, 1);
            jedis.del(keys.releasedInSecond(queue, now - 400));
            sink.releasedInSecond(queue, (now - 250) * 1000, 3);
            sink.releasedInSecond(queue, (now - 249) * 1000, 2);
            sink.releasedInSecond(queue, (now - 248) * 1000, 1);
            sink.releasedInSecond(queue, (now - 2) * 1000, 1);

            busiestWindows.look();
            // 300 s after those seconds their counts are gone (the keys expire): what the summary says then
            jedis.del(keys.releasedInSecond(queue, now - 250), keys.releasedInSecond(queue, now - 249),
                    keys.releasedInSecond(queue, now - 248));
        }

        Map<String, Object> window = summaryWindow(name);
        assertThat(window).containsEntry("most", 5).containsEntry("seconds", 2).containsEntry("allowed", 5);
        assertThat(((Number) window.get("overSeconds")).longValue()).as("since the first release").isBetween(401L, 411L);
    }

    @Test
    void aWindowLongerThanTheSecondsKeptIsSummedOverTheSecondsWithReleases() {
        String name = (String) post(Map.of("rateLimit", "2/3600s")).body().get("name");
        dev.sluice.core.QueueName queue = dev.sluice.core.QueueName.of(name);
        dev.sluice.core.RedisKeys keys = new dev.sluice.core.RedisKeys(prefix);
        try (redis.clients.jedis.RedisClient jedis = redis.clients.jedis.RedisClient.create(SharedServers.redisUri())) {
            long now = BusiestWindows.redisSecond(jedis);
            dev.sluice.ingest.RedisStatsSink sink = new dev.sluice.ingest.RedisStatsSink(jedis, keys);
            sink.releasedInSecond(queue, (now - 250) * 1000, 1);
            sink.releasedInSecond(queue, (now - 100) * 1000, 1);
            busiestWindows.look();
            jedis.del(keys.releasedInSecond(queue, now - 250), keys.releasedInSecond(queue, now - 100));
            // a third within the hour: one more than the limit allows, seen though the first's count is gone
            sink.releasedInSecond(queue, (now - 2) * 1000, 1);
        }

        Map<String, Object> window = summaryWindow(name);
        assertThat(window).containsEntry("most", 3).containsEntry("seconds", 3600).containsEntry("allowed", 2);

        client.toBlocking().exchange(HttpRequest.DELETE("/queues/" + name));
        try (redis.clients.jedis.RedisClient jedis = redis.clients.jedis.RedisClient.create(SharedServers.redisUri())) {
            assertThat(jedis.exists(keys.releaseSeconds(queue))).as("removed with the queue").isFalse();
        }
    }

    @Test
    void releasesPerSecondComeFromTheStatisticsNextToTheLimit() {
        String name = (String) post(Map.of("rateLimit", "3/2s")).body().get("name");
        dev.sluice.core.QueueName queue = dev.sluice.core.QueueName.of(name);
        long second = java.time.Instant.now().getEpochSecond();
        try (redis.clients.jedis.RedisClient jedis = redis.clients.jedis.RedisClient.create(SharedServers.redisUri())) {
            new dev.sluice.ingest.RedisStatsSink(jedis, new dev.sluice.core.RedisKeys(prefix))
                    .releasedInSecond(queue, (second - 2) * 1000, 2);
        }

        Map<String, Object> releases = client.toBlocking().retrieve(
                HttpRequest.GET("/queues/" + name + "/releases?seconds=10"), Argument.mapOf(String.class, Object.class));

        assertThat(releases).containsEntry("rateLimit", "3/2s").containsEntry("limitPerSecond", 1.5)
                .containsEntry("permits", 3).containsEntry("periodMillis", 2000).containsEntry("burst", 1);
        @SuppressWarnings("unchecked")
        List<Integer> counts = (List<Integer>) releases.get("counts");
        assertThat(counts).hasSize(10);
        long from = ((Number) releases.get("fromSecond")).longValue();
        assertThat(counts.get((int) (second - 2 - from))).isEqualTo(2);
        assertThat(counts.stream().mapToInt(Integer::intValue).sum()).isEqualTo(2);
        assertThatThrownBy(() -> client.toBlocking().retrieve(HttpRequest.GET("/queues/" + name + "/releases?seconds=301")))
                .isInstanceOfSatisfying(HttpClientResponseException.class,
                        e -> assertThat((String) problem(e).get("detail")).contains("between 1 and 300"));
        assertThatThrownBy(() -> client.toBlocking().retrieve(HttpRequest.GET("/queues/nope-" + name + "/releases")))
                .isInstanceOfSatisfying(HttpClientResponseException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(404));
    }
}
