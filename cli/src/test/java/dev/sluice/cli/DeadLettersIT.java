package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.core.SluiceConfig;
import dev.sluice.core.TaskHeaders;
import dev.sluice.embedded.RedisServerProcess;
import dev.sluice.embedded.SharedServers;
import dev.sluice.ingest.TaskSubmitter;
import dev.sluice.worker.WorkerConfig;
import dev.sluice.worker.api.Task;
import dev.sluice.worker.api.TaskHandler;
import dev.sluice.worker.api.TaskResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Dead letters and batches as a user meets them, through the command line on the whole stack: tasks
 * whose handler fails them for good are listed with their error and payload, replayed (each at most
 * once, however often asked) through the queue's limit, where they run again, or purged; refused
 * submissions are listed with their reason; {@code queues wait} says when a batch is done and how it
 * went, and a {@code drained} event says it to producers.
 */
class DeadLettersIT {

    private static final String QUEUE = "dead-" + UUID.randomUUID().toString().substring(0, 8);
    private static final FailsUntilReplayed HANDLER = new FailsUntilReplayed();
    private static Stack stack;

    @BeforeAll
    static void startStack() throws Exception {
        stack = Stack.start(new Stack.Options(SharedServers.kafkaBootstrapServers(), SharedServers.redisUri(),
                RedisServerProcess.freePort(), 0, 0, Files.createTempDirectory("sluice-dead"),
                Map.of(WorkerConfig.ENV_QUEUE_HANDLERS, QUEUE + "=" + HANDLER.name()), List.of(HANDLER)));
    }

    @AfterAll
    static void stopStack() {
        stack.close();
    }

    /** Fails every task the first time it runs; a replayed one succeeds. */
    static final class FailsUntilReplayed implements TaskHandler {
        @Override
        public String name() {
            return "fails-until-replayed";
        }

        @Override
        public TaskResult handle(Task task) {
            return task.headers().containsKey(TaskHeaders.REPLAYED_FROM) ? TaskResult.success()
                    : TaskResult.fail("refused: " + new String(task.payload(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void deadLettersAreListedReplayedOnceThroughTheLimitAndPurged() throws Exception {
        String queue = QUEUE;
        String admin = stack.admin();
        Cli.json(admin, "queues", "create", "5/1s", "--name", queue, "--max-attempts", "2");
        Cli.json(admin, "queues", "test", queue, "6");

        JsonNode page = await(admin, queue, listed -> listed.path("total").asInt() == 6);
        Cli.Run waited = Cli.run(admin, "queues", "wait", queue, "--timeout", "60s");
        assertThat(waited.exit()).as(waited.out() + waited.err()).isEqualTo(QueuesCommand.SOME_DEAD);
        assertThat(waited.out()).contains("done         yes", "tasks        6   completed 0   dead 6",
                "dead letters: sluice dead list " + queue);
        JsonNode newest = page.path("deadLetters").get(0);
        assertThat(newest.path("attempts").asInt()).as("a failure for good is not retried").isEqualTo(1);
        assertThat(newest.path("error").asText()).startsWith("refused: {\"test\":true,\"n\":");
        assertThat(newest.path("payloadPreview").asText()).startsWith("{\"test\":true,\"n\":");
        assertThat(newest.path("id").asText()).isNotBlank();
        Cli.Run table = Cli.run(admin, "dead", "list", queue, "--limit", "4");
        assertThat(table.out()).contains("OFFSET", "LAST ERROR", "refused:", "4 of 6 dead letters",
                "older ones: sluice dead list " + queue + " --before ");
        JsonNode older = Cli.json(admin, "dead", "list", queue, "--limit", "4", "--before",
                page.path("deadLetters").get(3).path("offset").asText());
        assertThat(older.path("deadLetters")).hasSize(2);

        long one = page.path("deadLetters").get(5).path("offset").asLong();
        Cli.Run replayed = Cli.run(admin, "dead", "replay", queue, Long.toString(one));
        assertThat(replayed.out()).startsWith("replayed 1 dead letter of " + queue);
        assertThat(Cli.run(admin, "dead", "replay", queue, Long.toString(one)).out())
                .as("the same request again").startsWith("replayed 0 dead letters");
        awaitCompleted(admin, queue, 1);

        long newestOffset = page.path("deadLetters").get(0).path("offset").asLong();
        long second = page.path("deadLetters").get(1).path("offset").asLong();
        assertThat(Cli.run(admin, "dead", "purge", queue, Long.toString(newestOffset), Long.toString(second)).out())
                .startsWith("purged 2 dead letters");
        assertThat(Cli.run(admin, "dead", "replay", queue, "--all").out()).startsWith("replayed 3 dead letters");
        awaitCompleted(admin, queue, 4);
        assertThat(Cli.run(admin, "dead", "list", queue).out()).isEqualTo("no dead letters in " + queue + "\n");
        Thread.sleep(1_500);
        assertThat(Cli.json(admin, "queues", "show", queue).path("stats").path("completed").asInt())
                .as("each replayed one ran once; the purged ones did not run").isEqualTo(4);

        Cli.json(admin, "queues", "test", queue, "2");
        await(admin, queue, listed -> listed.path("total").asInt() == 2);
        assertThat(Cli.run(admin, "dead", "purge", queue, "--all").out()).startsWith("purged 2 dead letters");
        assertThat(Cli.json(admin, "dead", "list", queue).path("total").asInt()).isZero();

        Cli.Run finished = Cli.run(admin, "queues", "wait", queue, "--timeout", "60s");
        assertThat(finished.exit()).as(finished.out() + finished.err()).isZero();
        // 6 + 2 submitted, 4 of them replayed: 12 first releases; 4 completed, 8 dead, all 8 replayed or purged
        assertThat(finished.out()).contains("tasks        12   completed 4   dead 0");
        JsonNode summary = Cli.json(admin, "queues", "wait", queue);
        assertThat(summary.path("window").path("most").asLong()).isBetween(1L, 5L);
        assertThat(summary.path("window").path("allowed").asLong()).isEqualTo(5);
        assertThat(summary.path("durationSeconds").asLong()).isPositive();

        String paused = queue + "-paused";
        Cli.json(admin, "queues", "create", "5/1s", "--name", paused);
        Cli.run(admin, "queues", "deactivate", paused);
        Cli.json(admin, "queues", "test", paused, "1");
        Cli.Run timedOut = Cli.run(admin, "queues", "wait", paused, "--timeout", "2s");
        assertThat(timedOut.exit()).isEqualTo(QueuesCommand.TIMED_OUT);
        assertThat(timedOut.out()).contains("done         no: ", "not done after 2 s");

        Cli.Run neither = Cli.run(admin, "dead", "replay", queue);
        assertThat(neither.exit()).isEqualTo(1);
        assertThat(neither.err()).contains("give the offsets of the dead letters to replay, or --all");
        assertThat(Cli.run(admin, "dead", "list", "no-such-queue").exit()).isEqualTo(1);

        // a submission the router refuses: listed with its reason
        String missing = "missing-" + UUID.randomUUID().toString().substring(0, 8);
        try (TaskSubmitter submitter = TaskSubmitter.unchecked(SluiceConfig.fromEnvironment(Map.of(
                SluiceConfig.ENV_KAFKA, SharedServers.kafkaBootstrapServers())))) {
            submitter.submit(missing, "{\"lost\":false}".getBytes(StandardCharsets.UTF_8)).get(30, TimeUnit.SECONDS);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        List<JsonNode> found = new ArrayList<>();
        while (found.isEmpty() && System.nanoTime() < deadline) {
            Cli.json(admin, "rejected", "--limit", "50").forEach(each -> {
                if (each.path("queue").asText().equals(missing)) {
                    found.add(each);
                }
            });
            Thread.sleep(200);
        }
        assertThat(found).hasSize(1);
        assertThat(found.get(0).path("reason").asText()).contains(missing);
        assertThat(found.get(0).path("payloadPreview").asText()).isEqualTo("{\"lost\":false}");
    }

    @Test
    void aDrainedEventIsPublishedOnceEachTimeABatchIsDone() throws Exception {
        String admin = stack.admin();
        String queue = "drain-" + UUID.randomUUID().toString().substring(0, 8);
        Cli.json(admin, "queues", "create", "20/1s", "--name", queue);
        Cli.json(admin, "queues", "test", queue, "3");
        assertThat(Cli.run(admin, "queues", "wait", queue, "--timeout", "60s").exit()).isZero();

        assertThat(drained(queue, 1)).containsExactly("3");
        Cli.json(admin, "queues", "test", queue, "2");
        assertThat(Cli.run(admin, "queues", "wait", queue, "--timeout", "60s").exit()).isZero();
        assertThat(drained(queue, 2)).as("one more, for the 5 tasks so far").containsExactly("3", "5");
    }

    /** The counts of the queue's drained events, once {@code expected} were seen and a while longer (a duplicate would show). */
    private static List<String> drained(String queue, int expected) throws Exception {
        List<String> counts = new ArrayList<>();
        try (org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]> consumer =
                     new org.apache.kafka.clients.consumer.KafkaConsumer<>(Map.of("bootstrap.servers",
                             SharedServers.kafkaBootstrapServers(), "isolation.level", "read_committed"),
                             new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                             new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            List<org.apache.kafka.common.TopicPartition> partitions = consumer.partitionsFor("sluice.events").stream()
                    .map(p -> new org.apache.kafka.common.TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            long settleUntil = Long.MAX_VALUE;
            while (System.nanoTime() < Math.min(deadline, settleUntil)) {
                for (var record : consumer.poll(java.time.Duration.ofMillis(200))) {
                    if (queue.equals(new String(record.key(), StandardCharsets.UTF_8))) {
                        dev.sluice.core.TaskEvent event = dev.sluice.core.TaskEvent.fromJson(record.value());
                        if (event.type() == dev.sluice.core.TaskEvent.Type.drained) {
                            counts.add(Integer.toString(event.count()));
                        }
                    }
                }
                if (counts.size() >= expected && settleUntil == Long.MAX_VALUE) {
                    settleUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(5); // two more looks of the watcher
                }
            }
        }
        return counts;
    }

    private static JsonNode await(String admin, String queue, Predicate<JsonNode> done) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        JsonNode page = Cli.json(admin, "dead", "list", queue, "--limit", "50");
        while (!done.test(page) && System.nanoTime() < deadline) {
            Thread.sleep(200);
            page = Cli.json(admin, "dead", "list", queue, "--limit", "50");
        }
        assertThat(done.test(page)).as(page.toString()).isTrue();
        return page;
    }

    private static void awaitCompleted(String admin, String queue, int completed) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        JsonNode shown = Cli.json(admin, "queues", "show", queue);
        while (shown.path("stats").path("completed").asInt() < completed && System.nanoTime() < deadline) {
            Thread.sleep(200);
            shown = Cli.json(admin, "queues", "show", queue);
        }
        assertThat(shown.path("stats").path("completed").asInt()).as(shown.toString()).isEqualTo(completed);
    }
}
