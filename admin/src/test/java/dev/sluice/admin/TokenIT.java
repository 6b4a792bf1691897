package dev.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.embedded.SharedServers;
import io.micronaut.core.type.Argument;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.MutableHttpRequest;
import io.micronaut.http.client.HttpClient;
import io.micronaut.http.client.annotation.Client;
import io.micronaut.http.client.exceptions.HttpClientResponseException;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import io.micronaut.test.support.TestPropertyProvider;
import jakarta.inject.Inject;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** With {@code SLUICE_ADMIN_TOKEN} set, changes need the bearer token; reads stay open. */
@MicronautTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TokenIT implements TestPropertyProvider {

    private static final String TOKEN = "s3cret-" + UUID.randomUUID();

    @Inject
    @Client("/")
    HttpClient client;

    @Override
    public Map<String, String> getProperties() {
        return Map.of("sluice.kafka", SharedServers.kafkaBootstrapServers(), "sluice.redis", SharedServers.redisUri(),
                "sluice.prefix", "t" + UUID.randomUUID().toString().substring(0, 8), "micronaut.server.port", "-1",
                "sluice.admin.token", TOKEN);
    }

    @Test
    void changesWithoutTheRightTokenAre401AndReadsStayOpen() {
        MutableHttpRequest<?> noToken = HttpRequest.POST("/queues", Map.of("rateLimit", "5/1s"));
        MutableHttpRequest<?> wrongToken = HttpRequest.POST("/queues", Map.of("rateLimit", "5/1s")).bearerAuth("nope");

        assertThatThrownBy(() -> client.toBlocking().exchange(noToken))
                .isInstanceOfSatisfying(HttpClientResponseException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(401);
                    assertThat(e.getResponse().getHeaders().get("WWW-Authenticate")).isEqualTo("Bearer");
                    assertThat(e.getResponse().getContentType().orElseThrow().getName()).isEqualTo("application/problem+json");
                    assertThat((String) e.getResponse().getBody(Argument.mapOf(String.class, Object.class)).orElseThrow()
                            .get("detail")).contains("Authorization: Bearer");
                });
        assertThatThrownBy(() -> client.toBlocking().exchange(wrongToken))
                .isInstanceOfSatisfying(HttpClientResponseException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(401);
                    assertThat((String) e.getResponse().getBody(Argument.mapOf(String.class, Object.class)).orElseThrow()
                            .get("detail")).contains("wrong");
                });

        Map<String, Object> created = client.toBlocking().retrieve(
                HttpRequest.POST("/queues", Map.of("rateLimit", "5/1s")).bearerAuth(TOKEN), Argument.mapOf(String.class, Object.class));
        String name = (String) created.get("name");
        assertThat(client.toBlocking().retrieve(HttpRequest.GET("/queues/" + name), String.class)).contains(name);
        assertThatThrownBy(() -> client.toBlocking().exchange(HttpRequest.DELETE("/queues/" + name)))
                .isInstanceOfSatisfying(HttpClientResponseException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(401));
        assertThat(client.toBlocking().exchange(HttpRequest.DELETE("/queues/" + name).bearerAuth(TOKEN)).getStatus().getCode())
                .isEqualTo(204);
    }
}
