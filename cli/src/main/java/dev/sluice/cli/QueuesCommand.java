package dev.sluice.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.client.AdminClient;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code sluice queues …}: create, list, show, update, pause, resume, remove, test, wait. */
@Command(name = "queues", mixinStandardHelpOptions = true,
        description = "Create, list, show, update, pause, resume and remove queues; submit test tasks; wait for a batch to finish.")
final class QueuesCommand implements Runnable {

    @ParentCommand
    SluiceCommand root;

    @Override
    public void run() {
        root.spec.commandLine().getSubcommands().get("queues").usage(root.out());
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a queue with its rate limit, e.g. sluice queues create \"5/60s\" --burst 2.")
    void create(@Parameters(paramLabel = "LIMIT", description = "N/P with P in ms, s, m or h: 5/60s, 500/1s, 1/1h")
                String limit,
                @Option(names = "--burst", paramLabel = "B", description = "tokens that may be used at once (default 1: strict)")
                Integer burst,
                @Option(names = "--name", paramLabel = "NAME",
                        description = "[A-Za-z0-9_-]{1,200}; default batch_<uuid>") String name,
                @Option(names = "--ttl", paramLabel = "TTL", converter = TtlConverter.class,
                        description = "remove the queue after this long idle: 90s, 30m, 1h, 0 = never (default 1h)")
                Long ttlSeconds,
                @Option(names = "--max-attempts", paramLabel = "N", description = "attempts per task (default 3)")
                Integer maxAttempts) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("rateLimit", limit);
        putIfSet(body, "burst", burst);
        putIfSet(body, "name", name);
        putIfSet(body, "ttlSeconds", ttlSeconds);
        putIfSet(body, "maxAttempts", maxAttempts);
        JsonNode queue = root.api().post("/queues", body);
        if (root.json) {
            root.printJson(queue);
        } else {
            root.out().println("created " + queue.path("name").asText());
            root.out().print(details(queue));
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List queues with their figures, the busiest first (most tasks waiting), then by name.")
    void list(@Option(names = "--limit", paramLabel = "N", defaultValue = "50",
                      description = "show at most N queues (1 to 1000, default ${DEFAULT-VALUE}); a line counts the rest")
              int limit,
              @Option(names = "--all", description = "every queue, page by page") boolean all,
              @Option(names = "--sort", paramLabel = "ORDER", defaultValue = "backlog",
                      description = "backlog (the most waiting first) or name (default ${DEFAULT-VALUE})") String sort,
              @Option(names = "--state", paramLabel = "STATE", description = "only active or only inactive (paused) queues")
              String state,
              @Option(names = "--prefix", paramLabel = "TEXT", description = "only queues whose name starts with TEXT")
              String prefix,
              @Option(names = "--backlog", description = "only queues with tasks waiting") boolean backlog) {
        StringBuilder path = new StringBuilder("/queues?sort=").append(encode(sort))
                .append("&limit=").append(all ? QUEUES_PER_PAGE : limit);
        if (state != null) {
            path.append("&state=").append(encode(state));
        }
        if (prefix != null) {
            path.append("&prefix=").append(encode(prefix));
        }
        if (backlog) {
            path.append("&backlog=true");
        }
        AdminClient.Page page = root.api().page(path.toString());
        com.fasterxml.jackson.databind.node.ArrayNode queues = AdminClient.JSON.createArrayNode();
        queues.addAll((com.fasterxml.jackson.databind.node.ArrayNode) page.items());
        while (all && page.next() != null) {
            page = root.api().page(page.next());
            queues.addAll((com.fasterxml.jackson.databind.node.ArrayNode) page.items());
        }
        long rest = Math.max(0, page.total() - queues.size());
        if (root.json) {
            root.printJson(queues);
        } else if (queues.isEmpty()) {
            root.out().println(state == null && prefix == null && !backlog
                    ? "no queues; create one with: sluice queues create \"5/60s\"" : "no queues match");
        } else {
            root.out().print(table(queues, Instant.now()));
            if (rest > 0) {
                root.out().println("… and " + rest + " more (--limit N to see more, --all for every one)");
            }
        }
    }

    /** Queues per request of {@code list --all}. */
    private static final int QUEUES_PER_PAGE = 1_000;

    private static String encode(String value) {
        return java.net.URLEncoder.encode(value, java.nio.charset.StandardCharsets.UTF_8);
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one queue: limit, state, figures, bucket.")
    void show(@Parameters(paramLabel = "QUEUE") String queue) {
        JsonNode shown = root.api().get(AdminClient.path(queue));
        if (root.json) {
            root.printJson(shown);
        } else {
            root.out().print(details(shown));
        }
    }

    @Command(name = "update", mixinStandardHelpOptions = true,
            description = "Change a queue's limit, burst, TTL or attempts; the next token uses them.")
    void update(@Parameters(paramLabel = "QUEUE") String queue,
                @Parameters(paramLabel = "LIMIT", arity = "0..1", description = "the new limit, e.g. 20/60s") String limit,
                @Option(names = "--burst", paramLabel = "B") Integer burst,
                @Option(names = "--ttl", paramLabel = "TTL", converter = TtlConverter.class) Long ttlSeconds,
                @Option(names = "--max-attempts", paramLabel = "N") Integer maxAttempts) {
        Map<String, Object> body = new LinkedHashMap<>();
        putIfSet(body, "rateLimit", limit);
        putIfSet(body, "burst", burst);
        putIfSet(body, "ttlSeconds", ttlSeconds);
        putIfSet(body, "maxAttempts", maxAttempts);
        if (body.isEmpty()) {
            throw new IllegalArgumentException("nothing to update: give a LIMIT, --burst, --ttl or --max-attempts");
        }
        JsonNode updated = root.api().patch(AdminClient.path(queue), body);
        if (root.json) {
            root.printJson(updated);
        } else {
            root.out().println("updated " + queue);
            root.out().print(details(updated));
        }
    }

    @Command(name = "deactivate", mixinStandardHelpOptions = true,
            description = "Pause a queue: nothing more is released, its tasks wait in Kafka.")
    void deactivate(@Parameters(paramLabel = "QUEUE") String queue) {
        state(queue, "deactivate");
    }

    @Command(name = "activate", mixinStandardHelpOptions = true, description = "Resume a paused queue.")
    void activate(@Parameters(paramLabel = "QUEUE") String queue) {
        state(queue, "activate");
    }

    private void state(String queue, String action) {
        JsonNode changed = root.api().post(AdminClient.path(queue) + "/" + action, Map.of());
        if (root.json) {
            root.printJson(changed);
        } else {
            root.out().println(queue + " is " + changed.path("state").asText());
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = "Remove a queue: its topic (with any tasks still waiting) and its keys are deleted.")
    void remove(@Parameters(paramLabel = "QUEUE") String queue) {
        root.api().delete(AdminClient.path(queue));
        if (root.json) {
            root.printJson(AdminClient.JSON.createObjectNode().put("removed", queue));
        } else {
            root.out().println("removed " + queue);
        }
    }

    @Command(name = "test", mixinStandardHelpOptions = true, description = "Submit COUNT test tasks to a queue.")
    void test(@Parameters(paramLabel = "QUEUE") String queue,
              @Parameters(paramLabel = "COUNT", description = "1 to 100000") int count) {
        JsonNode submitted = root.api().post(AdminClient.path(queue) + "/tasks", Map.of("count", count));
        if (root.json) {
            root.printJson(submitted);
        } else {
            root.out().println("submitted " + submitted.path("submitted").asInt() + " test tasks to " + queue);
        }
    }

    /** Exit codes of {@code wait} beyond the usual ones. */
    static final int SOME_DEAD = 3;
    static final int TIMED_OUT = 4;

    @Command(name = "wait", mixinStandardHelpOptions = true,
            description = {"Wait until nothing of a queue waits, runs or waits out a retry, then print its summary:"
                    + " tasks, completed, failed, dead, first and last release, and the busiest window against the limit.",
                "Exit codes: 0 every task completed, 3 some ended dead (sluice dead list shows them),"
                    + " 4 --timeout passed first."})
    int await(@Parameters(paramLabel = "QUEUE") String queue,
              @Option(names = "--timeout", paramLabel = "DURATION", converter = TtlConverter.class,
                      description = "give up after this long: 90s, 30m, 2h (default: wait as long as it takes)")
              Long timeoutSeconds,
              @Option(names = "--interval", paramLabel = "SECONDS", defaultValue = "1",
                      description = "how often to look (default ${DEFAULT-VALUE} s)") double interval)
            throws InterruptedException {
        if (!(interval >= 0.1)) {
            throw new IllegalArgumentException("--interval must be at least 0.1 seconds, got " + interval);
        }
        long deadline = timeoutSeconds == null || timeoutSeconds == 0 ? Long.MAX_VALUE
                : System.nanoTime() + timeoutSeconds * 1_000_000_000L;
        JsonNode summary = null;
        JsonNode doneBefore = null;
        while (true) {
            try {
                summary = root.api().get(AdminClient.path(queue) + "/summary");
                // done twice in a row with the same figures: the statistics count a release a moment after
                // the gate made it, and in that moment a queue whose last task just went out looks done
                if (summary.path("done").asBoolean() && AdminClient.sameFigures(summary, doneBefore)) {
                    break;
                }
                doneBefore = summary.path("done").asBoolean() ? summary : null;
            } catch (AdminClient.UnreachableException | AdminClient.ApiException away) {
                if (away instanceof AdminClient.ApiException api && api.status() < 500) {
                    throw api; // an unknown queue, say: waiting will not help
                }
                // the admin service restarting, or Redis away: look again, as the monitor does
            }
            if (System.nanoTime() >= deadline) {
                break;
            }
            Thread.sleep(Math.round(interval * 1000));
        }
        if (summary == null) {
            throw new AdminClient.UnreachableException("the admin service did not answer before the timeout", null);
        }
        boolean done = summary.path("done").asBoolean();
        if (root.json) {
            root.printJson(summary);
        } else {
            root.out().print(summary(summary));
            if (!done) {
                root.out().println("not done after " + timeoutSeconds + " s");
            }
        }
        if (!done) {
            return TIMED_OUT;
        }
        return summary.path("deadNow").asLong() > 0 ? SOME_DEAD : 0;
    }

    /** What {@code wait} prints. */
    static String summary(JsonNode summary) {
        StringBuilder text = new StringBuilder();
        text.append(String.format("queue        %s  (%s, burst %d)%n", summary.path("queue").asText(),
                summary.path("rateLimit").asText(), summary.path("burst").asInt()));
        text.append(String.format("done         %s%n", summary.path("done").asBoolean() ? "yes"
                : "no: " + Text.number(summary.path("waiting")) + " waiting, " + summary.path("processing").asLong() + " running"));
        text.append(String.format("tasks        %d   completed %d   dead %d   (attempts failed %d, retried %d; sent back"
                        + " through the limit %d)%n", summary.path("tasks").asLong(), summary.path("completed").asLong(),
                summary.path("deadNow").asLong(), summary.path("failed").asLong(), summary.path("retried").asLong(),
                summary.path("requeued").asLong()));
        JsonNode first = summary.path("firstReleaseAt");
        if (first.isTextual()) {
            text.append(String.format("released     %d, from %s to %s (%s)%n", summary.path("released").asLong(),
                    first.asText(), summary.path("lastReleaseAt").asText(),
                    Text.span(java.time.Duration.ofSeconds(summary.path("durationSeconds").asLong()))));
        } else {
            text.append("released     none yet\n");
        }
        JsonNode window = summary.path("window");
        if (window.isObject()) {
            text.append(String.format("busiest      %d in %d s; the limit allows %d (windows over the last %d s)%n",
                    window.path("most").asLong(), window.path("seconds").asLong(), window.path("allowed").asLong(),
                    window.path("overSeconds").asLong()));
        }
        if (summary.path("deadNow").asLong() > 0) {
            text.append("dead letters: sluice dead list ").append(summary.path("queue").asText()).append('\n');
        }
        return text.toString();
    }

    private static void putIfSet(Map<String, Object> body, String key, Object value) {
        if (value != null) {
            body.put(key, value);
        }
    }

    /** The queue table of {@code list} and {@code monitor}. */
    static String table(JsonNode queues, Instant now) {
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode q : queues) {
            JsonNode stats = q.path("stats");
            JsonNode status = q.path("rateLimitStatus");
            rows.add(List.of(q.path("name").asText(), q.path("rateLimit").asText(), q.path("state").asText(),
                    Text.number(stats.get("waiting")), Text.number(stats.get("processing")),
                    Text.number(stats.get("completed")), Text.number(stats.get("failed")), Text.number(stats.get("dead")),
                    status.path("tokens").asText() + "/" + status.path("capacity").asText(),
                    Text.nextToken(q, now), Text.drains(q)));
        }
        return Text.table(List.of("QUEUE", "LIMIT", "STATE", "WAITING", "PROCESSING", "COMPLETED", "FAILED", "DEAD",
                "TOKENS", "NEXT TOKEN", "DRAINED"), rows);
    }

    private static String details(JsonNode q) {
        JsonNode stats = q.path("stats");
        JsonNode status = q.path("rateLimitStatus");
        return String.format("""
                        name         %s
                        limit        %s  (burst %s, %.4g tokens/s)
                        state        %s
                        created      %s
                        idle TTL     %s
                        attempts     %s
                        waiting      %s   released %s   processing %s   completed %s   failed %s   dead %s
                        tokens       %s of %s, next %s
                        drained      %s
                        """,
                q.path("name").asText(), q.path("rateLimit").asText(), q.path("burst").asText(),
                status.path("refillPerSecond").asDouble(), q.path("state").asText(), q.path("createdAt").asText(),
                q.path("ttlSeconds").asLong() == 0 ? "never" : Text.span(java.time.Duration.ofSeconds(q.path("ttlSeconds").asLong())),
                q.path("maxAttempts").asText(),
                Text.number(stats.get("waiting")), Text.number(stats.get("released")), Text.number(stats.get("processing")),
                Text.number(stats.get("completed")), Text.number(stats.get("failed")), Text.number(stats.get("dead")),
                status.path("tokens").asText(), status.path("capacity").asText(), Text.nextToken(q, Instant.now()),
                Text.drains(q));
    }

    /** TTLs as people write them: {@code 3600}, {@code 90s}, {@code 30m}, {@code 1h}, {@code 0}. */
    static final class TtlConverter implements ITypeConverter<Long> {
        private static final Pattern TTL = Pattern.compile("([0-9]{1,9})(s|m|h|d)?");

        @Override
        public Long convert(String value) {
            Matcher m = TTL.matcher(value.trim());
            if (!m.matches()) {
                throw new picocli.CommandLine.TypeConversionException(
                        "a TTL is a whole number with an optional unit s, m, h or d (90s, 30m, 1h; 0 = never), not \""
                                + value + "\"");
            }
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2) == null ? "s" : m.group(2)) {
                case "m" -> n * 60;
                case "h" -> n * 3600;
                case "d" -> n * 86_400;
                default -> n;
            };
        }
    }
}
