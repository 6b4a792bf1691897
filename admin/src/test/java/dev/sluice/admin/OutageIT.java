package dev.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.embedded.RedisServerProcess;
import dev.sluice.embedded.SharedServers;
import io.micronaut.context.ApplicationContext;
import io.micronaut.core.type.Argument;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.client.BlockingHttpClient;
import io.micronaut.http.client.HttpClient;
import io.micronaut.http.client.exceptions.HttpClientResponseException;
import io.micronaut.runtime.server.EmbeddedServer;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** With its Redis gone the admin says so: 503 from /health and from the queue endpoints, problem+json. */
class OutageIT {

    @Test
    void redisDownIs503WithTheReasonAndMalformedBodiesAre400() {
        try (RedisServerProcess redis = RedisServerProcess.startEphemeral();
             EmbeddedServer server = ApplicationContext.run(EmbeddedServer.class, Map.of(
                     "sluice.kafka", SharedServers.kafkaBootstrapServers(), "sluice.redis", redis.uri(),
                     "sluice.prefix", "u" + UUID.randomUUID().toString().substring(0, 8), "micronaut.server.port", "-1"));
             HttpClient http = HttpClient.create(server.getURL())) {
            BlockingHttpClient client = http.toBlocking();
            assertThat(client.exchange(HttpRequest.GET("/health")).getStatus().getCode()).isEqualTo(200);
            assertThatThrownBy(() -> client.exchange(HttpRequest.POST("/queues", "{\"rateLimit\": 5/1s")
                    .contentType("application/json")))
                    .isInstanceOfSatisfying(HttpClientResponseException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(400);
                        assertThat(e.getResponse().getContentType().orElseThrow().getName())
                                .isEqualTo("application/problem+json");
                    });

            redis.stop();

            assertThatThrownBy(() -> client.exchange(HttpRequest.GET("/health"), Argument.STRING, Argument.STRING))
                    .isInstanceOfSatisfying(HttpClientResponseException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(503);
                        String health = e.getResponse().getBody(String.class).orElseThrow();
                        assertThat(health).contains("\"status\":\"DOWN\"").containsPattern("\"redis\":\\{[^}]*\"status\":\"DOWN\"");
                    });
            assertThatThrownBy(() -> client.exchange(HttpRequest.GET("/queues"), Argument.STRING, Argument.STRING))
                    .isInstanceOfSatisfying(HttpClientResponseException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(503);
                        assertThat(e.getResponse().getBody(String.class).orElseThrow())
                                .contains("\"detail\":\"Redis is unreachable");
                    });
        }
    }
}
