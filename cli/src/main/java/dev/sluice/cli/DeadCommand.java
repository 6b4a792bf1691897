package dev.sluice.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.client.AdminClient;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code sluice dead …}: a queue's dead letters, listed, replayed into the queue, purged. */
@Command(name = "dead", mixinStandardHelpOptions = true,
        description = "A queue's dead letters (tasks that used up their attempts): list, replay, purge.")
final class DeadCommand implements Runnable {

    @ParentCommand
    SluiceCommand root;

    @Override
    public void run() {
        root.spec.commandLine().getSubcommands().get("dead").usage(root.out());
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List a queue's dead letters, newest first: offset, task id, attempts, when, last error, payload.")
    void list(@Parameters(paramLabel = "QUEUE") String queue,
              @Option(names = "--limit", paramLabel = "N", defaultValue = "20",
                      description = "at most N (1 to 500, default ${DEFAULT-VALUE})") int limit,
              @Option(names = "--before", paramLabel = "OFFSET",
                      description = "those older than OFFSET: the next page") Long before) {
        JsonNode page = root.api().get(AdminClient.path(queue) + "/dead?limit=" + limit
                + (before == null ? "" : "&before=" + before));
        if (root.json) {
            root.printJson(page);
            return;
        }
        JsonNode letters = page.path("deadLetters");
        long total = page.path("total").asLong();
        if (letters.isEmpty()) {
            root.out().println(total == 0 ? "no dead letters in " + queue : "no more dead letters in " + queue);
            return;
        }
        Instant now = Instant.now();
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode letter : letters) {
            rows.add(List.of(letter.path("offset").asText(), letter.path("id").asText(),
                    letter.path("attempts").asText(), ago(letter.path("deadAt").asText(), now),
                    clip(letter.path("error").asText(""), 40), clip(letter.path("payloadPreview").asText(""), 40)));
        }
        root.out().print(Text.table(List.of("OFFSET", "TASK", "ATTEMPTS", "DIED", "LAST ERROR", "PAYLOAD"), rows));
        String more = page.path("next").isNull() || page.path("next").isMissingNode() ? ""
                : "; older ones: sluice dead list " + queue + " --before " + page.path("next").asText();
        root.out().println(letters.size() + " of " + total + " dead letters" + more);
    }

    @Command(name = "replay", mixinStandardHelpOptions = true,
            description = "Send dead letters back into their queue: they pass its limit again, with their attempts"
                    + " counted afresh. Each is replayed at most once, however often asked.")
    void replay(@Parameters(index = "0", paramLabel = "QUEUE") String queue,
                @Parameters(index = "1..*", arity = "0..*", paramLabel = "OFFSET",
                        description = "the dead letters' offsets, as listed") List<Long> offsets,
                @Option(names = "--all", description = "every dead letter of the queue, the oldest first") boolean all) {
        take(queue, offsets, all, "replay", "replayed");
    }

    @Command(name = "purge", mixinStandardHelpOptions = true,
            description = "Take dead letters out of the listing for good (Kafka's retention removes the records).")
    void purge(@Parameters(index = "0", paramLabel = "QUEUE") String queue,
               @Parameters(index = "1..*", arity = "0..*", paramLabel = "OFFSET",
                       description = "the dead letters' offsets, as listed") List<Long> offsets,
               @Option(names = "--all", description = "every dead letter of the queue") boolean all) {
        take(queue, offsets, all, "purge", "purged");
    }

    private void take(String queue, List<Long> offsets, boolean all, String action, String done) {
        List<Long> chosen = offsets == null ? List.of() : offsets;
        if (all == !chosen.isEmpty()) {
            throw new IllegalArgumentException("give the offsets of the dead letters to " + action + ", or --all");
        }
        Map<String, Object> body = new LinkedHashMap<>();
        if (all) {
            body.put("all", true);
        } else {
            body.put("offsets", chosen);
        }
        long count = 0;
        long expired = 0;
        List<JsonNode> answers = new ArrayList<>();
        JsonNode answer;
        do { // all: the service takes at most 10,000 a request
            answer = root.api().post(AdminClient.path(queue) + "/dead/" + action, body);
            answers.add(answer);
            count += answer.path("count").asLong();
            expired += answer.path("expired").size();
        } while (all && answer.path("count").asLong() + answer.path("expired").size() > 0
                && answer.path("remaining").asLong() > 0);
        if (root.json) {
            root.printJson(answers.size() == 1 ? answers.get(0) : AdminClient.JSON.valueToTree(answers));
            return;
        }
        root.out().println(done + " " + count + " dead letter" + (count == 1 ? "" : "s") + " of " + queue
                + (action.equals("replay") && count > 0 ? " (they pass the queue's limit again)" : "")
                + (expired > 0 ? "; " + expired + " no longer in Kafka (its retention removed them)" : ""));
        if (!all && count + expired < chosen.size()) {
            root.out().println((chosen.size() - count - expired)
                    + " of the offsets given were not listed (replayed or purged before, or not this queue's)");
        }
    }

    private static String ago(String instant, Instant now) {
        try {
            return Text.span(Duration.between(Instant.parse(instant), now)) + " ago";
        } catch (java.time.format.DateTimeParseException e) {
            return instant;
        }
    }

    private static String clip(String text, int most) {
        String line = text.replaceAll("\\s+", " ");
        return line.length() <= most ? line : line.substring(0, most - 1) + "…";
    }
}
