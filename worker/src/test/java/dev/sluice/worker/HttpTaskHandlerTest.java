package dev.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.sluice.worker.api.Task;
import dev.sluice.worker.api.TaskResult;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The HTTP handler against a real HTTP server on loopback (the JDK's own). */
class HttpTaskHandlerTest {

    private HttpServer server;
    private final List<String> received = new CopyOnWriteArrayList<>();
    /** The server is on loopback, which the handler calls only when allowed to. */
    private final HttpTaskHandler handler = new HttpTaskHandler(Duration.ofSeconds(30), "127.0.0.1", 1024 * 1024);

    @BeforeEach
    void startServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            received.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath() + " "
                    + exchange.getRequestHeaders().getFirst("X-Key") + " "
                    + exchange.getRequestHeaders().getFirst("Content-Type") + " " + body);
            int status = Integer.parseInt(exchange.getRequestURI().getPath().substring(1));
            if (status == 429) {
                exchange.getResponseHeaders().add("Retry-After", "7");
            }
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stopServer() {
        server.stop(0);
    }

    private TaskResult call(String payload) throws InterruptedException {
        return handler.handle(new Task("t", "q", 0, payload.getBytes(StandardCharsets.UTF_8), Map.of(), Instant.now()));
    }

    private String url(int status) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/" + status;
    }

    @Test
    void warmsUpAgainstAServerOfItsOwnAndLeavesNothingBehind() throws Exception {
        handler.warmUp();

        assertThat(received).isEmpty(); // the warm-up calls nobody else
        assertThat(call("{\"url\":\"" + url(200) + "\"}")).isEqualTo(TaskResult.success());
        assertThat(received).hasSize(1);
    }

    @Test
    void twoHundredSucceedsAndSendsMethodHeadersAndJsonBody() throws Exception {
        TaskResult result = call("{\"method\":\"post\",\"url\":\"" + url(200)
                + "\",\"headers\":{\"X-Key\":\"k1\"},\"body\":{\"to\":\"a@b.c\"}}");

        assertThat(result).isInstanceOf(TaskResult.Success.class);
        assertThat(received).containsExactly("POST /200 k1 application/json {\"to\":\"a@b.c\"}");
    }

    @Test
    void patchGoesOutWithItsBodyAndAnErrorsBodyIsReadSoTheConnectionIsKept() throws Exception {
        TaskResult patched = call("{\"method\":\"PATCH\",\"url\":\"" + url(204) + "\",\"body\":\"x=1\"}");
        TaskResult failed = call("{\"method\":\"PUT\",\"url\":\"" + url(409) + "\",\"body\":{\"n\":1}}");
        TaskResult again = call("{\"url\":\"" + url(200) + "\"}");

        assertThat(patched).isInstanceOf(TaskResult.Success.class);
        assertThat(failed).isInstanceOfSatisfying(TaskResult.Failure.class, f -> assertThat(f.retryable()).isFalse());
        assertThat(again).isInstanceOf(TaskResult.Success.class);
        assertThat(received).containsExactly("PATCH /204 null null x=1", "PUT /409 null application/json {\"n\":1}",
                "GET /200 null null ");
    }

    @Test
    void aServerThatDoesNotAnswerFailsTheCallWithinTheWorkersHandlerTimeout() throws Exception {
        server.createContext("/silent", exchange -> {
            try {
                Thread.sleep(3_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.close();
        });
        HttpTaskHandler within = new HttpTaskHandler(Duration.ofMillis(1_200), "127.0.0.1", 1024 * 1024); // as SLUICE_WORKER_TIMEOUT_MS=1200

        long started = System.nanoTime();
        TaskResult result = within.handle(new Task("t", "q", 0, ("{\"url\":\"http://127.0.0.1:"
                + server.getAddress().getPort() + "/silent\"}").getBytes(StandardCharsets.UTF_8), Map.of(), Instant.now()));
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        assertThat(result).isInstanceOfSatisfying(TaskResult.Failure.class, f -> assertThat(f.retryable()).isTrue());
        assertThat(took).isLessThan(Duration.ofMillis(1_200)); // before the worker would time the attempt out
    }

    @Test
    void tooManyRequestsIsRetriedNoSoonerThanRetryAfter() throws Exception {
        TaskResult result = call("{\"url\":\"" + url(429) + "\"}");

        assertThat(result).isInstanceOfSatisfying(TaskResult.Failure.class, failure -> {
            assertThat(failure.retryable()).isTrue();
            assertThat(failure.retryAfterDelay()).contains(Duration.ofSeconds(7));
            assertThat(failure.reason()).contains("answered 429");
        });
    }

    @Test
    void serverErrorIsRetriedWithTheWorkersBackoff() throws Exception {
        TaskResult result = call("{\"url\":\"" + url(500) + "\"}");

        assertThat(result).isInstanceOfSatisfying(TaskResult.Failure.class, failure -> {
            assertThat(failure.retryable()).isTrue();
            assertThat(failure.retryAfterDelay()).isEmpty();
        });
    }

    @Test
    void notFoundFailsForGood() throws Exception {
        TaskResult result = call("{\"method\":\"DELETE\",\"url\":\"" + url(404) + "\"}");

        assertThat(result).isInstanceOfSatisfying(TaskResult.Failure.class,
                failure -> assertThat(failure.retryable()).isFalse());
        assertThat(received).containsExactly("DELETE /404 null null ");
    }

    @Test
    void aPayloadThatIsNoRequestFailsForGoodAndAnUnreachableServerIsRetried() throws Exception {
        assertThat(call("not json")).isInstanceOfSatisfying(TaskResult.Failure.class,
                failure -> assertThat(failure.retryable()).isFalse());
        assertThat(call("{\"url\":\"ftp://x\"}")).isInstanceOfSatisfying(TaskResult.Failure.class,
                failure -> assertThat(failure.reason()).contains("http:// or https://"));
        int closedPort = server.getAddress().getPort();
        server.stop(0);
        assertThat(call("{\"url\":\"http://127.0.0.1:" + closedPort + "/200\"}"))
                .isInstanceOfSatisfying(TaskResult.Failure.class, failure -> assertThat(failure.retryable()).isTrue());
    }

    @Test
    void retryAfterReadsSecondsAndHttpDates() {
        assertThat(HttpTaskHandler.retryAfter("120")).contains(Duration.ofSeconds(120));
        assertThat(HttpTaskHandler.retryAfter("Wed, 21 Oct 2015 07:28:00 GMT")).contains(Duration.ZERO);
        assertThat(HttpTaskHandler.retryAfter("soon")).isEmpty();
    }

    @Test
    void byDefaultLoopbackMetadataAndPrivateAddressesAreRefusedForGoodAndNothingIsCalled() throws Exception {
        HttpTaskHandler publicOnly = new HttpTaskHandler(Duration.ofSeconds(5), "", 1024 * 1024);
        int port = server.getAddress().getPort();
        for (String url : List.of("http://127.0.0.1:" + port + "/200", "http://localhost:" + port + "/200",
                "http://[::1]:" + port + "/200", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/",
                "http://192.168.1.1/", "http://172.16.0.1/", "http://100.100.100.200/", "http://0.0.0.0:" + port + "/200",
                "http://[fd00:ec2::254]/", "http://[::ffff:127.0.0.1]:" + port + "/200", "https://127.0.0.1:" + port + "/200")) {
            TaskResult result = publicOnly.handle(new Task("t", "q", 0, ("{\"url\":\"" + url + "\"}").getBytes(StandardCharsets.UTF_8),
                    Map.of(), Instant.now()));
            assertThat(result).as(url).isInstanceOfSatisfying(TaskResult.Failure.class, failure -> {
                assertThat(failure.retryable()).isFalse();
                assertThat(failure.reason()).contains("refused").contains("SLUICE_HTTP_ALLOWED_HOSTS");
            });
        }
        assertThat(received).isEmpty();
    }

    @Test
    void aRedirectIsFollowedOnlyWhereCallsAreAllowedAndLeavingTheHostDropsCredentials() throws Exception {
        int port = server.getAddress().getPort();
        List<String> authorizations = new CopyOnWriteArrayList<>();
        server.createContext("/to/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.getResponseHeaders().add("Location", exchange.getRequestURI().getPath().substring("/to".length())
                    .replace("/elsewhere", "http://localhost:" + port).replace("/forbidden", "http://127.0.0.2:" + port));
            exchange.sendResponseHeaders(302, -1);
            exchange.close();
        });
        server.createContext("/seen", exchange -> {
            authorizations.add(exchange.getRequestMethod() + " " + exchange.getRequestHeaders().getFirst("Authorization"));
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        String base = "http://127.0.0.1:" + port;

        TaskResult sameHost = call("{\"method\":\"POST\",\"url\":\"" + base + "/to/seen\",\"headers\":{\"Authorization\":\"Bearer k\"},\"body\":{}}");
        TaskResult otherHost = call("{\"url\":\"" + base + "/to/elsewhere/seen\",\"headers\":{\"Authorization\":\"Bearer k\"}}");
        TaskResult forbidden = call("{\"url\":\"" + base + "/to/forbidden/seen\"}");
        TaskResult loop = call("{\"url\":\"" + base + "/to/to/to/to/to/to/to/seen\"}");

        assertThat(sameHost).isEqualTo(TaskResult.success());
        assertThat(otherHost).isEqualTo(TaskResult.success());
        assertThat(authorizations).containsExactly("GET Bearer k", "GET null"); // 302 after a POST is a GET
        assertThat(forbidden).isInstanceOfSatisfying(TaskResult.Failure.class, failure -> {
            assertThat(failure.retryable()).isFalse();
            assertThat(failure.reason()).contains("127.0.0.2").contains("refused");
        });
        assertThat(loop).isInstanceOfSatisfying(TaskResult.Failure.class,
                failure -> assertThat(failure.reason()).contains("more than 5"));
        assertThat(authorizations).hasSize(2);
    }

    @Test
    void anEndlessResponseIsReadOnlyUpToTheCap() throws Exception {
        server.createContext("/endless", exchange -> {
            exchange.sendResponseHeaders(200, 0); // chunked, no end
            byte[] chunk = new byte[65_536];
            try (var out = exchange.getResponseBody()) {
                while (true) {
                    out.write(chunk);
                }
            } catch (IOException cutOff) {
                exchange.close();
            }
        });
        HttpTaskHandler capped = new HttpTaskHandler(Duration.ofSeconds(3), "127.0.0.1", 256 * 1024);

        long started = System.nanoTime();
        TaskResult result = capped.handle(new Task("t", "q", 0, ("{\"url\":\"http://127.0.0.1:" + server.getAddress().getPort()
                + "/endless\"}").getBytes(StandardCharsets.UTF_8), Map.of(), Instant.now()));

        assertThat(result).isEqualTo(TaskResult.success());
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(2));
    }

    @Test
    void tlsGoesOnlyOverAConnectionToAnAllowedAddressWhateverTheNameResolvedTo() throws Exception {
        OutboundPolicy publicOnly = OutboundPolicy.publicOnly();
        CheckedTlsSocketFactory factory = new CheckedTlsSocketFactory(
                javax.net.ssl.HttpsURLConnection.getDefaultSSLSocketFactory(), publicOnly);
        java.net.Socket connected = new java.net.Socket(InetAddress.getLoopbackAddress(), server.getAddress().getPort());

        // a public name whose lookup was made to answer 127.0.0.1 (DNS rebinding): the socket says where it went
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> factory.createSocket(connected, "api.example.com", 443, true))
                .isInstanceOf(RefusedAddressException.class).hasMessageContaining("127.0.0.1").hasMessageContaining("loopback");
        assertThat(connected.isClosed()).isTrue();
    }
}
