package dev.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.embedded.SharedServers;
import io.micronaut.core.type.Argument;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.client.HttpClient;
import io.micronaut.http.client.annotation.Client;
import io.micronaut.http.client.exceptions.HttpClientResponseException;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import io.micronaut.test.support.TestPropertyProvider;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code GET /queues} filtered, ordered and paged, against the real broker and Redis: eight queues,
 * one paused, three with tasks waiting.
 */
@MicronautTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class QueueListingIT implements TestPropertyProvider {

    private final String prefix = "l" + UUID.randomUUID().toString().substring(0, 8);

    @Inject
    @Client("/")
    HttpClient client;

    @Override
    public Map<String, String> getProperties() {
        return Map.of("sluice.kafka", SharedServers.kafkaBootstrapServers(), "sluice.redis", SharedServers.redisUri(),
                "sluice.prefix", prefix, "micronaut.server.port", "-1", "sluice.reaper.enabled", "false");
    }

    @BeforeAll
    void queues() {
        for (String name : List.of("mail-1", "mail-2", "mail-3", "mail-4", "mail-5", "sms-1", "sms-2", "sms-3")) {
            client.toBlocking().exchange(HttpRequest.POST("/queues", Map.of("rateLimit", "1/60s", "name", name)));
        }
        client.toBlocking().exchange(HttpRequest.POST("/queues/mail-2/deactivate", ""));
        // tasks straight into the queue topics: no gate runs here, so they wait
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedServers.kafkaBootstrapServers()),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            Map<String, Integer> waiting = Map.of("sms-3", 5, "mail-4", 2, "mail-1", 1);
            waiting.forEach((queue, count) -> {
                for (int i = 0; i < count; i++) {
                    producer.send(new ProducerRecord<>(prefix + ".q." + queue, new byte[0], "{}".getBytes()));
                }
            });
        }
    }

    private HttpResponse<List<Map<String, Object>>> get(String uri) {
        return client.toBlocking().exchange(HttpRequest.GET(uri),
                Argument.listOf(Argument.mapOf(String.class, Object.class)));
    }

    private static List<Object> names(HttpResponse<List<Map<String, Object>>> response) {
        return response.body().stream().map(q -> q.get("name")).toList();
    }

    /** The next page's address from the Link header, or null. */
    private static String next(HttpResponse<?> response) {
        String link = response.getHeaders().get("Link");
        if (link == null) {
            return null;
        }
        assertThat(link).endsWith(">; rel=\"next\"");
        return link.substring(1, link.indexOf('>'));
    }

    @Test
    void withoutParametersEveryQueueComesByName() {
        HttpResponse<List<Map<String, Object>>> all = get("/queues");

        assertThat(names(all)).containsExactly("mail-1", "mail-2", "mail-3", "mail-4", "mail-5", "sms-1", "sms-2",
                "sms-3");
        assertThat(all.getHeaders().get("X-Total-Count")).isEqualTo("8");
        assertThat(next(all)).isNull();
    }

    @Test
    void pagesFollowedByTheirLinksGiveEveryQueueOnceInOrder() {
        List<Object> seen = new ArrayList<>();
        String uri = "/queues?limit=3";
        int pages = 0;
        while (uri != null) {
            HttpResponse<List<Map<String, Object>>> page = get(uri);
            assertThat(page.body()).hasSizeLessThanOrEqualTo(3);
            assertThat(page.getHeaders().get("X-Total-Count")).isEqualTo("8");
            seen.addAll(names(page));
            uri = next(page);
            pages++;
        }
        assertThat(pages).isEqualTo(3);
        assertThat(seen).containsExactly("mail-1", "mail-2", "mail-3", "mail-4", "mail-5", "sms-1", "sms-2", "sms-3");
    }

    @Test
    void filtersByStateNamePrefixAndBacklog() {
        assertThat(names(get("/queues?prefix=sms-"))).containsExactly("sms-1", "sms-2", "sms-3");
        assertThat(names(get("/queues?state=inactive"))).containsExactly("mail-2");
        assertThat(names(get("/queues?state=active&prefix=mail-"))).containsExactly("mail-1", "mail-3", "mail-4",
                "mail-5");
        HttpResponse<List<Map<String, Object>>> busy = get("/queues?backlog=true");
        assertThat(names(busy)).containsExactly("mail-1", "mail-4", "sms-3");
        assertThat(busy.getHeaders().get("X-Total-Count")).isEqualTo("3");
    }

    @Test
    void theBusiestComeFirstAndTheirPagesCarryOn() {
        HttpResponse<List<Map<String, Object>>> first = get("/queues?sort=backlog&limit=2");
        assertThat(names(first)).containsExactly("sms-3", "mail-4");
        @SuppressWarnings("unchecked")
        Map<String, Object> stats = (Map<String, Object>) first.body().get(0).get("stats");
        assertThat(stats).containsEntry("waiting", 5);

        HttpResponse<List<Map<String, Object>>> second = get(next(first));
        // then the one with a task, then the idle ones by name
        assertThat(names(second)).containsExactly("mail-1", "mail-2");
        assertThat(second.getHeaders().get("X-Total-Count")).isEqualTo("8");
    }

    @Test
    void aWrongParameterIsA400NamingIt() {
        for (String[] bad : new String[][] {
                {"/queues?limit=0", "limit"}, {"/queues?limit=5000", "limit"}, {"/queues?limit=ten", "limit"},
                {"/queues?sort=size", "sort"}, {"/queues?state=sleeping", "state"}, {"/queues?backlog=yes", "backlog"},
                {"/queues?cursor=not-ours", "cursor"}}) {
            assertThatThrownBy(() -> get(bad[0])).as(bad[0])
                    .isInstanceOfSatisfying(HttpClientResponseException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(400);
                        assertThat(e.getResponse().getBody(Argument.mapOf(String.class, Object.class)).orElseThrow()
                                .get("detail").toString()).startsWith(bad[1] + ":");
                    });
        }
        // a cursor of a listing by name does not continue one by backlog
        String byName = next(get("/queues?limit=2"));
        String cursor = byName.substring(byName.indexOf("cursor=") + "cursor=".length());
        assertThatThrownBy(() -> get("/queues?sort=backlog&limit=2&cursor=" + cursor))
                .isInstanceOfSatisfying(HttpClientResponseException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(400));
    }
}
