package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.embedded.RedisServerProcess;
import dev.sluice.embedded.SharedServers;
import java.io.File;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The stack on Kafka and Redis of one's own (as {@code sluice up --kafka … --redis …}), fed the way
 * the README shows for any Kafka client: Kafka's console producer with its exact flags.
 */
class ExternalServersIT {

    private static final Path README = Path.of("..").toAbsolutePath().normalize().resolve("README.md");

    /** The README's console producer flags, the broker address swapped for the test's. */
    private static List<String> consoleProducerArgs(String bootstrap) throws Exception {
        String readme = Files.readString(README);
        Matcher command = Pattern.compile("bin/kafka-console-producer\\.sh ([^\\n]*)\\\\\\n\\s*([^\\n]*)\\n").matcher(readme);
        assertThat(command.find()).as("the console producer command in the README").isTrue();
        List<String> args = new ArrayList<>();
        for (String arg : (command.group(1) + " " + command.group(2)).trim().split("\\s+")) {
            args.add(arg.equals("localhost:9092") ? bootstrap : arg);
        }
        return args;
    }

    @Test
    void theStackOnExternalServersRunsTasksKafkasConsoleProducerWrote() throws Exception {
        String bootstrap = SharedServers.kafkaBootstrapServers();
        try (Stack stack = Stack.start(new Stack.Options(bootstrap, SharedServers.redisUri(),
                RedisServerProcess.freePort(), 0, 0, Files.createTempDirectory("sluice-external"), Map.of()))) {
            assertThat(stack.kafka()).isEqualTo(bootstrap);
            String queue = "emails-" + UUID.randomUUID().toString().substring(0, 8);
            Cli.json(stack.admin(), "queues", "create", "20/1s", "--name", queue);

            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                    "org.apache.kafka.tools.ConsoleProducer"));
            command.addAll(consoleProducerArgs(bootstrap));
            File log = Files.createTempFile("console-producer", ".log").toFile();
            Process producer = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(log).start();
            try (OutputStream stdin = producer.getOutputStream()) {
                stdin.write((queue + ":{\"to\":\"a@b.c\"}\n" + queue + ":{\"to\":\"d@e.f\"}\n").getBytes(StandardCharsets.UTF_8));
            }
            assertThat(producer.waitFor(60, TimeUnit.SECONDS)).isTrue();
            String said = Files.readString(log.toPath());
            assertThat(producer.exitValue()).as(said).isZero();
            assertThat(said).as("the README's flags are current").doesNotContainIgnoringCase("deprecated");

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            JsonNode shown = Cli.json(stack.admin(), "queues", "show", queue);
            while ((shown.path("stats").path("completed").asInt() < 2 || shown.path("stats").path("waiting").asInt() > 0)
                    && System.nanoTime() < deadline) {
                Thread.sleep(200);
                shown = Cli.json(stack.admin(), "queues", "show", queue);
            }
            assertThat(shown.path("stats").path("completed").asInt()).as(shown.toString()).isEqualTo(2);
            assertThat(shown.path("stats").path("waiting").asInt()).isZero();
        }
    }
}
