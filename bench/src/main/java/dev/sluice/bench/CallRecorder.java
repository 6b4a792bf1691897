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
 * request says ({@link TimedHttpHandler}). {@code GET /calls} on the control port lists them, one
 * {@code nanos path [started-nanos]} per line. Run in a process of its own ({@link #main}) so that the
 * test's or the harness's pauses do not move the times it records.
 */
public final class CallRecorder implements AutoCloseable {

    private final HttpServer service;
    private final HttpServer control;
    private final List<String> calls = new ArrayList<>();

    public CallRecorder(int port) throws IOException {
        // the calls are taken on the server's own thread, with no hand-over to a pool before the time is
        // noted; the listing is served by a server of its own, so that reading it never holds a call up
        service = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 256);
        service.createContext("/", this::record);
        service.setExecutor(null);
        service.start();
        control = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        control.createContext("/calls", this::list);
        control.setExecutor(Executors.newSingleThreadExecutor());
        control.start();
    }

    /** Where the tasks call. */
    public int port() {
        return service.getAddress().getPort();
    }

    /** Where {@code GET /calls} lists them. */
    public int controlPort() {
        return control.getAddress().getPort();
    }

    private void record(HttpExchange exchange) throws IOException {
        long arrived = System.nanoTime();
        String path = exchange.getRequestURI().getPath();
        String started = exchange.getRequestHeaders().getFirst(TimedHttpHandler.START_HEADER);
        synchronized (calls) {
            calls.add(arrived + " " + path + (started == null ? "" : " " + started));
        }
        exchange.getRequestBody().readAllBytes();
        exchange.sendResponseHeaders(200, -1);
        exchange.close();
    }

    private void list(HttpExchange exchange) throws IOException {
        List<String> copy;
        synchronized (calls) {
            copy = new ArrayList<>(calls);
        }
        byte[] body = (String.join("\n", copy) + "\n").getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(200, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    @Override
    public void close() {
        service.stop(0);
        control.stop(0);
        ((java.util.concurrent.ExecutorService) control.getExecutor()).shutdownNow();
    }

    /**
     * {@code CallRecorder [port]}: serves until killed; prints {@code listening <port> <control port>} once
     * ready.
     */
    public static void main(String[] args) throws IOException {
        CallRecorder recorder = new CallRecorder(args.length > 0 ? Integer.parseInt(args[0]) : 0);
        System.out.println("listening " + recorder.port() + " " + recorder.controlPort());
        System.out.flush();
    }
}
