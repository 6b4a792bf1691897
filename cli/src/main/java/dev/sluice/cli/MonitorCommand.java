package dev.sluice.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.client.AdminClient;
import java.io.PrintWriter;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code sluice monitor}: the overview and the busiest queues, refreshed every few seconds until Ctrl-C, as
 * the original monitor.py. While the admin service does not answer it says so and keeps trying.
 */
@Command(name = "monitor", mixinStandardHelpOptions = true,
        description = "Watch the busiest queues live: limit, state, backlog, processing, tokens, next token, drain forecast.")
final class MonitorCommand implements Callable<Integer> {

    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneId.systemDefault());

    @ParentCommand
    SluiceCommand root;

    @Option(names = "--once", description = "print one refresh and exit")
    boolean once;

    @Option(names = "--interval", paramLabel = "SECONDS", defaultValue = "2",
            description = "seconds between refreshes (default ${DEFAULT-VALUE})")
    double interval;

    @Parameters(arity = "0..1", paramLabel = "SECONDS",
            description = "the same as --interval, as the original monitor.py took it (sluice monitor 5)")
    Double positionalInterval;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "20",
            description = "show the N busiest queues (the most tasks waiting; default ${DEFAULT-VALUE}); a line counts the rest")
    int limit;

    @Option(names = "--count", paramLabel = "N", hidden = true, description = "stop after N refreshes (tests)")
    int count;

    @Override
    public Integer call() throws InterruptedException {
        if (positionalInterval != null) {
            interval = positionalInterval;
        }
        if (limit < 1 || limit > 1000) {
            throw new IllegalArgumentException("--limit must be from 1 to 1000, got " + limit);
        }
        if (!(interval >= 0.1)) {
            throw new IllegalArgumentException("--interval must be at least 0.1 seconds, got " + interval);
        }
        AdminClient api = root.api();
        PrintWriter out = root.out();
        boolean terminal = System.console() != null && !root.json;
        for (int frame = 1; ; frame++) {
            if (once) {
                print(out, api, false);
                return 0;
            }
            try {
                if (terminal) {
                    out.print("\033[H\033[2J");
                }
                print(out, api, terminal);
            } catch (AdminClient.UnreachableException | AdminClient.ApiException e) {
                out.println(CLOCK.format(Instant.now()) + "  " + e.getMessage() + "; trying again");
            }
            out.flush();
            if (count > 0 && frame >= count) {
                return 0;
            }
            Thread.sleep(Math.round(interval * 1000));
        }
    }

    private void print(PrintWriter out, AdminClient api, boolean terminal) {
        JsonNode overview = api.get("/overview");
        AdminClient.Page page = api.page("/queues?sort=backlog&limit=" + limit);
        JsonNode queues = page.items();
        if (root.json) {
            ObjectNode frame = AdminClient.JSON.createObjectNode();
            frame.put("at", Instant.now().toString());
            frame.set("overview", overview);
            frame.set("queues", queues);
            out.println(frame.toString());
            return;
        }
        Instant now = Instant.now();
        out.println("Sluice at " + api.base() + "  " + CLOCK.format(now)
                + (once ? "" : "  (every " + interval + " s" + (terminal ? ", Ctrl-C to stop)" : ")")));
        out.println("queues " + overview.path("queues").asInt() + " (" + overview.path("activeQueues").asInt()
                + " active)   redis " + overview.path("redis").asText() + "   kafka " + overview.path("kafka").asText());
        JsonNode totals = overview.path("totals");
        out.println("totals   released " + totals.path("released").asLong() + "   completed "
                + totals.path("completed").asLong() + "   failed " + totals.path("failed").asLong()
                + "   dead " + totals.path("dead").asLong());
        out.println();
        if (queues.isEmpty()) {
            out.println("no queues; create one with: sluice queues create \"5/60s\"");
        } else {
            out.print(QueuesCommand.table(queues, now));
            if (page.total() > queues.size()) {
                out.println("… and " + (page.total() - queues.size()) + " more queues (--limit N to see more)");
            }
        }
        out.println();
    }
}
