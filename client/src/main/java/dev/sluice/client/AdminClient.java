package dev.sluice.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.HttpURLConnection;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The admin service's HTTP API in Java, as the {@code sluice} command line uses it: JSON in, JSON out,
 * errors as exceptions that carry the server's problem detail ({@link ApiException}: 4xx is the
 * request's fault, 5xx the service's or what it needs), or say that it did not answer
 * ({@link UnreachableException}). Not thread-safe for {@code PATCH}; one per thread, or synchronise. Requests go through {@link HttpURLConnection}: the
 * {@code java.net.http} client sets up TLS when it is made, even for {@code http://} (330 ms of a
 * 0.9 s {@code queues list} here); it is made only for {@code PATCH}, which the older one cannot send.
 */
public final class AdminClient {

    /** The server answered with an error status; {@code detail} is its problem detail. */
    public static final class ApiException extends RuntimeException {
        private final int status;

        public ApiException(int status, String detail) {
            super(detail);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    /** The server did not answer at all. */
    public static final class UnreachableException extends RuntimeException {
        public UnreachableException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    public static final ObjectMapper JSON = new ObjectMapper();

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(30);

    private final URI base;
    private final String token;
    private HttpClient patchClient;

    /** An answer: its status, body and headers (names as the server sent them). */
    private record Answer(int status, String body, Map<String, List<String>> headers) {
        Optional<String> header(String name) {
            return headers.entrySet().stream()
                    .filter(entry -> entry.getKey() != null && entry.getKey().equalsIgnoreCase(name))
                    .flatMap(entry -> entry.getValue().stream()).findFirst();
        }
    }

    /** @param token the bearer token, or {@code null} to send none */
    public AdminClient(URI base, String token) {
        String text = base.toString();
        this.base = URI.create(text.endsWith("/") ? text.substring(0, text.length() - 1) : text);
        this.token = token == null || token.isBlank() ? null : token;
    }

    public URI base() {
        return base;
    }

    /** The path of a queue, its name encoded. */
    public static String path(String queue) {
        return "/queues/" + URLEncoder.encode(queue, StandardCharsets.UTF_8);
    }

    public JsonNode get(String path) {
        return send("GET", path, null);
    }

    /**
     * A page of a listing: its items, how many there are in all ({@code X-Total-Count}), and the path
     * of the next page ({@code Link} rel="next"), or {@code null} on the last.
     */
    public record Page(JsonNode items, long total, String next) {
    }

    /** GETs one page of a listing. */
    public Page page(String path) {
        Answer response = exchange("GET", path, null);
        JsonNode items = json(response);
        long total = response.header("X-Total-Count").map(Long::parseLong).orElse((long) items.size());
        String next = response.header("Link")
                .filter(link -> link.startsWith("<") && link.contains(">; rel=\"next\""))
                .map(link -> link.substring(1, link.indexOf('>')))
                .orElse(null);
        return new Page(items, total, next);
    }

    public JsonNode post(String path, Object body) {
        return send("POST", path, body);
    }

    public JsonNode patch(String path, Object body) {
        return send("PATCH", path, body);
    }

    public JsonNode delete(String path) {
        return send("DELETE", path, null);
    }

    private JsonNode send(String method, String path, Object body) {
        return json(exchange(method, path, body));
    }

    // ---- the API by name: each returns the service's JSON (see README's table of the admin service)

    /** Creates a queue ({@code "5/60s"}); {@code options} may hold burst, name, ttlSeconds, maxAttempts. */
    public JsonNode createQueue(String rateLimit, Map<String, ?> options) {
        Map<String, Object> body = new java.util.LinkedHashMap<>(options);
        body.put("rateLimit", rateLimit);
        return post("/queues", body);
    }

    /** Every queue, by name, page by page. */
    public List<JsonNode> queues() {
        List<JsonNode> all = new java.util.ArrayList<>();
        Page page = page("/queues?sort=name&limit=1000");
        page.items().forEach(all::add);
        while (page.next() != null) {
            page = page(page.next());
            page.items().forEach(all::add);
        }
        return all;
    }

    /** One queue with its figures and bucket. */
    public JsonNode queue(String name) {
        return get(path(name));
    }

    /** Changes rateLimit, burst, ttlSeconds or maxAttempts. */
    public JsonNode updateQueue(String name, Map<String, ?> changes) {
        return patch(path(name), changes);
    }

    /** Pauses the queue: nothing is released, its tasks wait. */
    public JsonNode pause(String name) {
        return post(path(name) + "/deactivate", Map.of());
    }

    public JsonNode resume(String name) {
        return post(path(name) + "/activate", Map.of());
    }

    /** Removes the queue and its topic. */
    public void removeQueue(String name) {
        delete(path(name));
    }

    /**
     * Submits the payloads (UTF-8 text, at most 1,000 a call); the answer holds their {@code ids} and
     * {@code releaseForecast}. An unknown queue is an {@link ApiException} with status 404, at once.
     */
    public JsonNode submit(String name, List<String> payloads) {
        return post(path(name) + "/tasks", Map.of("tasks", payloads));
    }

    /** Whether the queue's work is done, and how it went. */
    public JsonNode summary(String name) {
        return get(path(name) + "/summary");
    }

    /**
     * Waits until the queue's work is done: {@code summary.done} at two looks in a row with the same
     * figures (the statistics count a release a moment after the gate makes it; in that moment a queue
     * whose last task just went out looks done), looking every {@code every}. Its summary then, or the
     * last one seen when {@code timeout} passed first.
     */
    public JsonNode awaitDone(String name, Duration timeout, Duration every) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode before = null;
        JsonNode summary = summary(name);
        while (!(summary.path("done").asBoolean() && sameFigures(summary, before)) && System.nanoTime() < deadline) {
            before = summary.path("done").asBoolean() ? summary : null;
            Thread.sleep(every.toMillis());
            summary = summary(name);
        }
        return summary;
    }

    /** Whether two summaries have the same totals. */
    public static boolean sameFigures(JsonNode summary, JsonNode before) {
        if (before == null) {
            return false;
        }
        for (String field : List.of("tasks", "released", "completed", "failed", "dead", "requeued")) {
            if (summary.path(field).asLong() != before.path(field).asLong()) {
                return false;
            }
        }
        return true;
    }

    /** A page of the queue's dead letters, newest first, below offset {@code before} (null: the newest). */
    public JsonNode deadLetters(String name, int limit, Long before) {
        return get(path(name) + "/dead?limit=" + limit + (before == null ? "" : "&before=" + before));
    }

    /** Replays the dead letters at these offsets into the queue, each at most once. */
    public JsonNode replay(String name, List<Long> offsets) {
        return post(path(name) + "/dead/replay", Map.of("offsets", offsets));
    }

    /** Replays the oldest 10,000 dead letters of the queue; {@code remaining} says how many are left. */
    public JsonNode replayAll(String name) {
        return post(path(name) + "/dead/replay", Map.of("all", true));
    }

    /** Takes the dead letters at these offsets out of the listing for good. */
    public JsonNode purge(String name, List<Long> offsets) {
        return post(path(name) + "/dead/purge", Map.of("offsets", offsets));
    }

    /** The newest submissions the router refused, with the reason. */
    public JsonNode rejected(int limit) {
        return get("/rejected?limit=" + limit);
    }

    /** The body as JSON, or the server's problem detail as an {@link ApiException}. */
    private static JsonNode json(Answer response) {
        JsonNode json = response.body().isBlank() ? NullNode.getInstance() : parse(response.body());
        if (response.status() >= 400) {
            String detail = json.path("detail").asText(null);
            throw new ApiException(response.status(), detail != null ? detail
                    : "the admin service answered " + response.status() + ": " + response.body());
        }
        return json;
    }

    private Answer exchange(String method, String path, Object body) {
        try {
            byte[] content = body == null ? null : JSON.writeValueAsBytes(body);
            return method.equals("PATCH") ? viaHttpClient(path, content) : viaUrlConnection(method, path, content);
        } catch (IOException e) {
            throw new UnreachableException("the admin service at " + base + " does not answer (" + describe(e)
                    + "); start it with ./sluice up, or point --admin / SLUICE_ADMIN_URL at it", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UnreachableException("interrupted while waiting for " + base, e);
        }
    }

    private Answer viaUrlConnection(String method, String path, byte[] content) throws IOException {
        HttpURLConnection connection = (HttpURLConnection) URI.create(base + path).toURL().openConnection();
        try {
            connection.setConnectTimeout((int) CONNECT_TIMEOUT.toMillis());
            connection.setReadTimeout((int) READ_TIMEOUT.toMillis());
            connection.setRequestMethod(method);
            connection.setRequestProperty("Accept", "application/json");
            if (token != null) {
                connection.setRequestProperty("Authorization", "Bearer " + token);
            }
            if (content != null) {
                connection.setDoOutput(true);
                connection.setRequestProperty("Content-Type", "application/json");
                // not in streaming mode: there a 401 leaves no error body to read (the problem detail)
                try (var out = connection.getOutputStream()) {
                    out.write(content);
                }
            }
            int status = connection.getResponseCode();
            var in = status >= 400 ? connection.getErrorStream() : connection.getInputStream();
            String text = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return new Answer(status, text, connection.getHeaderFields());
        } finally {
            connection.disconnect();
        }
    }

    /** {@code PATCH}, which {@link HttpURLConnection} refuses to send. */
    private Answer viaHttpClient(String path, byte[] content) throws IOException, InterruptedException {
        if (patchClient == null) {
            patchClient = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build();
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).timeout(READ_TIMEOUT)
                .header("Accept", "application/json").header("Content-Type", "application/json")
                .method("PATCH", content == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(content));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> response = patchClient.send(request.build(), HttpResponse.BodyHandlers.ofString());
        return new Answer(response.statusCode(), response.body(), response.headers().map());
    }

    private static String describe(IOException e) {
        if (e instanceof java.net.ConnectException) {
            return "connection refused";
        }
        if (e instanceof java.net.http.HttpTimeoutException || e instanceof java.net.SocketTimeoutException) {
            return "timed out";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    private static JsonNode parse(String body) {
        try {
            return JSON.readTree(body);
        } catch (IOException notJson) {
            return JSON.getNodeFactory().textNode(body);
        }
    }
}
