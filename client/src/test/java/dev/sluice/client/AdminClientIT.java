package dev.sluice.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.embedded.SharedServers;
import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The client against a real admin service on the real broker and Redis: each call as a program makes it. */
class AdminClientIT {

    @Test
    void managesAQueueSubmitsToItAndSaysWhatWentWrong() throws Exception {
        String prefix = "k" + UUID.randomUUID().toString().substring(0, 8);
        try (EmbeddedServer admin = ApplicationContext.run(EmbeddedServer.class, Map.of(
                "sluice.kafka", SharedServers.kafkaBootstrapServers(), "sluice.redis", SharedServers.redisUri(),
                "sluice.prefix", prefix, "micronaut.server.port", "-1", "sluice.reaper.enabled", "false"))) {
            AdminClient client = new AdminClient(URI.create(admin.getURL().toString()), null);

            JsonNode created = client.createQueue("5/1s", Map.of("name", "reports", "burst", 2));
            assertThat(created.path("name").asText()).isEqualTo("reports");
            assertThat(client.queues()).extracting(q -> q.path("name").asText()).containsExactly("reports");
            assertThat(client.updateQueue("reports", Map.of("rateLimit", "9/1s")).path("rateLimit").asText())
                    .isEqualTo("9/1s");
            assertThat(client.pause("reports").path("state").asText()).isEqualTo("inactive");

            JsonNode submitted = client.submit("reports", List.of("{\"to\":\"a@b.c\"}", "{\"to\":\"d@e.f\"}"));
            assertThat(submitted.path("ids")).hasSize(2);
            assertThat(submitted.has("releaseForecast")).as("paused: no forecast").isFalse();
            assertThat(client.resume("reports").path("state").asText()).isEqualTo("active");

            // no gate runs here: the batch is not done, and waiting says so when its time is up
            JsonNode summary = client.awaitDone("reports", Duration.ofMillis(600), Duration.ofMillis(200));
            assertThat(summary.path("done").asBoolean()).isFalse();
            assertThat(client.deadLetters("reports", 10, null).path("total").asInt()).isZero();
            assertThat(client.replay("reports", List.of(12L)).path("count").asInt()).as("nothing listed").isZero();
            assertThat(client.rejected(5).isArray()).isTrue();

            assertThatThrownBy(() -> client.submit("nope", List.of("{}")))
                    .isInstanceOfSatisfying(AdminClient.ApiException.class, e -> {
                        assertThat(e.status()).isEqualTo(404);
                        assertThat(e.getMessage()).isEqualTo("queue \"nope\" does not exist");
                    });
            assertThatThrownBy(() -> client.createQueue("5 per minute", Map.of()))
                    .isInstanceOfSatisfying(AdminClient.ApiException.class, e -> assertThat(e.status()).isEqualTo(400));

            client.removeQueue("reports");
            assertThatThrownBy(() -> client.queue("reports"))
                    .isInstanceOfSatisfying(AdminClient.ApiException.class, e -> assertThat(e.status()).isEqualTo(404));
        }
        AdminClient away = new AdminClient(URI.create("http://127.0.0.1:9"), null);
        assertThatThrownBy(away::queues).isInstanceOf(AdminClient.UnreachableException.class)
                .hasMessageContaining("connection refused");
    }
}
