package dev.sluice.bench;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;

/**
 * The service the tasks call, as a user's API would see them: a JDK HTTP server on loopback that
 * answers every request 200 at once and notes when it arrived ({@code System.nanoTime()}, on the
 * server's own thread, before any hand-over), its path, and when the task's handler started if the
 * request says ({@link TimedHttpHandler}). {@code GET /calls} lists them, one {@code nanos path
 * [started-nanos]} per line; a call to any other path is recorded. Run in a process of its own
 * ({@link #main}) so that the test's or the harness's pauses do not move the times it records.
 */
public final class CallRecorder implements AutoCloseable {

    private final HttpServer server;
    private final List<String> calls = new ArrayList<>();

    public CallRecorder(int port) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 256);
        server.createContext("/", this::handle);
        server.setExecutor(Boolean.getBoolean("recorder.pool") ? Executors.newFixedThreadPool(8) : null);
        server.start();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private void handle(HttpExchange exchange) throws IOException {
        long arrived = System.nanoTime();
        String path = exchange.getRequestURI().getPath();
        byte[] body;
        if ("GET".equals(exchange.getRequestMethod()) && "/calls".equals(path)) {
            synchronized (calls) {
                body = (String.join("\n", calls) + "\n").getBytes(StandardCharsets.UTF_8);
            }
        } else {
            String started = exchange.getRequestHeaders().getFirst(TimedHttpHandler.START_HEADER);
            synchronized (calls) {
                calls.add(arrived + " " + path + (started == null ? "" : " " + started));
            }
            exchange.getRequestBody().readAllBytes();
            body = new byte[0];
        }
        exchange.sendResponseHeaders(200, body.length == 0 ? -1 : body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        if (server.getExecutor() != null) {
            ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
        }
    }

    /** {@code CallRecorder <port>}: serves until killed; prints {@code listening <port>} once ready. */
    public static void main(String[] args) throws IOException {
        CallRecorder recorder = new CallRecorder(args.length > 0 ? Integer.parseInt(args[0]) : 0);
        System.out.println("listening " + recorder.port());
        System.out.flush();
    }
}
