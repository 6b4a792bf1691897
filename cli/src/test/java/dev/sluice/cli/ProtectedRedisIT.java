package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.embedded.RedisServerProcess;
import dev.sluice.embedded.SharedServers;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * The stack on a Redis that needs a password, as managed Redis services do (an ACL user, and
 * {@code requirepass} for the default user): every service authenticates from {@code REDIS_URL}, and
 * the password appears in no log line, banner, {@code /health} or {@code /prometheus}.
 */
class ProtectedRedisIT {

    private static final String PASSWORD = "pw-" + UUID.randomUUID();

    @Test
    void theStackRunsOnAnAclUserAndNeverShowsItsPassword() throws Exception {
        CapturedLogs logged = new CapturedLogs(name -> true);
        try (RedisServerProcess redis = RedisServerProcess.startEphemeral()) {
            try (Jedis setup = new Jedis("127.0.0.1", redis.port())) {
                setup.aclSetUser("app", "on", ">" + PASSWORD, "~*", "&*", "+@all");
                setup.configSet("requirepass", "other-" + PASSWORD);
            }
            try (Jedis anonymous = new Jedis("127.0.0.1", redis.port())) {
                assertThatThrownBy(anonymous::ping).isInstanceOf(JedisDataException.class).hasMessageContaining("NOAUTH");
            }
            String url = "redis://app:" + PASSWORD + "@127.0.0.1:" + redis.port();
            try (Stack stack = Stack.start(new Stack.Options(SharedServers.kafkaBootstrapServers(), url,
                    RedisServerProcess.freePort(), 0, 0, Files.createTempDirectory("sluice-acl"), Map.of()))) {
                String queue = "acl-" + UUID.randomUUID().toString().substring(0, 8);
                Cli.json(stack.admin(), "queues", "create", "20/1s", "--name", queue);
                Cli.json(stack.admin(), "queues", "test", queue, "5");

                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                JsonNode shown = Cli.json(stack.admin(), "queues", "show", queue);
                while (shown.path("stats").path("completed").asInt() < 5 && System.nanoTime() < deadline) {
                    Thread.sleep(200);
                    shown = Cli.json(stack.admin(), "queues", "show", queue);
                }
                assertThat(shown.path("stats").path("completed").asInt()).as(shown.toString()).isEqualTo(5);
                HttpClient http = HttpClient.newHttpClient();
                for (String path : new String[] {"/health", "/prometheus", "/overview", "/queues"}) {
                    String body = http.send(HttpRequest.newBuilder(URI.create(stack.admin() + path)).build(),
                            HttpResponse.BodyHandlers.ofString()).body();
                    assertThat(body).as(path).isNotEmpty().doesNotContain(PASSWORD);
                }
                String banner = UpCommand.banner(1.0, stack.admin(), stack.kafka(), false, stack.redis(), false);
                assertThat(banner).contains("redis://app:***@127.0.0.1:" + redis.port()).doesNotContain(PASSWORD);
            }
        } finally {
            logged.close();
        }
        assertThat(logged.lines()).isNotEmpty().noneMatch(line -> line.contains(PASSWORD));
    }
}
