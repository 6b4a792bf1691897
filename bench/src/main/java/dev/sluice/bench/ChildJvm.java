package dev.sluice.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Sluice service or a helper in a JVM of its own, started from this JVM's classpath: as it runs in
 * production, and so that it can be killed as a crash kills it ({@link #kill}: SIGKILL, nothing tidied
 * up) or stopped as an operator stops it ({@link #close}: SIGTERM, its shutdown hook runs).
 */
public final class ChildJvm implements AutoCloseable {

    private final Process process;
    private final String name;
    private final List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());

    private ChildJvm(String name, Process process) {
        this.name = name;
        this.process = process;
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException ended) {
                // the process is gone
            }
        }, name + "-output");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts {@code mainClass} with this JVM's classpath (under Maven's test plugins, the test classpath).
     *
     * @param jvmOptions e.g. {@code -Xmx256m}
     */
    public static ChildJvm start(String name, String mainClass, Map<String, String> env, List<String> jvmOptions,
                                 String... args) throws IOException {
        return start(name, System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                mainClass, env, jvmOptions, args);
    }

    /** As {@link #start(String, String, Map, List, String...)}, from another classpath (another build). */
    public static ChildJvm start(String name, String classpath, String mainClass, Map<String, String> env,
                                 List<String> jvmOptions, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", classpath, mainClass));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(env);
        return new ChildJvm(name, builder.start());
    }

    /** Waits for a line of output containing {@code text}; returns it. */
    public String awaitLine(String text, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            synchronized (lines) {
                for (String line : lines) {
                    if (line.contains(text)) {
                        return line;
                    }
                }
            }
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " ended (exit " + process.exitValue() + ") before printing \""
                        + text + "\":\n" + output());
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException(name + " did not print \"" + text + "\" within " + timeout + ":\n" + output());
    }

    public String output() {
        synchronized (lines) {
            return String.join("\n", lines);
        }
    }

    public long pid() {
        return process.pid();
    }

    /** SIGKILL: the process ends at once, committing, closing and flushing nothing. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM, and a wait for the process to stop cleanly (then SIGKILL). */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
