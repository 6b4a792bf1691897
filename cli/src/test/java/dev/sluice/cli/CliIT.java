package dev.sluice.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.client.AdminClient;
import dev.sluice.embedded.RedisServerProcess;
import dev.sluice.embedded.SharedServers;
import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import static org.assertj.core.api.Assertions.assertThat;


/** The command line against a running admin service on the real broker and Redis. */
class CliIT {

    private static final String PREFIX = "c" + UUID.randomUUID().toString().substring(0, 8);
    private static EmbeddedServer admin;
    private static String url;


    @BeforeAll
    static void startAdmin() {
        admin = startAdmin(Map.of());
        url = admin.getURL().toString();
    }

    private static EmbeddedServer startAdmin(Map<String, Object> extra) {
        Map<String, Object> properties = new HashMap<>(Map.of("sluice.kafka", SharedServers.kafkaBootstrapServers(),
                "sluice.redis", SharedServers.redisUri(), "sluice.prefix", PREFIX,
                "micronaut.server.port", "-1", "sluice.reaper.enabled", "false"));
        properties.putAll(extra);
        return ApplicationContext.run(EmbeddedServer.class, properties);
    }

    @AfterAll
    static void stopAdmin() {
        admin.close();
    }

    private static Cli.Run sluice(String... args) {
        return Cli.run(url, args);
    }

    @Test
    void createsListsShowsUpdatesPausesResumesAndRemovesAQueue() throws Exception {
        Cli.Run created = sluice("queues", "create", "5/60s", "--burst", "2", "--ttl", "2h", "--json");
        assertThat(created.exit()).isZero();
        String name = created.json().path("name").asText();
        assertThat(name).startsWith("batch_");
        assertThat(created.json().path("ttlSeconds").asLong()).isEqualTo(7200);

        Cli.Run list = sluice("queues", "list");
        assertThat(list.exit()).isZero();
        assertThat(list.out()).contains("QUEUE", "LIMIT", "WAITING", "NEXT TOKEN", "DRAINED")
                .containsPattern(name + "\\s+5/60s\\s+active\\s+0\\s+0\\s+0\\s+0\\s+0\\s+2/2\\s+now\\s+empty");

        Cli.Run shown = sluice("queues", "show", name);
        assertThat(shown.out()).contains("limit        5/60s  (burst 2", "idle TTL     2h 00m", "tokens       2 of 2");

        Cli.Run updated = sluice("queues", "update", name, "20/60s", "--burst", "1");
        assertThat(updated.exit()).isZero();
        assertThat(updated.out()).contains("updated " + name, "limit        20/60s  (burst 1");

        assertThat(sluice("queues", "deactivate", name).out()).isEqualTo(name + " is inactive\n");
        assertThat(sluice("--json", "queues", "show", name).json().path("state").asText()).isEqualTo("inactive");
        assertThat(sluice("queues", "activate", name).out()).isEqualTo(name + " is active\n");

        Cli.Run tested = sluice("queues", "test", name, "3");
        assertThat(tested.exit()).isZero();
        assertThat(tested.out()).isEqualTo("submitted 3 test tasks to " + name + "\n");

        Cli.Run removed = sluice("queues", "remove", name);
        assertThat(removed.exit()).isZero();
        assertThat(sluice("queues", "list", "--json").json().findValuesAsText("name")).doesNotContain(name);
    }

    @Test
    void anExplicitNameIsKept() throws Exception {
        String name = "emails-" + UUID.randomUUID().toString().substring(0, 8);

        Cli.Run created = sluice("queues", "create", "1/1h", "--name", name);

        assertThat(created.exit()).isZero();
        assertThat(created.out()).startsWith("created " + name + "\n").contains("limit        1/3600s");
    }

    @Test
    void userErrorsExitWith1AndTheServersDetail() {
        Cli.Run badLimit = sluice("queues", "create", "5/60x");
        Cli.Run unknown = sluice("queues", "show", "no-such-queue-" + UUID.randomUUID());
        Cli.Run badTtl = sluice("queues", "create", "5/60s", "--ttl", "soon");
        Cli.Run nothing = sluice("queues", "update", "whatever");
        Cli.Run missing = sluice("queues", "create");

        assertThat(badLimit.exit()).isEqualTo(1);
        assertThat(badLimit.err()).startsWith("error: ").contains("unknown unit \"x\"");
        assertThat(unknown.exit()).isEqualTo(1);
        assertThat(unknown.err()).contains("does not exist");
        assertThat(badTtl.exit()).isEqualTo(1);
        assertThat(badTtl.err()).contains("a TTL is a whole number");
        assertThat(nothing.exit()).isEqualTo(1);
        assertThat(nothing.err()).contains("nothing to update");
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err()).contains("Missing required parameter: 'LIMIT'", "sluice queues create --help");
    }

    @Test
    void anUnreachableAdminExitsWith2AndSaysWhereItLooked() {
        int port = RedisServerProcess.freePort();
        StringWriter err = new StringWriter();

        int exit = Sluice.run(new PrintWriter(new StringWriter()), new PrintWriter(err, true),
                "--admin", "http://127.0.0.1:" + port, "queues", "list");

        assertThat(exit).isEqualTo(2);
        assertThat(err.toString()).contains("http://127.0.0.1:" + port + " does not answer (connection refused)");
    }

    @Test
    void listShowsTheBusiestFirstCountsTheRestAndFilters() throws Exception {
        String tag = "list-" + UUID.randomUUID().toString().substring(0, 6) + "-";
        for (String suffix : List.of("a", "b", "c")) {
            sluice("queues", "create", "1/1h", "--name", tag + suffix);
        }
        sluice("queues", "deactivate", tag + "a");
        // tasks straight into the queue topics (no router or gate runs here): they wait
        try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]>(Map.of(
                "bootstrap.servers", SharedServers.kafkaBootstrapServers()),
                new org.apache.kafka.common.serialization.ByteArraySerializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            for (String[] waiting : new String[][] {{"b", "3"}, {"c", "1"}}) {
                for (int i = 0; i < Integer.parseInt(waiting[1]); i++) {
                    producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(
                            PREFIX + ".q." + tag + waiting[0], new byte[0], "{}".getBytes()));
                }
            }
        }
        JsonNode busiest = sluice("--json", "queues", "list", "--prefix", tag, "--limit", "2").json();

        assertThat(busiest.findValuesAsText("name")).containsExactly(tag + "b", tag + "c");
        Cli.Run two = sluice("queues", "list", "--prefix", tag, "--limit", "2");
        assertThat(two.out()).contains("… and 1 more");
        assertThat(sluice("--json", "queues", "list", "--prefix", tag, "--sort", "name").json().findValuesAsText("name"))
                .containsExactly(tag + "a", tag + "b", tag + "c");
        assertThat(sluice("--json", "queues", "list", "--prefix", tag, "--state", "inactive").json()
                .findValuesAsText("name")).containsExactly(tag + "a");
        assertThat(sluice("--json", "queues", "list", "--prefix", tag, "--all", "--sort", "name").json()
                .findValuesAsText("name")).hasSize(3);
        Cli.Run wrong = sluice("queues", "list", "--limit", "0");
        assertThat(wrong.exit()).isEqualTo(1);
        assertThat(wrong.err()).contains("limit");
    }

    @Test
    void monitorShowsTheOverviewAndEveryQueue() throws Exception {
        String name = sluice("queues", "create", "1/1h", "--json").json().path("name").asText();
        sluice("queues", "deactivate", name);

        Cli.Run once = sluice("monitor", "--once");
        Cli.Run frames = sluice("monitor", "--json", "--interval", "0.1", "--count", "2");

        assertThat(once.exit()).isZero();
        assertThat(once.out()).contains("redis up", "kafka up").containsPattern(name + "\\s+1/3600s\\s+inactive");
        String[] lines = frames.out().split("\n");
        assertThat(lines).hasSize(2);
        JsonNode frame = AdminClient.JSON.readTree(lines[1]);
        assertThat(frame.path("overview").path("redis").asText()).isEqualTo("up");
        assertThat(frame.path("queues").findValuesAsText("name")).contains(name);

        // as monitor.py took it: the interval as a bare number
        Cli.Run bare = sluice("monitor", "--json", "0.1", "--count", "2");
        Cli.Run tooFast = sluice("monitor", "0.01");
        assertThat(bare.exit()).as(bare.err()).isZero();
        assertThat(bare.out().split("\n")).hasSize(2);
        assertThat(tooFast.exit()).isEqualTo(1);
        assertThat(tooFast.err()).contains("at least 0.1 seconds");
    }

    @Test
    void theTokenIsSentWhenGiven() {
        String token = UUID.randomUUID().toString();
        try (EmbeddedServer guarded = startAdmin(Map.of("sluice.admin.token", token))) {
            String guardedUrl = guarded.getURL().toString();
            StringWriter err = new StringWriter();
            int refused = Sluice.run(new PrintWriter(new StringWriter()), new PrintWriter(err, true),
                    "--admin", guardedUrl, "queues", "create", "5/1s");
            int accepted = Sluice.run(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()),
                    "--admin", guardedUrl, "--token", token, "queues", "create", "5/1s");

            assertThat(refused).isEqualTo(1);
            assertThat(err.toString()).contains("needs the admin token");
            assertThat(accepted).isZero();
        }
    }

    @Test
    void theLauncherAtTheRepositoryRootRunsTheCommandLine() throws Exception {
        String name = sluice("queues", "create", "5/1s", "--json").json().path("name").asText();
        Path root = Path.of("..").toAbsolutePath().normalize();
        Process process = new ProcessBuilder(root.resolve("sluice").toString(), "--admin", url, "queues", "list")
                .directory(root.toFile()).redirectErrorStream(true).start();
        assertThat(process.waitFor(300, TimeUnit.SECONDS)).isTrue();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

        assertThat(process.exitValue()).as(output).isZero();
        assertThat(output).contains("QUEUE", name); // the table is print()ed: it must be flushed before the exit
    }
}
