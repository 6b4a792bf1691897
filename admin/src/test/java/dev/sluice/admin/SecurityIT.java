package dev.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.embedded.SharedServers;
import io.micronaut.runtime.server.EmbeddedServer;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import io.micronaut.test.support.TestPropertyProvider;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The admin as an attacker meets it, with no token configured (the default on one machine): what a web
 * page in the user's browser may not do, and what one oversized or loosely typed request may not do.
 */
@MicronautTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SecurityIT implements TestPropertyProvider {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String prefix = "s" + UUID.randomUUID().toString().substring(0, 8);

    @Inject
    EmbeddedServer server;

    @Inject
    Admin kafka;

    private String queue;

    @Override
    public Map<String, String> getProperties() {
        return Map.of("sluice.kafka", SharedServers.kafkaBootstrapServers(), "sluice.redis", SharedServers.redisUri(),
                "sluice.prefix", prefix, "micronaut.server.port", "-1");
    }

    @BeforeAll
    void createQueue() throws Exception {
        RawHttp.Response created = send("POST", "/queues", Map.of("Content-Type", "application/json"), "{\"rateLimit\":\"5/1s\"}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        queue = JSON.readTree(created.body()).get("name").asText();
    }

    private RawHttp.Response send(String method, String path, Map<String, String> headers, String body) throws Exception {
        return RawHttp.send(server.getPort(), method, path, headers, body.getBytes(StandardCharsets.UTF_8));
    }

    private String state() throws Exception {
        return JSON.readTree(send("GET", "/queues/" + queue, Map.of(), "").body()).get("state").asText();
    }

    private static String detail(RawHttp.Response response) throws Exception {
        assertThat(response.headers()).containsIgnoringCase("content-type: application/problem+json");
        return JSON.readTree(response.body()).get("detail").asText();
    }

    @Test
    void listensOnLoopbackByDefault() {
        assertThat(server.getHost()).isIn("127.0.0.1", "localhost");
    }

    @Test
    void aPageOfAnotherSiteCannotPauseAQueue() throws Exception {
        RawHttp.Response forged = send("POST", "/queues/" + queue + "/deactivate",
                Map.of("Origin", "http://evil.example"), "");
        RawHttp.Response otherPort = send("POST", "/queues/" + queue + "/deactivate",
                Map.of("Origin", "http://localhost:3000"), "");
        RawHttp.Response fetchMetadata = send("DELETE", "/queues/" + queue, Map.of("Sec-Fetch-Site", "cross-site"), "");

        assertThat(forged.status()).isEqualTo(403);
        assertThat(detail(forged)).contains("http://evil.example");
        assertThat(otherPort.status()).isEqualTo(403);
        assertThat(fetchMetadata.status()).isEqualTo(403);
        assertThat(state()).isEqualTo("active");

        // the dashboard, served by the admin itself, and the CLI (no Origin) still can
        RawHttp.Response dashboard = send("POST", "/queues/" + queue + "/deactivate",
                Map.of("Origin", "http://localhost:" + server.getPort(), "Sec-Fetch-Site", "same-origin"), "");
        assertThat(dashboard.status()).as(dashboard.body()).isEqualTo(200);
        assertThat(state()).isEqualTo("inactive");
        assertThat(send("POST", "/queues/" + queue + "/activate", Map.of(), "").status()).isEqualTo(200);
        assertThat(state()).isEqualTo("active");
    }

    @Test
    void aNameReboundToLoopbackGetsNothing() throws Exception {
        RawHttp.Response rebound = send("GET", "/queues", Map.of("Host", "attacker.example:" + server.getPort()), "");
        RawHttp.Response change = send("POST", "/queues/" + queue + "/deactivate",
                Map.of("Host", "attacker.example:" + server.getPort(), "Origin", "http://attacker.example:" + server.getPort()), "");

        assertThat(rebound.status()).isEqualTo(403);
        assertThat(detail(rebound)).contains("loopback");
        assertThat(rebound.body()).doesNotContain(queue);
        assertThat(change.status()).isEqualTo(403);
        assertThat(state()).isEqualTo("active");
        assertThat(send("GET", "/queues", Map.of("Host", "127.0.0.1:" + server.getPort()), "").status()).isEqualTo(200);
        assertThat(send("GET", "/queues", Map.of("Host", "[::1]:" + server.getPort()), "").status()).isEqualTo(200);
    }

    @Test
    void tenMegabytesOfTasksAreRefusedBeforeTheyAreReadAndNothingIsSubmitted() throws Exception {
        long before = tasksEndOffset();
        StringBuilder body = new StringBuilder(10_000_100).append("{\"tasks\":[");
        for (int i = 0; i < 2_000_000; i++) {
            body.append(i == 0 ? "" : ",").append("\"a\"");
        }
        String huge = body.append("]}").toString();

        RawHttp.Response refused = send("POST", "/queues/" + queue + "/tasks", Map.of("Content-Type", "application/json"), huge);

        assertThat(refused.status()).isEqualTo(413);
        assertThat(detail(refused)).contains("4194304").contains("SLUICE_ADMIN_MAX_BODY_BYTES");
        assertThat(tasksEndOffset()).isEqualTo(before);
    }

    @Test
    void moreTasksThanOneRequestMayCarryAreA400NamingTheCapAndNothingIsSubmitted() throws Exception {
        long before = tasksEndOffset();
        String tooMany = JSON.writeValueAsString(Map.of("tasks", java.util.Collections.nCopies(1001, "{}")));

        RawHttp.Response refused = send("POST", "/queues/" + queue + "/tasks", Map.of("Content-Type", "application/json"), tooMany);
        RawHttp.Response fine = send("POST", "/queues/" + queue + "/tasks", Map.of("Content-Type", "application/json"),
                JSON.writeValueAsString(Map.of("tasks", java.util.Collections.nCopies(1000, "{}"))));

        assertThat(refused.status()).isEqualTo(400);
        assertThat(detail(refused)).contains("1000").contains("SLUICE_ADMIN_MAX_TASKS").contains("1001");
        assertThat(fine.status()).as(fine.body()).isEqualTo(202);
        assertThat(tasksEndOffset()).isEqualTo(before + 1000);
    }

    @Test
    void wrongTypesAndUnknownFieldsAreA400NamingTheField() throws Exception {
        Map<String, String> json = Map.of("Content-Type", "application/json");
        Map<String, String> cases = Map.of(
                "{\"rateLimit\":\"5/1s\",\"burst\":1.5}", "\"burst\"",
                "{\"rateLimit\":\"5/1s\",\"name\":123}", "\"name\"",
                "{\"rateLimit\":\"5/1s\",\"rate_limit\":\"9/1s\"}", "\"rate_limit\"",
                "{\"rateLimit\":\"5/1s\",\"burst\":\"2\"}", "\"burst\"",
                "{\"rateLimit\":\"5/1s\",\"rateLimit\":\"9/1s\"}", "rateLimit",
                "[\"5/1s\"]", "JSON object");
        for (Map.Entry<String, String> bad : cases.entrySet()) {
            RawHttp.Response response = send("POST", "/queues", json, bad.getKey());
            assertThat(response.status()).as(bad.getKey()).isEqualTo(400);
            assertThat(detail(response)).as(bad.getKey()).contains(bad.getValue());
        }
        RawHttp.Response patch = send("PATCH", "/queues/" + queue, json, "{\"burst\":2,\"brust\":3}");
        RawHttp.Response count = send("POST", "/queues/" + queue + "/tasks", json, "{\"count\":\"10\"}");
        assertThat(patch.status()).isEqualTo(400);
        assertThat(detail(patch)).contains("\"brust\"").contains("burst");
        assertThat(count.status()).isEqualTo(400);
        assertThat(detail(count)).contains("\"count\"").contains("whole number");
        JsonNode shown = JSON.readTree(send("GET", "/queues/" + queue, Map.of(), "").body());
        assertThat(shown.get("burst").asInt()).isEqualTo(1);
        assertThat(JSON.readTree(send("GET", "/queues", Map.of(), "").body()).findValuesAsText("name")).doesNotContain("123");
    }

    private long tasksEndOffset() throws Exception {
        String topic = prefix + ".tasks";
        Map<TopicPartition, OffsetSpec> ends = new java.util.HashMap<>();
        kafka.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic).partitions()
                .forEach(p -> ends.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
        return kafka.listOffsets(ends).all().get(10, TimeUnit.SECONDS).values().stream()
                .mapToLong(info -> info.offset()).sum();
    }
}
