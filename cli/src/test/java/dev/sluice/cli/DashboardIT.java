package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.embedded.RedisServerProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The dashboard in headless Chromium against a whole stack in this JVM. */
class DashboardIT {

    /**
     * A user's round through the dashboard, by mouse and keyboard in a real browser 1,280 pixels wide:
     * create a queue, submit tasks, change its limit, pause, resume, replay dead letters, remove it; each
     * effect checked through the API. The queue's handler fails each task until it is replayed.
     */
    @Test
    void everyButtonDoesWhatItSaysCheckedThroughTheApi() throws Exception {
        Path chromium = Chromium.locate();
        String queue = "clicks-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        DeadLettersIT.FailsUntilReplayed handler = new DeadLettersIT.FailsUntilReplayed();
        try (Stack stack = Stack.start(new Stack.Options(dev.sluice.embedded.SharedServers.kafkaBootstrapServers(),
                dev.sluice.embedded.SharedServers.redisUri(), RedisServerProcess.freePort(), 0, 0,
                Files.createTempDirectory("sluice-clicks"),
                Map.of(dev.sluice.worker.WorkerConfig.ENV_QUEUE_HANDLERS, queue + "=" + handler.name()),
                java.util.List.of(handler)));
             DevTools browser = DevTools.start(chromium, 1280, 900)) {
            String admin = stack.admin();
            Cli.json(admin, "queues", "create", "50/1s"); // a batch_<uuid> beside it: the longest names
            browser.open(admin + "/");
            browser.waitFor("document.body.dataset.refreshed", java.time.Duration.ofSeconds(20));

            browser.type("#create input[name=rateLimit]", "5/1s");
            browser.type("#create input[name=name]", queue);
            browser.click("#create button[type=submit]");
            awaitApi(admin, queue, q -> q.path("rateLimit").asText().equals("5/1s"));
            String row = "#queues tr[data-queue='" + queue + "'] ";
            browser.waitFor("document.querySelector(\"" + row + "\")", java.time.Duration.ofSeconds(10));
            assertThat(browser.eval("document.documentElement.scrollWidth <= window.innerWidth"
                    + " && [...document.querySelectorAll('section')].every(s => s.scrollWidth <= s.clientWidth)").asBoolean())
                    .as("no horizontal scroll at 1,280 px").isTrue();

            browser.click(row + "button[data-action='test 10']");
            awaitApi(admin, queue, q -> q.path("stats").path("dead").asInt() == 10);

            browser.answerPromptsWith("7/1s");
            browser.click(row + "button[data-action='limit…']");
            awaitApi(admin, queue, q -> q.path("rateLimit").asText().equals("7/1s"));
            // the page shows it (its buttons are made anew for a new limit or state) before the next click
            String shows = "document.querySelector(\"" + row.strip() + "\").dataset.actions === ";
            browser.waitFor(shows + "'active 7/1s'", java.time.Duration.ofSeconds(10));

            browser.click(row + "button[data-action='pause']");
            awaitApi(admin, queue, q -> q.path("state").asText().equals("inactive"));
            browser.waitFor(shows + "'inactive 7/1s'", java.time.Duration.ofSeconds(10));
            browser.click(row + "button[data-action='resume']");
            awaitApi(admin, queue, q -> q.path("state").asText().equals("active"));
            browser.waitFor(shows + "'active 7/1s'", java.time.Duration.ofSeconds(10));

            browser.click(row + "button[data-action='chart']");
            browser.waitFor("document.querySelectorAll('#dead tbody tr[data-offset]').length === 10"
                    + " && document.getElementById('dead-section').dataset.queue === '" + queue + "'", java.time.Duration.ofSeconds(20));
            browser.click("#dead tbody tr[data-offset] button[data-action='replay']");
            awaitApi(admin, queue, q -> q.path("stats").path("completed").asInt() == 1);
            browser.click("#replay-all");
            awaitApi(admin, queue, q -> q.path("stats").path("completed").asInt() == 10);
            browser.waitFor("document.getElementById('batch-summary').dataset.done === 'true'", java.time.Duration.ofSeconds(20));
            assertThat(browser.eval("document.getElementById('batch-summary').textContent").asText())
                    .startsWith("20 tasks: 10 completed, 0 dead; done");
            assertThat(Cli.json(admin, "dead", "list", queue).path("total").asInt()).isZero();

            browser.click(row + "button[data-action='remove']");
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (Cli.run(admin, "queues", "show", queue).exit() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            assertThat(Cli.run(admin, "queues", "show", queue).err()).contains("does not exist");
            assertThat(browser.dialogs).as("the limit's prompt, then the removal's confirmation")
                    .containsExactly("New limit for " + queue + " (e.g. 20/60s):",
                            "Remove " + queue + "? Its topic and any waiting tasks are deleted.");
        }
    }

    /** Waits until the queue, as the API shows it, is as the click should have made it (it may not exist yet). */
    private static void awaitApi(String admin, String queue, java.util.function.Predicate<com.fasterxml.jackson.databind.JsonNode> done)
            throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        Cli.Run shown = Cli.run(admin, "--json", "queues", "show", queue);
        while (!(shown.exit() == 0 && done.test(shown.json())) && System.nanoTime() < deadline) {
            Thread.sleep(200);
            shown = Cli.run(admin, "--json", "queues", "show", queue);
        }
        assertThat(shown.exit() == 0 && done.test(shown.json())).as(shown.out() + shown.err()).isTrue();
    }

    private static boolean settled(com.fasterxml.jackson.databind.JsonNode stats) {
        return stats.path("completed").asInt() >= 6 && stats.path("waiting").asInt(-1) == 0;
    }

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
            // all completed, and nothing shown waiting: the gate commits past the router's last transaction
            // marker a moment after its last release (until then the queue shows 1 waiting; seen in CI)
            while (!settled(Cli.json(admin, "queues", "show", queue).path("stats")) && System.nanoTime() < deadline) {
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
