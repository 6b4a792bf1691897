package dev.sluice.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The admin service's HTTP API as the command line uses it: JSON in, JSON out, errors as exceptions
 * that carry the server's problem detail.
 */
final class AdminApi {

    /** The server answered with an error status; {@code detail} is its problem detail. */
    static final class ApiException extends RuntimeException {
        private final int status;

        ApiException(int status, String detail) {
            super(detail);
            this.status = status;
        }

        int status() {
            return status;
        }
    }

    /** The server did not answer at all. */
    static final class UnreachableException extends RuntimeException {
        UnreachableException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    static final ObjectMapper JSON = new ObjectMapper();

    private final URI base;
    private final String token;
    private final HttpClient http;

    /** @param token the bearer token, or {@code null} to send none */
    AdminApi(URI base, String token) {
        String text = base.toString();
        this.base = URI.create(text.endsWith("/") ? text.substring(0, text.length() - 1) : text);
        this.token = token == null || token.isBlank() ? null : token;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    URI base() {
        return base;
    }

    static String path(String queue) {
        return "/queues/" + URLEncoder.encode(queue, StandardCharsets.UTF_8);
    }

    JsonNode get(String path) {
        return send("GET", path, null);
    }

    /**
     * A page of a listing: its items, how many there are in all ({@code X-Total-Count}), and the path
     * of the next page ({@code Link} rel="next"), or {@code null} on the last.
     */
    record Page(JsonNode items, long total, String next) {
    }

    /** GETs one page of a listing. */
    Page page(String path) {
        HttpResponse<String> response = exchange("GET", path, null);
        JsonNode items = json(response);
        long total = response.headers().firstValueAsLong("X-Total-Count").orElse(items.size());
        String next = response.headers().firstValue("Link")
                .filter(link -> link.startsWith("<") && link.contains(">; rel=\"next\""))
                .map(link -> link.substring(1, link.indexOf('>')))
                .orElse(null);
        return new Page(items, total, next);
    }

    JsonNode post(String path, Object body) {
        return send("POST", path, body);
    }

    JsonNode patch(String path, Object body) {
        return send("PATCH", path, body);
    }

    JsonNode delete(String path) {
        return send("DELETE", path, null);
    }

    private JsonNode send(String method, String path, Object body) {
        return json(exchange(method, path, body));
    }

    /** The body as JSON, or the server's problem detail as an {@link ApiException}. */
    private static JsonNode json(HttpResponse<String> response) {
        JsonNode json = response.body().isBlank() ? NullNode.getInstance() : parse(response.body());
        if (response.statusCode() >= 400) {
            String detail = json.path("detail").asText(null);
            throw new ApiException(response.statusCode(), detail != null ? detail
                    : "the admin service answered " + response.statusCode() + ": " + response.body());
        }
        return json;
    }

    private HttpResponse<String> exchange(String method, String path, Object body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
                .timeout(Duration.ofSeconds(30))
                .header("Accept", "application/json");
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        try {
            if (body == null) {
                request.method(method, HttpRequest.BodyPublishers.noBody());
            } else {
                request.header("Content-Type", "application/json")
                        .method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
            }
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UnreachableException("the admin service at " + base + " does not answer (" + describe(e)
                    + "); start it with ./sluice up, or point --admin / SLUICE_ADMIN_URL at it", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UnreachableException("interrupted while waiting for " + base, e);
        }
    }

    private static String describe(IOException e) {
        if (e instanceof java.net.ConnectException) {
            return "connection refused";
        }
        if (e instanceof java.net.http.HttpTimeoutException) {
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
