package dev.sluice.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Plain-text rendering: aligned tables, durations a person reads at a glance. */
final class Text {

    private Text() {
    }

    /** Columns padded to their widest cell, two spaces apart; numbers are right-aligned. */
    static String table(List<String> headers, List<List<String>> rows) {
        int[] widths = new int[headers.size()];
        boolean[] numeric = new boolean[headers.size()];
        for (int c = 0; c < headers.size(); c++) {
            widths[c] = headers.get(c).length();
            numeric[c] = !rows.isEmpty();
        }
        for (List<String> row : rows) {
            for (int c = 0; c < row.size(); c++) {
                widths[c] = Math.max(widths[c], row.get(c).length());
                numeric[c] &= row.get(c).matches("-?[0-9]+|-");
            }
        }
        StringBuilder text = new StringBuilder();
        List<List<String>> lines = new ArrayList<>();
        lines.add(headers);
        lines.addAll(rows);
        for (List<String> line : lines) {
            StringBuilder row = new StringBuilder();
            for (int c = 0; c < line.size(); c++) {
                String cell = line.get(c);
                String pad = " ".repeat(widths[c] - cell.length());
                row.append(numeric[c] ? pad + cell : cell + (c == line.size() - 1 ? "" : pad));
                if (c < line.size() - 1) {
                    row.append("  ");
                }
            }
            text.append(row.toString().stripTrailing()).append('\n');
        }
        return text.toString();
    }

    /** "now", "in 1.5s", "in 3m 20s", "in 2h 05m", "in 3d 4h". */
    static String in(Duration duration) {
        if (duration.isNegative() || duration.toMillis() < 50) {
            return "now";
        }
        return "in " + span(duration);
    }

    static String span(Duration duration) {
        long seconds = duration.toSeconds();
        if (seconds < 10) {
            return String.format("%.1fs", duration.toMillis() / 1000.0);
        }
        if (seconds < 60) {
            return seconds + "s";
        }
        if (seconds < 3600) {
            return String.format("%dm %02ds", seconds / 60, seconds % 60);
        }
        if (seconds < 86_400) {
            return String.format("%dh %02dm", seconds / 3600, seconds % 3600 / 60);
        }
        return String.format("%dd %dh", seconds / 86_400, seconds % 86_400 / 3600);
    }

    /** A JSON number as text, "-" when missing or null. */
    static String number(JsonNode node) {
        return node == null || node.isNull() || node.isMissingNode() ? "-" : node.asText();
    }

    /** When the next token comes, relative to now. */
    static String nextToken(JsonNode queue, Instant now) {
        JsonNode status = queue.path("rateLimitStatus");
        if (status.path("tokens").asLong() > 0) {
            return "now";
        }
        String at = status.path("nextTokenAt").asText(null);
        return at == null ? "-" : in(Duration.between(now, Instant.parse(at)));
    }

    /** When the backlog is gone: "empty", "paused", "in 2h 05m". */
    static String drains(JsonNode queue) {
        JsonNode stats = queue.path("stats");
        if (stats.path("waiting").isNull() || stats.path("waiting").isMissingNode()) {
            return "-";
        }
        if (stats.path("waiting").asLong() == 0) {
            return "empty";
        }
        JsonNode seconds = queue.path("drainSeconds");
        if (seconds.isMissingNode() || seconds.isNull()) {
            return "paused";
        }
        return in(Duration.ofMillis(Math.round(seconds.asDouble() * 1000)));
    }
}
