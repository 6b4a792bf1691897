package dev.sluice.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code sluice rejected}: the newest submissions the router refused, with the reason. */
@Command(name = "rejected", mixinStandardHelpOptions = true,
        description = "The newest submissions the router refused (unknown queue, malformed, too large), with the reason.")
final class RejectedCommand implements Runnable {

    @ParentCommand
    SluiceCommand root;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "20", description = "at most N (1 to 500, default ${DEFAULT-VALUE})")
    int limit;

    @Override
    public void run() {
        JsonNode rejected = root.api().get("/rejected?limit=" + limit);
        if (root.json) {
            root.printJson(rejected);
            return;
        }
        if (rejected.isEmpty()) {
            root.out().println("no rejected submissions");
            return;
        }
        Instant now = Instant.now();
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode each : rejected) {
            String at = each.path("at").asText();
            String when;
            try {
                when = Text.span(Duration.between(Instant.parse(at), now)) + " ago";
            } catch (java.time.format.DateTimeParseException e) {
                when = at;
            }
            rows.add(List.of(when, each.path("queue").asText("-"), each.path("reason").asText(""),
                    clip(each.path("payloadPreview").asText(""))));
        }
        root.out().print(Text.table(List.of("WHEN", "QUEUE", "REASON", "PAYLOAD"), rows));
    }

    private static String clip(String text) {
        String line = text.replaceAll("\\s+", " ");
        return line.length() <= 40 ? line : line.substring(0, 39) + "…";
    }
}
