package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.embedded.LocalKafka;
import dev.sluice.embedded.RedisServerProcess;
import dev.sluice.embedded.SharedServers;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.junit.jupiter.api.Test;

/**
 * The stack on a Kafka that needs SASL, configured as a managed Kafka's users do: the
 * {@code client.properties} file the service hands out, named by {@code SLUICE_KAFKA_PROPERTIES}. Every
 * service (router, gate, worker, statistics, admin) reaches the broker; a client without the credentials
 * cannot; the password appears in no log line.
 */
class ManagedKafkaIT {

    private static final String PASSWORD = "kafka-pw-" + UUID.randomUUID();

    @Test
    void theStackRunsOnASaslBrokerFromAClientPropertiesFile() throws Exception {
        // not the broker's own lines, which hold its user list
        CapturedLogs logged = new CapturedLogs(name -> !name.startsWith("kafka."));
        Path data = Files.createTempDirectory("sluice-sasl");
        try (LocalKafka broker = LocalKafka.startWithSasl(RedisServerProcess.freePort(), data.resolve("kafka"), "app", PASSWORD)) {
            assertThatThrownBy(() -> describe(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers())))
                    .as("a client without credentials").isNotNull();
            Map<String, Object> wrong = new HashMap<>(broker.clientSettings());
            wrong.put("sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required"
                    + " username=\"app\" password=\"wrong\";");
            wrong.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
            assertThatThrownBy(() -> describe(wrong)).hasStackTraceContaining("Authentication failed");

            Path clientProperties = data.resolve("client.properties");
            StringBuilder file = new StringBuilder("bootstrap.servers=" + broker.bootstrapServers() + "\n");
            broker.clientSettings().forEach((name, value) -> file.append(name).append('=').append(value).append('\n'));
            Files.writeString(clientProperties, file);

            try (Stack stack = Stack.start(new Stack.Options(broker.bootstrapServers(), SharedServers.redisUri(),
                    RedisServerProcess.freePort(), 0, 0, data.resolve("up"),
                    Map.of("SLUICE_KAFKA_PROPERTIES", clientProperties.toString())))) {
                String queue = "sasl-" + UUID.randomUUID().toString().substring(0, 8);
                Cli.json(stack.admin(), "queues", "create", "20/1s", "--name", queue);
                Cli.json(stack.admin(), "queues", "test", queue, "5");

                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
                JsonNode shown = Cli.json(stack.admin(), "queues", "show", queue);
                // waiting reaches 0 once the gate has committed past the router's last transaction marker
                while ((shown.path("stats").path("completed").asInt() < 5
                        || shown.path("stats").path("released").asInt() - shown.path("stats").path("requeued").asInt() < 5
                        || shown.path("stats").path("waiting").asInt() > 0)
                        && System.nanoTime() < deadline) {
                    Thread.sleep(250);
                    shown = Cli.json(stack.admin(), "queues", "show", queue);
                }
                assertThat(shown.path("stats").path("completed").asInt()).as(shown.toString()).isEqualTo(5);
                // a task that reached the worker after its slot went back and was released again: counted in both
                assertThat(shown.path("stats").path("released").asInt() - shown.path("stats").path("requeued").asInt())
                        .as("the statistics read sluice.ready: " + shown.path("stats")).isEqualTo(5);
                assertThat(shown.path("stats").path("waiting").asInt()).as("the admin reads the backlog").isZero();
                HttpResponse<String> health = HttpClient.newHttpClient().send(
                        HttpRequest.newBuilder(URI.create(stack.admin() + "/health")).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(health.statusCode()).as(health.body()).isEqualTo(200);
                assertThat(health.body()).doesNotContain(PASSWORD);
            }
        } finally {
            logged.close();
        }
        assertThat(logged.lines()).isNotEmpty().noneMatch(line -> line.contains(PASSWORD));
    }

    private static void describe(Map<String, Object> settings) throws Exception {
        Map<String, Object> props = new HashMap<>(settings);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 4_000);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000);
        try (Admin admin = Admin.create(props)) {
            admin.describeCluster(new DescribeClusterOptions().timeoutMs(3_000)).nodes().get(5, TimeUnit.SECONDS);
        }
    }
}
