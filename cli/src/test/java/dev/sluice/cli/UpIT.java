package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.embedded.RedisServerProcess;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code ./sluice up} as a user runs it: a child process from the launcher at the repository root. */
class UpIT {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    private final int adminPort = RedisServerProcess.freePort();
    private final int kafkaPort = RedisServerProcess.freePort();
    private final int redisPort = RedisServerProcess.freePort();

    /** A running {@code sluice up} and everything it printed. */
    private static final class Up implements AutoCloseable {
        final Process process;
        final List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());
        final Thread reader;

        Up(Process process) {
            this.process = process;
            reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String line; (line = in.readLine()) != null; ) {
                        lines.add(line);
                    }
                } catch (IOException ignored) {
                    // the process ended
                }
            });
            reader.setDaemon(true);
            reader.start();
        }

        String output() {
            synchronized (lines) {
                return String.join("\n", lines);
            }
        }

        boolean awaitLine(String text, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                if (output().contains(text)) {
                    return true;
                }
                if (!process.isAlive()) {
                    return output().contains(text);
                }
                Thread.sleep(100);
            }
            return false;
        }

        /**
         * SIGTERM, as a service manager would. Not {@link Process#destroy}: it closes our end of the
         * process's output too, and the shutdown's lines would be lost.
         */
        int stop() throws Exception {
            assertThat(new ProcessBuilder("kill", "-TERM", String.valueOf(process.pid())).start().waitFor()).isZero();
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("stopped within 60 s").isTrue();
            reader.join(10_000); // the last lines
            return process.exitValue();
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }

    private Up up(Path data) throws IOException {
        return up(data, Map.of());
    }

    private Up up(Path data, Map<String, String> env) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(ROOT.resolve("sluice").toString(), "up", "--port",
                String.valueOf(adminPort), "--kafka-port", String.valueOf(kafkaPort), "--redis-port",
                String.valueOf(redisPort), "--data-dir", data.toString())
                .directory(ROOT.toFile()).redirectErrorStream(true);
        builder.environment().putAll(env);
        return new Up(builder.start());
    }

    private JsonNode sluice(String... args) throws IOException {
        return Cli.json("http://localhost:" + adminPort, args);
    }

    private JsonNode awaitCompleted(String queue, int completed, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode shown;
        do {
            shown = sluice("queues", "show", queue);
            if (shown.path("stats").path("completed").asInt() >= completed) {
                return shown;
            }
            Thread.sleep(200);
        } while (System.nanoTime() < deadline);
        return shown;
    }

    @Test
    void upRunsEverythingStopsCleanlyAndARestartKeepsTheQueues() throws Exception {
        Path data = Files.createTempDirectory("sluice-up");
        String queue;
        String firstSaid;
        try (Up first = up(data)) {
            long launched = System.nanoTime();
            assertThat(first.awaitLine("Sluice is up", Duration.ofSeconds(240))).as(first.output()).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - launched)).isLessThan(Duration.ofSeconds(60));
            assertThat(first.output()).contains("admin      http://localhost:" + adminPort,
                    "kafka      localhost:" + kafkaPort + " (embedded)");
            HttpHealth.assertUp("http://localhost:" + adminPort + "/health");

            // end to end: the router, the gate, the worker and the statistics all take part
            queue = sluice("queues", "create", "20/1s").path("name").asText();
            sluice("queues", "test", queue, "10");
            JsonNode done = awaitCompleted(queue, 10, Duration.ofSeconds(60));
            assertThat(done.path("stats").path("completed").asInt()).as(done.toString()).isEqualTo(10);
            // every release beyond the ten was a task that missed its slot and went back (ADR 0005); the
            // statistics count releases from sluice.ready on their own path, so they may come a moment later
            JsonNode counted = done;
            long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            while (counted.path("stats").path("released").asInt() - counted.path("stats").path("requeued").asInt() != 10
                    && System.nanoTime() < deadline) {
                Thread.sleep(200);
                counted = sluice("queues", "show", queue);
            }
            assertThat(counted.path("stats").path("released").asInt()
                    - counted.path("stats").path("requeued").asInt()).as(counted.toString()).isEqualTo(10);

            // a second up on the same data says so instead of failing obscurely
            Process second = new ProcessBuilder(ROOT.resolve("sluice").toString(), "up", "--port",
                    String.valueOf(RedisServerProcess.freePort()), "--data-dir", data.toString())
                    .directory(ROOT.toFile()).redirectErrorStream(true).start();
            assertThat(second.waitFor(120, TimeUnit.SECONDS)).isTrue();
            String said = new String(second.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(second.exitValue()).as(said).isEqualTo(1);
            assertThat(said).contains("sluice up is already running with the data in " + data);

            int exit = first.stop();
            firstSaid = first.output();
            assertThat(firstSaid).contains("Sluice stopped");
            assertThat(exit).isIn(0, 143);
        }

        try (Up again = up(data)) {
            assertThat(again.awaitLine("Sluice is up", Duration.ofSeconds(240))).as(again.output()).isTrue();
            JsonNode kept = sluice("queues", "show", queue);
            assertThat(kept.path("rateLimit").asText()).isEqualTo("20/1s");
            if (kept.path("stats").path("completed").asInt() != 10) {
                // seen once in CI (0 right after the restart), never here: say so, and see whether it comes back
                System.err.println("UpIT: right after the restart, queues show said " + kept);
                kept = awaitCompleted(queue, 10, Duration.ofSeconds(15));
            }
            assertThat(kept.path("stats").path("completed").asInt())
                    .as(kept + "\nfirst up:\n" + firstSaid + "\nsecond up:\n" + again.output()).isEqualTo(10);
            assertThat(kept.path("stats").path("waiting").asInt()).isZero();
            again.stop();
        }
    }

    @Test
    void anUpKilledOutrightIsFollowedByAnUpThatStartsAndKeepsTheQueues() throws Exception {
        Path data = Files.createTempDirectory("sluice-up-killed");
        String queue;
        long redisPid;
        // the records of sluice.ready are counted here: the janitor must not delete the consumed ones
        Map<String, String> keepRecords = Map.of("SLUICE_JANITOR_ENABLED", "false");
        try (Up first = up(data, keepRecords)) {
            assertThat(first.awaitLine("Sluice is up", Duration.ofSeconds(240))).as(first.output()).isTrue();
            queue = sluice("queues", "create", "20/1s").path("name").asText();
            sluice("queues", "test", queue, "100");
            awaitCompleted(queue, 30, Duration.ofSeconds(60)); // mid-run: releases and their events in flight
            redisPid = first.process.children().filter(c -> c.info().command().orElse("").contains("redis-server"))
                    .findFirst().orElseThrow().pid();

            first.process.destroyForcibly(); // SIGKILL: no shutdown hook runs
            assertThat(first.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(ProcessHandle.of(redisPid)).as("the embedded redis-server outlives a killed up").isPresent();

        try (Up again = up(data, keepRecords)) {
            assertThat(again.awaitLine("Sluice is up", Duration.ofSeconds(240))).as(again.output()).isTrue();
            assertThat(again.output()).contains("Stopping the redis-server (pid " + redisPid + ")");
            assertThat(sluice("queues", "show", queue).path("rateLimit").asText()).isEqualTo("20/1s");

            // every task done, and the figures are the log's: released is what sluice.ready holds of the
            // queue (a kill between the gate's transaction and its events lost releases for good)
            awaitCompleted(queue, 100, Duration.ofSeconds(120)); // completions count re-runs too: and then
            long released = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (releasesOf(queue, 100).size() < 100 && System.nanoTime() < released) {
                Thread.sleep(500);
            }
            long onReady = readyRecordsOf(queue);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            JsonNode stats = sluice("queues", "show", queue).path("stats");
            while (System.nanoTime() < deadline && (stats.path("released").asLong() != onReady
                    || stats.path("waiting").asLong() != 0)) {
                Thread.sleep(500);
                onReady = readyRecordsOf(queue);
                stats = sluice("queues", "show", queue).path("stats");
            }
            // what the second up said, its last 20,000 characters, for when it does not finish the work
            String said = again.output();
            String tail = said.substring(Math.max(0, said.length() - 20_000));
            assertThat(releasesOf(queue, 100)).as(stats + "\nsecond up:\n" + tail).hasSize(100);
            assertThat(stats.path("released").asLong()).as(stats.toString()).isEqualTo(onReady);
            assertThat(stats.path("waiting").asLong()).as(stats.toString()).isZero();
            again.stop();
        }
    }

    @Test
    void aRedisServerKilledUnderUpIsStartedAgainOnItsDataAndNoTaskIsLostOrReleasedTwice() throws Exception {
        Path data = Files.createTempDirectory("sluice-up-redis-killed");
        try (Up up = up(data)) {
            assertThat(up.awaitLine("Sluice is up", Duration.ofSeconds(240))).as(up.output()).isTrue();
            String queue = sluice("queues", "create", "20/1s").path("name").asText();
            sluice("queues", "test", queue, "200");
            awaitCompleted(queue, 40, Duration.ofSeconds(60));
            long killed = redisServerOf(up).pid();

            // SIGKILL mid-run: the server writes nothing more, not even the rest of its append-only file
            assertThat(new ProcessBuilder("kill", "-KILL", String.valueOf(killed)).start().waitFor()).isZero();

            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (System.nanoTime() < deadline && liveRedisServerOf(up).map(ProcessHandle::pid).orElse(killed) == killed) {
                Thread.sleep(50);
            }
            assertThat(liveRedisServerOf(up).map(ProcessHandle::pid)).as(up.output()).isPresent().get()
                    .isNotEqualTo(killed);
            assertThat(up.awaitLine("redis-server started again on port " + redisPort, Duration.ofSeconds(5)))
                    .as(up.output()).isTrue();

            JsonNode done = awaitCompleted(queue, 200, Duration.ofSeconds(120));
            assertThat(done.path("stats").path("completed").asInt()).as(done.toString()).isEqualTo(200);
            HttpHealth.assertUp("http://localhost:" + adminPort + "/health");

            // from the log itself: every task released, none twice, no window of the limit over it
            Map<String, Long> released = releasesOf(queue, 200);
            assertThat(released).hasSize(200);
            long[] times = released.values().stream().mapToLong(Long::longValue).toArray();
            assertThat(dev.sluice.core.Windows.maxInAnyWindow(times, 1_000)).as("most releases in any second")
                    .isLessThanOrEqualTo(20);
            up.stop();
        }
    }

    /** How many records of {@code queue} sluice.ready holds, committed ones only: its releases. */
    private long readyRecordsOf(String queue) {
        return readyOf(queue).size();
    }

    private static ProcessHandle redisServerOf(Up up) {
        return liveRedisServerOf(up).orElseThrow(() -> new AssertionError("no redis-server under up:\n" + up.output()));
    }

    /** The redis-server under {@code up}, if one runs now (none between a kill and the restart). */
    private static java.util.Optional<ProcessHandle> liveRedisServerOf(Up up) {
        return up.process.descendants().filter(c -> c.info().command().orElse("").contains("redis-server"))
                .filter(ProcessHandle::isAlive).findFirst();
    }

    /**
     * The release time of each task of {@code queue} on sluice.ready (read_committed), by task id. A task
     * released again after it missed its start slot counts at its last release; a task released twice
     * while the first had started would show as a completion more than the tasks.
     */
    private Map<String, Long> releasesOf(String queue, int expected) {
        Map<String, Long> byId = new java.util.HashMap<>();
        for (var record : readyOf(queue)) {
            var id = record.headers().lastHeader(dev.sluice.core.TaskHeaders.ID);
            if (id != null) {
                byId.put(new String(id.value(), StandardCharsets.UTF_8), record.timestamp());
            }
        }
        return byId;
    }

    /** The records of {@code queue} on sluice.ready, committed ones only, in each partition's order. */
    private List<org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]>> readyOf(String queue) {
        List<org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]> consumer =
                     new org.apache.kafka.clients.consumer.KafkaConsumer<>(Map.of(
                             "bootstrap.servers", "localhost:" + kafkaPort, "isolation.level", "read_committed",
                             "enable.auto.commit", "false"),
                             new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                             new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            String topic = dev.sluice.core.Topics.defaults().ready();
            List<org.apache.kafka.common.TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new org.apache.kafka.common.TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<org.apache.kafka.common.TopicPartition, Long> ends = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline && partitions.stream().anyMatch(p -> consumer.position(p) < ends.get(p))) {
                for (var record : consumer.poll(Duration.ofMillis(200))) {
                    var q = record.headers().lastHeader(dev.sluice.core.TaskHeaders.QUEUE);
                    if (q != null && queue.equals(new String(q.value(), StandardCharsets.UTF_8))) {
                        records.add(record);
                    }
                }
            }
        }
        return records;
    }
}
