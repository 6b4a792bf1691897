package dev.sluice.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A headless Chromium driven over its DevTools protocol, as a user drives a browser: a page opened at a
 * window size, text typed into fields, clicks as mouse presses at an element's place on the screen, and
 * the page's {@code prompt} and {@code confirm} dialogs answered.
 */
final class DevTools implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(20);

    private final Process chromium;
    private final Path profile;
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final Object sending = new Object();
    /** What the next {@code prompt} is answered with. */
    private volatile String promptAnswer = "";
    /** The messages of the dialogs the page opened, in order. */
    final List<String> dialogs = new java.util.concurrent.CopyOnWriteArrayList<>();

    private DevTools(Process chromium, Path profile, WebSocket socket) {
        this.chromium = chromium;
        this.profile = profile;
        this.socket = socket;
    }

    /** Starts Chromium with a page of {@code width} × {@code height} CSS pixels. */
    static DevTools start(Path binary, int width, int height) throws Exception {
        Path profile = Files.createTempDirectory("sluice-devtools");
        Process process = new ProcessBuilder(binary.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--remote-debugging-port=0",
                "--user-data-dir=" + profile, "--window-size=" + width + "," + height, "about:blank")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        BufferedReader stderr = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8));
        Pattern listening = Pattern.compile("DevTools listening on ws://127\\.0\\.0\\.1:(\\d+)/");
        String port = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (String line; port == null && System.nanoTime() < deadline && (line = stderr.readLine()) != null; ) {
            Matcher m = listening.matcher(line);
            if (m.find()) {
                port = m.group(1);
            }
        }
        if (port == null) {
            process.destroyForcibly();
            throw new IllegalStateException("Chromium did not say where its DevTools listen");
        }
        Thread drain = new Thread(() -> stderr.lines().forEach(line -> { })); // keeps its pipe from filling
        drain.setDaemon(true);
        drain.start();
        HttpClient http = HttpClient.newHttpClient();
        JsonNode targets = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list"))
                .build(), HttpResponse.BodyHandlers.ofString()).body());
        String pageSocket = null;
        for (JsonNode target : targets) {
            if (target.path("type").asText().equals("page")) {
                pageSocket = target.path("webSocketDebuggerUrl").asText();
            }
        }
        if (pageSocket == null) {
            process.destroyForcibly();
            throw new IllegalStateException("Chromium has no page: " + targets);
        }
        DevTools[] self = new DevTools[1];
        WebSocket socket = http.newWebSocketBuilder().buildAsync(URI.create(pageSocket), new WebSocket.Listener() {
            private final StringBuilder message = new StringBuilder();

            @Override
            public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                message.append(data);
                if (last) {
                    String text = message.toString();
                    message.setLength(0);
                    while (self[0] == null) {
                        Thread.onSpinWait();
                    }
                    self[0].received(text);
                }
                webSocket.request(1);
                return null;
            }
        }).get(30, TimeUnit.SECONDS);
        DevTools devTools = new DevTools(process, profile, socket);
        self[0] = devTools;
        devTools.call("Page.enable", Map.of());
        devTools.call("Emulation.setDeviceMetricsOverride", Map.of("width", width, "height", height,
                "deviceScaleFactor", 1, "mobile", false));
        return devTools;
    }

    private void received(String text) {
        try {
            JsonNode message = JSON.readTree(text);
            if (message.has("id")) {
                CompletableFuture<JsonNode> waiting = pending.remove(message.path("id").asInt());
                if (waiting != null) {
                    waiting.complete(message);
                }
            } else if (message.path("method").asText().equals("Page.javascriptDialogOpening")) {
                dialogs.add(message.path("params").path("message").asText());
                // answered at once, without waiting for the reply: the click that opened it waits for this
                send(JSON.createObjectNode().put("id", ids.incrementAndGet()).put("method", "Page.handleJavaScriptDialog")
                        .set("params", JSON.valueToTree(Map.of("accept", true, "promptText", promptAnswer))));
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private void send(JsonNode message) {
        synchronized (sending) { // one frame at a time: the socket refuses a send while another is under way
            socket.sendText(message.toString(), true).join();
        }
    }

    /** Calls a DevTools method; its result. */
    JsonNode call(String method, Map<String, ?> params) throws Exception {
        int id = ids.incrementAndGet();
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        pending.put(id, answer);
        ObjectNode message = JSON.createObjectNode().put("id", id).put("method", method);
        message.set("params", JSON.valueToTree(params));
        send(message);
        JsonNode reply = answer.get(CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        if (reply.has("error")) {
            throw new IllegalStateException(method + " failed: " + reply.path("error"));
        }
        return reply.path("result");
    }

    /** Opens the page and waits until it has loaded. */
    void open(String url) throws Exception {
        call("Page.navigate", Map.of("url", url));
        waitFor("document.readyState === 'complete'", Duration.ofSeconds(20));
    }

    /** The value of a script run in the page (a promise is awaited). */
    JsonNode eval(String script) throws Exception {
        JsonNode result = call("Runtime.evaluate", Map.of("expression", script, "returnByValue", true,
                "awaitPromise", true));
        if (result.has("exceptionDetails")) {
            throw new IllegalStateException("the page's script failed: " + result.path("exceptionDetails"));
        }
        return result.path("result").path("value");
    }

    /** Waits until the script is true in the page. */
    void waitFor(String script, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!eval("Boolean(" + script + ")").asBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + timeout + ": " + script);
            }
            Thread.sleep(100);
        }
    }

    /** A mouse click on the middle of the element, scrolled into view first. */
    void click(String selector) throws Exception {
        waitFor("document.querySelector(" + JSON.writeValueAsString(selector) + ")", Duration.ofSeconds(10));
        JsonNode at = eval("(() => { const e = document.querySelector(" + JSON.writeValueAsString(selector) + ");"
                + " e.scrollIntoView({block: 'center', inline: 'center'}); const r = e.getBoundingClientRect();"
                + " return [r.x + r.width / 2, r.y + r.height / 2]; })()");
        double x = at.get(0).asDouble();
        double y = at.get(1).asDouble();
        call("Input.dispatchMouseEvent", Map.of("type", "mouseMoved", "x", x, "y", y));
        call("Input.dispatchMouseEvent", Map.of("type", "mousePressed", "x", x, "y", y, "button", "left", "clickCount", 1));
        call("Input.dispatchMouseEvent", Map.of("type", "mouseReleased", "x", x, "y", y, "button", "left", "clickCount", 1));
    }

    /** Clicks into the field and types the text. */
    void type(String selector, String text) throws Exception {
        click(selector);
        call("Input.insertText", Map.of("text", text));
    }

    /** What the page's next {@code prompt} is answered with (a {@code confirm} is always accepted). */
    void answerPromptsWith(String text) {
        promptAnswer = text;
    }

    @Override
    public void close() throws IOException {
        socket.abort();
        chromium.destroyForcibly();
        try {
            chromium.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try (var files = Files.walk(profile)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        }
    }
}
