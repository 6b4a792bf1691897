package dev.sluice.worker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.sluice.worker.api.Task;
import dev.sluice.worker.api.TaskHandler;
import dev.sluice.worker.api.TaskResult;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLSocketFactory;

/**
 * Performs the HTTP request a task describes, which is what most users of a rate-limited queue need:
 * calling an API that has a quota. The payload is JSON:
 * <pre>{"method":"POST","url":"https://api.example.com/v1/send","headers":{"Authorization":"…"},"body":{…}}</pre>
 * ({@code method} defaults to GET; {@code body} may be a string, sent as is, or JSON, sent as JSON).
 *
 * <p>2xx succeeds. 429 and 5xx are retried, no sooner than the response's {@code Retry-After}
 * (seconds or an HTTP date) when it has one. Any other status fails for good, as does a payload that
 * is not such a request. A connection error or a request timeout is retried. The timeouts fit inside
 * the worker's handler timeout ({@code SLUICE_WORKER_TIMEOUT_MS}, 30 s): a sixth of it to connect (at
 * most 5 s), the rest but a tenth (at most 1 s) to read, so that a slow server fails the call before
 * the worker gives up on its thread (5 s and 24 s by default).
 *
 * <p>The request is written on the calling thread ({@link HttpURLConnection}, connections kept alive):
 * the limit is kept at the handler's start, and what happens between the start and the call's arrival
 * counts against the guard (ADR 0005). Measured here at 200 calls a second, 8 threads, loopback: a call
 * took 0.39 ms to arrive at p50 and 0.58 ms at p99 this way, against 0.44 and 4.0 ms through
 * {@code java.net.http.HttpClient}, whose I/O goes through a selector thread (two calls 5 ms apart
 * arrived 1.7 ms apart at p1, against 4.7 ms). PATCH, which {@code HttpURLConnection} does not know,
 * goes through {@code java.net.http}.
 *
 * <p>Calls go to public addresses only unless {@code SLUICE_HTTP_ALLOWED_HOSTS} allows more
 * ({@link OutboundPolicy}): a task cannot make the worker call the admin service on loopback, a cloud
 * metadata service or a private network. Every address a name resolves to is checked before the call,
 * and the connection goes to the address the JVM resolved then (it keeps the answer 30 s); for https
 * the connected socket's own address is checked again before a byte is sent. Redirects are followed by
 * hand, at most {@value #MAX_REDIRECTS}, each one checked the same way ({@code Authorization} and
 * {@code Cookie} are dropped when the host changes; 303, and 301/302 after a POST, become a GET). At most
 * {@code SLUICE_HTTP_MAX_RESPONSE_BYTES} (1 MiB) of a response are read; the rest is cut off with the
 * connection. A refused call fails the task for good, with the reason.
 */
public final class HttpTaskHandler implements TaskHandler {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final int connectTimeoutMillis;
    private final int readTimeoutMillis;
    private static final int WARM_UP_REQUESTS = 200;
    private static final Set<String> METHODS = Set.of("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS");

    /** What a payload asks for; {@code body} is null for none. */
    record Call(String method, URI uri, Map<String, String> headers, byte[] body) {
    }

    static final String ENV_MAX_RESPONSE_BYTES = "SLUICE_HTTP_MAX_RESPONSE_BYTES";
    static final int MAX_REDIRECTS = 5;
    private static final int DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

    private final HttpClient patchClient;
    private final OutboundPolicy policy;
    private final int maxResponseBytes;
    private final SSLSocketFactory checkedTls;

    /**
     * Configured by the environment: timeouts that fit the worker's handler timeout
     * ({@code SLUICE_WORKER_TIMEOUT_MS}), {@code SLUICE_HTTP_ALLOWED_HOSTS}, {@code SLUICE_HTTP_MAX_RESPONSE_BYTES}.
     */
    public HttpTaskHandler() {
        this(System.getenv());
    }

    private HttpTaskHandler(Map<String, String> env) {
        this(Duration.ofMillis(dev.sluice.core.Env.integer(env, WorkerConfig.ENV_TIMEOUT_MS,
                        (int) WorkerConfig.of(dev.sluice.core.SluiceConfig.defaults()).handlerTimeout().toMillis())),
                OutboundPolicy.fromEnvironment(env),
                dev.sluice.core.Env.integer(env, ENV_MAX_RESPONSE_BYTES, DEFAULT_MAX_RESPONSE_BYTES));
    }

    /** With timeouts that fit inside {@code handlerTimeout}, the environment's outbound policy and response cap. */
    public HttpTaskHandler(Duration handlerTimeout) {
        this(handlerTimeout, OutboundPolicy.fromEnvironment(System.getenv()),
                dev.sluice.core.Env.integer(System.getenv(), ENV_MAX_RESPONSE_BYTES, DEFAULT_MAX_RESPONSE_BYTES));
    }

    /** With timeouts that fit inside {@code handlerTimeout}, calling where {@code allowedHosts} allows. */
    public HttpTaskHandler(Duration handlerTimeout, String allowedHosts, int maxResponseBytes) {
        this(handlerTimeout, OutboundPolicy.parse(allowedHosts), maxResponseBytes);
    }

    HttpTaskHandler(Duration handlerTimeout, OutboundPolicy policy, int maxResponseBytes) {
        if (maxResponseBytes < 0) {
            throw new IllegalArgumentException(ENV_MAX_RESPONSE_BYTES + " must not be negative, got " + maxResponseBytes);
        }
        this.policy = policy;
        this.maxResponseBytes = maxResponseBytes;
        this.checkedTls = new CheckedTlsSocketFactory(HttpsURLConnection.getDefaultSSLSocketFactory(), policy);
        long budget = Math.max(handlerTimeout.toMillis(), 10);
        connectTimeoutMillis = (int) Math.max(1, Math.min(5_000, budget / 6));
        readTimeoutMillis = (int) Math.max(1, budget - connectTimeoutMillis - Math.min(1_000, budget / 10));
        patchClient = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(connectTimeoutMillis))
                .followRedirects(HttpClient.Redirect.NEVER).build();
        // the JDK keeps 5 idle connections per server by default: with more slots calling one API, the
        // others would open a new connection per call, and a connection's setup delays its call
        if (System.getProperty("http.maxConnections") == null) {
            System.setProperty("http.maxConnections", "64");
        }
    }

    @Override
    public String name() {
        return "http";
    }

    @Override
    public TaskResult handle(Task task) throws InterruptedException {
        Call call;
        try {
            call = parse(task.payload());
        } catch (IllegalArgumentException | IOException e) {
            return TaskResult.fail("not an HTTP request: " + e.getMessage());
        }
        long deadline = System.nanoTime() + (connectTimeoutMillis + (long) readTimeoutMillis) * 1_000_000L;
        Answer answer;
        for (int redirects = 0; ; redirects++) {
            try {
                String refused = policy.refusal(call.uri().getHost());
                if (refused != null) {
                    return TaskResult.fail(call.method() + " " + call.uri() + " refused: " + refused);
                }
                answer = exchange(call, deadline);
            } catch (RefusedAddressException e) {
                return TaskResult.fail(call.method() + " " + call.uri() + " refused: " + e.getMessage());
            } catch (IOException e) {
                RefusedAddressException refused = refusedCause(e);
                if (refused != null) {
                    return TaskResult.fail(call.method() + " " + call.uri() + " refused: " + refused.getMessage());
                }
                return TaskResult.retry(call.method() + " " + call.uri() + " failed: " + e);
            }
            if (!isRedirect(answer.status()) || answer.location() == null) {
                break;
            }
            if (redirects == MAX_REDIRECTS) {
                return TaskResult.fail(call.method() + " " + call.uri() + " redirected more than " + MAX_REDIRECTS + " times");
            }
            try {
                call = redirected(call, answer.status(), answer.location());
            } catch (IllegalArgumentException e) {
                return TaskResult.fail(call.method() + " " + call.uri() + " answered " + answer.status()
                        + " with a redirect Sluice does not follow: " + e.getMessage());
            }
        }
        String summary = call.method() + " " + call.uri() + " answered " + answer.status();
        int status = answer.status();
        if (status >= 200 && status < 300) {
            return TaskResult.success();
        }
        if (status == 429 || status >= 500) {
            Optional<Duration> after = answer.retryAfter().flatMap(HttpTaskHandler::retryAfter);
            return after.map(d -> TaskResult.retryAfter(summary, d)).orElseGet(() -> TaskResult.retry(summary));
        }
        return TaskResult.fail(summary);
    }

    /** What a server answered: the status, and the headers the handler acts on. */
    private record Answer(int status, Optional<String> retryAfter, String location) {
    }

    /** One request and its response, its body read up to the cap. */
    private Answer exchange(Call call, long deadline) throws IOException, InterruptedException {
        int left = (int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000L);
        if (call.method().equals("PATCH")) {
            HttpResponse<InputStream> response = patchClient.send(toRequest(call, Math.min(readTimeoutMillis, left)),
                    HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream body = response.body()) {
                body.readNBytes(maxResponseBytes);
            }
            return new Answer(response.statusCode(), response.headers().firstValue("Retry-After"),
                    response.headers().firstValue("Location").orElse(null));
        }
        HttpURLConnection connection = send(call, Math.min(connectTimeoutMillis, left), Math.min(readTimeoutMillis, left));
        int status = connection.getResponseCode();
        Answer answer = new Answer(status, Optional.ofNullable(connection.getHeaderField("Retry-After")),
                connection.getHeaderField("Location"));
        drain(connection, status, maxResponseBytes);
        return answer;
    }

    private static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    /**
     * The call a redirect asks for: the same for 307 and 308, a GET without a body for 303 and for 301/302
     * after anything but GET or HEAD; without credentials when it leaves the host.
     *
     * @throws IllegalArgumentException when the location is not an http(s) URL
     */
    static Call redirected(Call call, int status, String location) {
        URI next;
        try {
            next = call.uri().resolve(location.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("\"" + location + "\" is not a URL");
        }
        if (!"http".equals(next.getScheme()) && !"https".equals(next.getScheme()) || next.getHost() == null) {
            throw new IllegalArgumentException("\"" + location + "\" is not an http(s) URL");
        }
        Map<String, String> headers = new LinkedHashMap<>(call.headers());
        boolean sameHost = next.getHost().equalsIgnoreCase(call.uri().getHost()) && port(next) == port(call.uri())
                && next.getScheme().equals(call.uri().getScheme());
        if (!sameHost) {
            headers.keySet().removeIf(name -> name.equalsIgnoreCase("Authorization") || name.equalsIgnoreCase("Cookie")
                    || name.equalsIgnoreCase("Proxy-Authorization"));
        }
        String method = call.method();
        byte[] body = call.body();
        if (status == 303 || ((status == 301 || status == 302) && !method.equals("GET") && !method.equals("HEAD"))) {
            method = method.equals("HEAD") ? "HEAD" : "GET";
            body = null;
            headers.keySet().removeIf(name -> name.equalsIgnoreCase("Content-Type") || name.equalsIgnoreCase("Content-Length"));
        }
        return new Call(method, next, headers, body);
    }

    private static int port(URI uri) {
        return uri.getPort() != -1 ? uri.getPort() : "https".equals(uri.getScheme()) ? 443 : 80;
    }

    private static RefusedAddressException refusedCause(Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause instanceof RefusedAddressException refused) {
                return refused;
            }
        }
        return null;
    }

    private HttpURLConnection send(Call call) throws IOException {
        return send(call, connectTimeoutMillis, readTimeoutMillis);
    }

    private HttpURLConnection send(Call call, int connectTimeout, int readTimeout) throws IOException {
        HttpURLConnection connection = (HttpURLConnection) call.uri().toURL().openConnection();
        if (connection instanceof HttpsURLConnection tls) {
            tls.setSSLSocketFactory(checkedTls);
        }
        connection.setConnectTimeout(connectTimeout);
        connection.setReadTimeout(readTimeout);
        connection.setInstanceFollowRedirects(false);
        connection.setUseCaches(false);
        connection.setRequestMethod(call.method());
        call.headers().forEach(connection::setRequestProperty);
        if (call.body() != null) {
            connection.setDoOutput(true);
            connection.setFixedLengthStreamingMode(call.body().length);
            try (OutputStream out = connection.getOutputStream()) {
                out.write(call.body());
            }
        }
        return connection;
    }

    /**
     * Reads the response to its end, so that the connection goes back to be kept alive; past
     * {@code cap} bytes it stops and closes the connection instead.
     */
    private static void drain(HttpURLConnection connection, int status, int cap) throws IOException {
        InputStream body = status >= 400 ? connection.getErrorStream() : connection.getInputStream();
        if (body != null) {
            try (body) {
                body.readNBytes(cap);
                if (body.read() != -1) {
                    connection.disconnect();
                }
            }
        }
    }

    /**
     * Sends GETs, POSTs with a JSON body and a PATCH to a server of its own on loopback, then stops it:
     * the classes of a request are loaded and its code compiled before the first task. (Here the first
     * requests of a fresh JVM took 3 to 12 ms to arrive, against 1 to 2 ms once warm.)
     */
    @Override
    public void warmUp() throws IOException, InterruptedException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        server.start();
        try {
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/warm-up";
            String get = "{\"url\":\"" + url + "\"}";
            String post = "{\"method\":\"POST\",\"url\":\"" + url + "\",\"headers\":{\"X-Warm-Up\":\"1\"},\"body\":{\"a\":1}}";
            for (int i = 0; i < WARM_UP_REQUESTS / 2; i++) {
                for (String payload : new String[] {get, post}) {
                    Call call = parse(payload.getBytes(StandardCharsets.UTF_8));
                    HttpURLConnection connection = send(call);
                    drain(connection, connection.getResponseCode(), maxResponseBytes);
                }
            }
            String patch = "{\"method\":\"PATCH\",\"url\":\"" + url + "\",\"body\":{\"a\":1}}";
            patchClient.send(toRequest(parse(patch.getBytes(StandardCharsets.UTF_8)), readTimeoutMillis),
                    HttpResponse.BodyHandlers.ofString());
        } finally {
            server.stop(0);
        }
    }

    /** Reads a payload into the call it describes. */
    static Call parse(byte[] payload) throws IOException {
        JsonNode spec = JSON.readTree(payload);
        if (spec == null || !spec.isObject()) {
            throw new IllegalArgumentException("the payload must be a JSON object with at least \"url\"");
        }
        JsonNode url = spec.get("url");
        if (url == null || !url.isTextual()) {
            throw new IllegalArgumentException("\"url\" is missing");
        }
        URI uri = URI.create(url.asText());
        if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
            throw new IllegalArgumentException("\"url\" must be http:// or https://, got " + url.asText());
        }
        if (uri.getHost() == null) {
            throw new IllegalArgumentException("\"url\" has no host: " + url.asText());
        }
        String method = spec.path("method").asText("GET").toUpperCase(Locale.ROOT);
        if (!METHODS.contains(method)) {
            throw new IllegalArgumentException("unknown method \"" + method + "\"");
        }
        Map<String, String> headers = new LinkedHashMap<>();
        JsonNode given = spec.path("headers");
        for (Iterator<Map.Entry<String, JsonNode>> it = given.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> header = it.next();
            headers.put(header.getKey(), header.getValue().asText());
        }
        JsonNode body = spec.get("body");
        byte[] bytes = null;
        if (body != null && !body.isNull()) {
            if (body.isTextual()) {
                bytes = body.asText().getBytes(StandardCharsets.UTF_8);
            } else {
                bytes = JSON.writeValueAsBytes(body);
                if (headers.keySet().stream().noneMatch(name -> name.equalsIgnoreCase("Content-Type"))) {
                    headers.put("Content-Type", "application/json");
                }
            }
        }
        return new Call(method, uri, headers, bytes);
    }

    private static HttpRequest toRequest(Call call, int timeoutMillis) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(call.uri()).timeout(Duration.ofMillis(timeoutMillis));
        call.headers().forEach(builder::header);
        HttpRequest.BodyPublisher publisher = call.body() == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofByteArray(call.body());
        return builder.method(call.method(), publisher).build();
    }

    /** {@code Retry-After}: delay-seconds or an HTTP date. */
    static Optional<Duration> retryAfter(String value) {
        String text = value.strip();
        try {
            return Optional.of(Duration.ofSeconds(Math.max(0, Long.parseLong(text))));
        } catch (NumberFormatException notSeconds) {
            try {
                ZonedDateTime at = ZonedDateTime.parse(text, DateTimeFormatter.RFC_1123_DATE_TIME);
                Duration until = Duration.between(ZonedDateTime.now(at.getZone()), at);
                return Optional.of(until.isNegative() ? Duration.ZERO : until);
            } catch (DateTimeParseException neither) {
                return Optional.empty();
            }
        }
    }
}
