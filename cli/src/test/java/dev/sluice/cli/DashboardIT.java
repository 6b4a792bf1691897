package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.embedded.RedisServerProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The dashboard in headless Chromium against a whole stack in this JVM. */
class DashboardIT {

    @Test
    void theDashboardShowsTheQueuesAndChartsTheirReleases() throws Exception {
        Path chromium = Chromium.locate();
        Path data = Files.createTempDirectory("sluice-dashboard");
        try (Stack stack = Stack.start(new Stack.Options(null, null, RedisServerProcess.freePort(),
                RedisServerProcess.freePort(), RedisServerProcess.freePort(), data, Map.of()))) {
            String admin = stack.admin();
            // a slow limit: 2 per 4 s is one release every 2 s, 1 in many a second, never 3 in 4 s
            String queue = Cli.json(admin, "queues", "create", "2/4s").path("name").asText();
            Cli.json(admin, "queues", "test", queue, "6");
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (Cli.json(admin, "queues", "show", queue).path("stats").path("completed").asInt() < 6
                    && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }

            // every release is charted, a task's second one too if it missed its start slot (ADR 0005)
            int releases = 6 + Cli.json(admin, "queues", "show", queue).path("stats").path("requeued").asInt();

            String dom = Chromium.dumpDom(chromium, admin + "/#queue=" + queue, 5_000);

            assertThat(dom).contains("<tr data-queue=\"" + queue + "\"")
                    .containsPattern("data-queue=\"" + queue + "\".*?<td class=\"state-active\">active</td><td>2/4s</td>"
                            + "<td class=\"n\" data-field=\"waiting\">0</td>")
                    .containsPattern("data-field=\"completed\">6</td>")
                    .contains("<span data-field=\"redis\" class=\"up\">redis up")
                    .containsPattern("<canvas id=\"chart\" width=\"900\" height=\"220\" data-total=\"" + releases
                            + "\" data-peak=\"[12]\" data-window=\"4\">")
                    // counted in windows of the period, against 2: per second it drew bars of 1 over a line of 0.5/s
                    .containsPattern("Last 60 s: " + releases + " released, at most [12] in any 4 s; limit 2/4s"
                            + " \\(at most 2 in any 4 s\\)")
                    // the listing is a page: it says how many queues there are
                    .contains("<span id=\"shown\" role=\"status\">1 queue</span>");
        }
    }
}
