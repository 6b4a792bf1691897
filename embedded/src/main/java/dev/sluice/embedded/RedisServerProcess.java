package dev.sluice.embedded;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real {@code redis-server} child process on a loopback port.
 *
 * <p>The binary is the one named by {@code SLUICE_REDIS_SERVER}, else {@code redis-server} on the
 * PATH, else the linux-amd64 build (Redis 6.2) shipped inside the {@code embedded-redis} Maven
 * artifact, copied to a temporary file. The process can be stopped and started again on the same
 * port and data directory, which is how tests simulate a Redis outage, and {@link #supervise} starts it
 * again by itself whenever it dies.
 *
 * <p>A server with an append-only file writes it on every write ({@code appendfsync always}): a token
 * bucket must never roll back when the server is killed, or the tokens granted in the last second would
 * be granted again. The gate makes well under one Redis write per hundred tasks, so this costs little.
 */
public final class RedisServerProcess implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RedisServerProcess.class);
    private static final String BUNDLED_BINARY = "/redis-server-6.2.6-v5-linux-amd64";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(20);

    private final Path binary;
    private final int port;
    private final Path dataDirectory;
    private final boolean appendOnly;
    /** More {@code redis-server} arguments (a cluster node's, say). */
    private final List<String> extraArguments;
    private Process process;
    /** Set by {@link #stop()}: the process ended because it was asked to, the supervisor leaves it. */
    private boolean stopped;
    private Thread supervisor;

    private RedisServerProcess(Path binary, int port, Path dataDirectory, boolean appendOnly,
                               List<String> extraArguments) {
        this.binary = binary;
        this.port = port;
        this.dataDirectory = dataDirectory;
        this.appendOnly = appendOnly;
        this.extraArguments = List.copyOf(extraArguments);
    }

    /** Starts a throwaway server: free port, temporary directory, no persistence. */
    public static RedisServerProcess startEphemeral() {
        try {
            return start(freePort(), Files.createTempDirectory("sluice-redis"), false);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Starts a server.
     *
     * @param port the loopback port to listen on
     * @param dataDirectory where the AOF or RDB files go
     * @param appendOnly whether to keep an append-only file (survives restarts)
     */
    public static RedisServerProcess start(int port, Path dataDirectory, boolean appendOnly) {
        return start(port, dataDirectory, appendOnly, List.of());
    }

    /** As {@link #start(int, Path, boolean)}, with more {@code redis-server} arguments. */
    public static RedisServerProcess start(int port, Path dataDirectory, boolean appendOnly, List<String> extraArguments) {
        RedisServerProcess server = new RedisServerProcess(locateBinary(), port, dataDirectory, appendOnly, extraArguments);
        server.start();
        return server;
    }

    /** Starts the process again after {@link #stop()}, on the same port with the same data. */
    public synchronized void start() {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("redis-server is already running on port " + port);
        }
        List<String> command = new ArrayList<>(List.of(
                binary.toString(),
                "--port", String.valueOf(port),
                "--bind", "127.0.0.1",
                "--protected-mode", "no",
                "--daemonize", "no",
                "--dir", dataDirectory.toString(),
                "--save", "",
                "--appendonly", appendOnly ? "yes" : "no"));
        if (appendOnly) {
            command.addAll(List.of("--appendfsync", "always"));
        }
        command.addAll(extraArguments);
        try {
            Files.createDirectories(dataDirectory);
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IllegalStateException("could not start " + binary + ": " + e.getMessage(), e);
        }
        String output = awaitReady(process);
        if (output != null) {
            process.destroyForcibly();
            throw new IllegalStateException("redis-server did not start on port " + port + ": " + output);
        }
        stopped = false;
        LOG.info("redis-server ready at {} (binary {})", uri(), binary);
    }

    /**
     * Watches the server from a daemon thread and starts it again, on the same port and data, whenever
     * it dies without {@link #stop()} (killed, crashed): within about a second, then every second until
     * it starts. {@code onRestart} is told each new process id.
     */
    public synchronized void supervise(java.util.function.LongConsumer onRestart) {
        if (supervisor != null) {
            throw new IllegalStateException("redis-server on port " + port + " is supervised already");
        }
        supervisor = new Thread(() -> superviseLoop(onRestart), "redis-server-supervisor-" + port);
        supervisor.setDaemon(true);
        supervisor.start();
    }

    private void superviseLoop(java.util.function.LongConsumer onRestart) {
        while (true) {
            Process watched;
            synchronized (this) {
                if (stopped || process == null) {
                    return;
                }
                watched = process;
            }
            int exit;
            try {
                exit = watched.waitFor();
            } catch (InterruptedException e) {
                return;
            }
            for (int attempt = 1; ; attempt++) {
                synchronized (this) {
                    if (stopped || process != watched) {
                        break; // stopped on purpose, or started again by someone else
                    }
                    if (attempt == 1) {
                        LOG.warn("redis-server (pid {}) on port {} died with exit code {}; starting it again on its data",
                                watched.pid(), port, exit);
                    }
                    try {
                        start();
                        LOG.warn("redis-server started again on port {} (pid {})", port, process.pid());
                        onRestart.accept(process.pid());
                        break;
                    } catch (IllegalStateException e) {
                        LOG.warn("redis-server on port {} did not start again (attempt {}): {}", port, attempt,
                                e.getMessage());
                        process = watched; // still the dead one: the next attempt starts from it
                    }
                }
                sleep(1000);
            }
        }
    }

    /** Stops the process (SIGTERM, then SIGKILL after 5 s). Safe to call twice. */
    public synchronized void stop() {
        stopped = true;
        if (process == null) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        process = null;
    }

    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    public int port() {
        return port;
    }

    /** The process id of the running server. */
    public synchronized long pid() {
        if (process == null) {
            throw new IllegalStateException("redis-server is not running");
        }
        return process.pid();
    }

    /** The {@code redis://} URI of this server. */
    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    @Override
    public void close() {
        stop();
    }

    /**
     * Waits until the server answers on its port.
     *
     * @return {@code null} when ready, else what the process printed before it died or timed out
     */
    private String awaitReady(Process started) {
        StringBuilder output = new StringBuilder();
        Thread pump = new Thread(() -> pumpOutput(started.getInputStream(), output), "redis-server-" + port);
        pump.setDaemon(true);
        pump.start();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!started.isAlive()) {
                joinQuietly(pump);
                synchronized (output) {
                    return output.toString().strip();
                }
            }
            // another server may already hold the port and answer PING: only our own process's
            // readiness line counts
            boolean saysReady;
            synchronized (output) {
                saysReady = output.indexOf("Ready to accept connections") >= 0;
            }
            if (saysReady && started.isAlive() && answersPing()) {
                return null;
            }
            sleep(20);
        }
        synchronized (output) {
            return "no answer within " + START_TIMEOUT.toSeconds() + " s; output: " + output.toString().strip();
        }
    }

    private boolean answersPing() {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
            socket.setSoTimeout(500);
            socket.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] reply = new byte[7];
            int read = socket.getInputStream().read(reply);
            return read > 0 && new String(reply, 0, read, StandardCharsets.US_ASCII).startsWith("+PONG");
        } catch (IOException notYet) {
            return false;
        }
    }

    /** Keeps the last lines the server printed, for error messages; logs them at debug. */
    private static void pumpOutput(InputStream stream, StringBuilder sink) {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                LOG.debug("redis-server: {}", line);
                synchronized (sink) {
                    if (sink.length() < 16_384) {
                        sink.append(line).append('\n');
                    }
                }
            }
        } catch (IOException ignored) {
            // the process ended
        }
    }

    static Path locateBinary() {
        String configured = System.getenv("SLUICE_REDIS_SERVER");
        if (configured != null && !configured.isBlank()) {
            Path path = Path.of(configured);
            if (!Files.isExecutable(path)) {
                throw new IllegalStateException("SLUICE_REDIS_SERVER=" + configured + " is not an executable file");
            }
            return path;
        }
        String pathVariable = System.getenv().getOrDefault("PATH", "");
        for (String directory : pathVariable.split(java.io.File.pathSeparator)) {
            if (directory.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(directory, "redis-server");
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return extractBundledBinary();
    }

    private static Path extractBundledBinary() {
        String os = System.getProperty("os.name", "").toLowerCase();
        String arch = System.getProperty("os.arch", "");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            throw new IllegalStateException("no redis-server found: install one (e.g. apt-get install redis-server),"
                    + " set SLUICE_REDIS_SERVER to its path, or set REDIS_URL to a running server;"
                    + " the bundled binary is for linux-amd64 only, this is " + os + "-" + arch);
        }
        try (InputStream in = RedisServerProcess.class.getResourceAsStream(BUNDLED_BINARY)) {
            if (in == null) {
                throw new IllegalStateException("no redis-server on PATH and the embedded-redis artifact is missing"
                        + " from the classpath");
            }
            Path target = Files.createTempFile("sluice-redis-server", "");
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            if (!target.toFile().setExecutable(true, true)) {
                throw new IllegalStateException("could not make " + target + " executable");
            }
            target.toFile().deleteOnExit();
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("could not extract the bundled redis-server", e);
        }
    }

    /** A port that was free a moment ago on the loopback interface. */
    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port", e);
        }
    }

    private static void joinQuietly(Thread thread) {
        try {
            thread.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for redis-server", e);
        }
    }
}
