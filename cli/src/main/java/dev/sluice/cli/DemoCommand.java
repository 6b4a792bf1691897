package dev.sluice.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.client.AdminClient;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.Topics;
import dev.sluice.core.Windows;
import dev.sluice.embedded.RedisServerProcess;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code sluice demo}, after the original examples/demo.py: queues at different limits, tasks, the
 * releases live, a limit update, a pause and resume, a removal, and at the end per queue the most
 * releases seen in any window of its period, and the most task starts at the handler when the demo runs
 * its own stack, against what the limit allows. Exit 1 if any exceeded.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Show Sluice at work in about a minute: three queues (fast 10/1s, medium 3/2s, slow 1/5s),",
            "their releases live, a limit raised, a queue paused and resumed, one removed, and a closing table of",
            "the most releases in any window against each limit, and of the most task starts at the handler",
            "when the demo runs its own stack (exit 1 if one was exceeded).",
            "Uses the stack at --admin if one answers (its Kafka at --kafka), else starts its own for the run."})
final class DemoCommand implements Callable<Integer> {

    @ParentCommand
    SluiceCommand root;

    @Option(names = "--kafka", paramLabel = "BOOTSTRAP", defaultValue = "${KAFKA_BOOTSTRAP_SERVERS:-localhost:9092}",
            description = "the Kafka of the stack at --admin, to watch the releases (default ${DEFAULT-VALUE})")
    String kafka;

    @Option(names = "--speed", paramLabel = "X", defaultValue = "1", hidden = true,
            description = "phase lengths divided by X (tests)")
    double speed;

    /** One demo queue: what it is called here, its limits over the run, and the tasks it gets. */
    private record DemoQueue(String label, String limit, int tasks) {
    }

    /** A limit in force from a time on: releases are checked against the limit of their segment. */
    private record Segment(long fromMillis, long permits, long periodMillis, String limit) {
    }

    private final Map<String, String> names = new LinkedHashMap<>();
    private final Map<String, List<Segment>> segments = new HashMap<>();
    /**
     * Per queue, the tasks released so far, each once: a task that missed its start slot is released
     * again (ADR 0005), and counts once here but twice in the table's releases.
     */
    private final Map<String, java.util.Set<String>> releasedIds = new HashMap<>();
    /** The start times of the demo's own worker; null on a stack of somebody else's. */
    private StartRecorder starts;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = root.out();
        Stack own = null;
        AdminClient api = root.api();
        String bootstrap = kafka;
        if (!answers(api)) {
            out.println("No admin service at " + api.base() + ": starting a stack of its own for this run...");
            out.flush();
            // the demo's own output is the story; the services' lines (one per task) would bury it
            ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("dev.sluice"))
                    .setLevel(ch.qos.logback.classic.Level.WARN);
            starts = new StartRecorder();
            Map<String, String> env = new HashMap<>(System.getenv());
            env.put(dev.sluice.worker.WorkerConfig.ENV_HANDLER, StartRecorder.NAME);
            own = Stack.start(new Stack.Options(null, null, RedisServerProcess.freePort(), RedisServerProcess.freePort(),
                    RedisServerProcess.freePort(), Files.createTempDirectory("sluice-demo"), env, List.of(starts)));
            api = new AdminClient(java.net.URI.create(own.admin()), root.token);
            bootstrap = own.kafka();
        }
        try (KafkaConsumer<byte[], byte[]> releases = readyConsumer(bootstrap)) {
            return run(out, api, releases);
        } finally {
            if (own != null) {
                out.println("Stopping the demo's own stack...");
                out.flush();
                own.close();
            }
        }
    }

    private int run(PrintWriter out, AdminClient api, KafkaConsumer<byte[], byte[]> releases) throws Exception {
        // enough tasks that fast still has a backlog when raised and medium when paused
        List<DemoQueue> queues = List.of(new DemoQueue("fast", "10/1s", 300), new DemoQueue("medium", "3/2s", 60),
                new DemoQueue("slow", "1/5s", 6), new DemoQueue("temporary", "2/1s", 20));
        Map<String, List<Long>> seen = new HashMap<>();
        out.println("1. Creating queues and submitting tasks");
        for (DemoQueue q : queues) {
            String name = api.post("/queues", Map.of("rateLimit", q.limit())).path("name").asText();
            names.put(q.label(), name);
            seen.put(name, new ArrayList<>());
            segments.put(name, new ArrayList<>(List.of(segment(System.currentTimeMillis(), q.limit()))));
            api.post(AdminClient.path(name) + "/tasks", Map.of("count", q.tasks()));
            out.printf("   %-9s %-6s %4d tasks  %s%n", q.label(), q.limit(), q.tasks(), name);
        }
        out.flush();

        phase(out, api, releases, seen, "2. Releases at each limit", 16);
        String fast = names.get("fast");
        api.patch(AdminClient.path(fast), Map.of("rateLimit", "20/1s"));
        segments.get(fast).add(segment(System.currentTimeMillis(), "20/1s"));
        phase(out, api, releases, seen, "3. fast raised to 20/1s: its releases double", 6);
        String medium = names.get("medium");
        api.post(AdminClient.path(medium) + "/deactivate", Map.of());
        phase(out, api, releases, seen, "4. medium paused: it releases nothing", 6);
        api.post(AdminClient.path(medium) + "/activate", Map.of());
        String temporary = names.get("temporary");
        api.delete(AdminClient.path(temporary));
        phase(out, api, releases, seen, "5. medium resumed; temporary removed", 8);
        collect(releases, seen);

        out.println();
        out.println("6. Most releases in any window of each limit's period, from the release times on sluice.ready,");
        out.println(starts == null
                ? "   (the starts at the handler are seen only on the demo's own stack: run it with no admin service up)"
                : "   and most task starts in any such window at the handler:");
        boolean exceeded = false;
        List<List<String>> rows = new ArrayList<>();
        List<String> crowded = new ArrayList<>();
        for (Map.Entry<String, String> entry : names.entrySet()) {
            String name = entry.getValue();
            List<StartRecorder.Start> startList = starts == null ? List.of() : starts.startsOf(name);
            for (Segment segment : segments.get(name)) {
                long[] times = timesIn(seen.get(name), segment, segments.get(name));
                int max = Windows.maxInAnyWindow(times, segment.periodMillis());
                boolean ok = max <= segment.permits();
                String started = "-";
                String maxStarted = "-";
                if (starts != null) {
                    long until = until(segment, segments.get(name));
                    List<StartRecorder.Start> inSegment = startList.stream()
                            .filter(s -> s.micros() / 1_000 >= segment.fromMillis() && s.micros() / 1_000 < until)
                            .sorted(java.util.Comparator.comparingLong(StartRecorder.Start::micros)).toList();
                    long[] startTimes = inSegment.stream().mapToLong(StartRecorder.Start::micros).toArray();
                    int maxStarts = Windows.maxInAnyWindow(startTimes, segment.periodMillis() * 1_000);
                    if (maxStarts > segment.permits()) {
                        ok = false;
                        crowded.add(describeCrowdedWindow(entry.getKey(), segment, inSegment));
                    }
                    started = String.valueOf(startTimes.length);
                    maxStarted = String.valueOf(maxStarts);
                }
                exceeded |= !ok;
                rows.add(List.of(entry.getKey(), segment.limit(), String.valueOf(times.length), String.valueOf(max),
                        started, maxStarted, String.valueOf(segment.permits()), ok ? "ok" : "EXCEEDED"));
            }
        }
        out.print(Text.table(List.of("QUEUE", "LIMIT", "RELEASED", "MAX IN A WINDOW", "STARTED", "MAX STARTED",
                "ALLOWED", ""), rows));
        crowded.forEach(out::print);
        out.println(exceeded ? "A limit was exceeded." : "Every limit held.");
        for (String label : List.of("fast", "medium", "slow")) {
            api.delete(AdminClient.path(names.get(label)));
        }
        out.println("The demo's queues are removed.");
        out.flush();
        return exceeded ? 1 : 0;
    }

    private void phase(PrintWriter out, AdminClient api, KafkaConsumer<byte[], byte[]> releases,
                       Map<String, List<Long>> seen, String title, int seconds) throws InterruptedException {
        out.println();
        out.println(title);
        long end = System.nanoTime() + Math.round(seconds * 1e9 / speed);
        while (System.nanoTime() < end) {
            long tick = System.nanoTime() + Math.round(2e9 / speed);
            while (System.nanoTime() < tick) {
                collect(releases, seen);
            }
            StringBuilder line = new StringBuilder();
            for (Map.Entry<String, String> entry : names.entrySet()) {
                String state = state(api, entry.getValue());
                line.append(String.format("  %s %d released%s", entry.getKey(),
                        releasedIds.getOrDefault(entry.getValue(), java.util.Set.of()).size(), state));
            }
            out.println(line.toString().stripLeading());
            out.flush();
        }
    }

    private static String state(AdminClient api, String name) {
        try {
            JsonNode q = api.get(AdminClient.path(name));
            return ", " + q.path("stats").path("waiting").asText("?") + " waiting"
                    + ("active".equals(q.path("state").asText()) ? "" : " (paused)") + ";";
        } catch (AdminClient.ApiException gone) {
            return " (removed);";
        }
    }

    private void collect(KafkaConsumer<byte[], byte[]> releases, Map<String, List<Long>> seen) {
        for (ConsumerRecord<byte[], byte[]> record : releases.poll(Duration.ofMillis(100))) {
            Header queue = record.headers().lastHeader(TaskHeaders.QUEUE);
            if (queue != null) {
                String name = new String(queue.value(), StandardCharsets.UTF_8);
                List<Long> times = seen.get(name);
                if (times != null) {
                    times.add(record.timestamp());
                    Header id = record.headers().lastHeader(TaskHeaders.ID);
                    releasedIds.computeIfAbsent(name, q -> new java.util.HashSet<>())
                            .add(id == null ? record.topic() + record.partition() + "@" + record.offset()
                                    : new String(id.value(), StandardCharsets.UTF_8));
                }
            }
        }
    }

    /**
     * The first window of {@code segment}'s period holding more starts than it allows, start by start:
     * which task, its slot, and how late after it it started, so that a failed run says what happened.
     */
    private static String describeCrowdedWindow(String label, Segment segment, List<StartRecorder.Start> sorted) {
        long length = segment.periodMillis() * 1_000;
        int first = 0;
        for (int last = 0; last < sorted.size(); last++) {
            while (sorted.get(last).micros() - sorted.get(first).micros() >= length) {
                first++;
            }
            if (last - first + 1 > segment.permits()) {
                StringBuilder text = new StringBuilder(String.format(
                        "Starts of %s in the window from its start at %d us (limit %s):%n", label,
                        sorted.get(first).micros(), segment.limit()));
                for (StartRecorder.Start start : sorted.subList(first, last + 1)) {
                    text.append(String.format("  %s attempt %d  started +%d us  slot %s%n", start.id(), start.attempt(),
                            start.micros() - sorted.get(first).micros(), start.slotMicros() == Long.MIN_VALUE ? "none"
                                    : "+" + (start.slotMicros() - sorted.get(first).micros()) + " us, started "
                                    + (start.micros() - start.slotMicros()) + " us after it"));
                }
                return text.toString();
            }
        }
        return "";
    }

    private static long[] timesIn(List<Long> all, Segment segment, List<Segment> segments) {
        long until = until(segment, segments);
        return all.stream().mapToLong(Long::longValue).filter(t -> t >= segment.fromMillis() && t < until)
                .sorted().toArray();
    }

    /** When the next segment begins, in milliseconds; never for the last. */
    private static long until(Segment segment, List<Segment> segments) {
        int index = segments.indexOf(segment);
        return index + 1 < segments.size() ? segments.get(index + 1).fromMillis() : Long.MAX_VALUE;
    }

    private static Segment segment(long from, String limit) {
        dev.sluice.core.RateLimit rate = dev.sluice.core.RateLimit.parse(limit);
        return new Segment(from, rate.permits(), rate.period().toMillis(), limit);
    }

    private static boolean answers(AdminClient api) {
        try {
            api.get("/overview");
            return true;
        } catch (AdminClient.UnreachableException | AdminClient.ApiException e) {
            return false;
        }
    }

    /** Reads sluice.ready from its end: the release times of the demo's tasks. */
    private static KafkaConsumer<byte[], byte[]> readyConsumer(String bootstrap) {
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
                new ByteArrayDeserializer(), new ByteArrayDeserializer());
        String topic = Topics.defaults().ready();
        List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(p -> consumer.position(p, Duration.ofSeconds(30)));
        return consumer;
    }
}
