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
            String queue = Cli.json(admin, "queues", "create", "5/1s").path("name").asText();
            Cli.json(admin, "queues", "test", queue, "10");
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (Cli.json(admin, "queues", "show", queue).path("stats").path("completed").asInt() < 10
                    && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }

            // every release is charted, a task's second one too if it missed its start slot (ADR 0005)
            int releases = 10 + Cli.json(admin, "queues", "show", queue).path("stats").path("requeued").asInt();

            String dom = Chromium.dumpDom(chromium, admin + "/#queue=" + queue, 5_000);

            assertThat(dom).contains("<tr data-queue=\"" + queue + "\"")
                    .containsPattern("data-queue=\"" + queue + "\".*?<td class=\"state-active\">active</td><td>5/1s</td>"
                            + "<td class=\"n\" data-field=\"waiting\">0</td>")
                    .containsPattern("data-field=\"completed\">10</td>")
                    .contains("<span data-field=\"redis\" class=\"up\">redis up")
                    .containsPattern("<canvas id=\"chart\" width=\"900\" height=\"220\" data-total=\"" + releases
                            + "\" data-peak=\"[1-5]\">")
                    .contains("Last 60 s: " + releases + " released", "limit 5/1s")
                    // the listing is a page: it says how many queues there are
                    .contains("<span id=\"shown\" role=\"status\">1 queue</span>");
        }
    }
}
