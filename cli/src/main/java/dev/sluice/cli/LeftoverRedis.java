package dev.sluice.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded Redis is a child process: when {@code sluice up} is killed outright (SIGKILL, a crash)
 * it lives on and holds its port. Its pid is kept in the data directory, and the next {@code up} on
 * that directory (which holds the directory's lock, so no other {@code up} uses it) stops it first
 * with SIGTERM, which lets Redis finish its append-only file.
 */
final class LeftoverRedis {

    private static final Logger LOG = LoggerFactory.getLogger(LeftoverRedis.class);
    private static final String FILE = "sluice-up-redis.pid";

    private LeftoverRedis() {
    }

    static void remember(Path redisData, long pid) {
        try {
            Files.writeString(redisData.resolve(FILE), Long.toString(pid), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void forget(Path redisData) {
        try {
            Files.deleteIfExists(redisData.resolve(FILE));
        } catch (IOException ignored) {
            // a stale file names a process that is gone: harmless
        }
    }

    /** Stops the redis-server an earlier {@code up} on this directory left running, if any. */
    static void stop(Path redisData) {
        Path file = redisData.resolve(FILE);
        if (!Files.exists(file)) {
            return;
        }
        try {
            long pid = Long.parseLong(Files.readString(file, StandardCharsets.UTF_8).strip());
            Optional<ProcessHandle> left = ProcessHandle.of(pid)
                    .filter(p -> p.info().command().map(c -> c.contains("redis-server")).orElse(false));
            if (left.isPresent()) {
                LOG.info("Stopping the redis-server (pid {}) an earlier sluice up left running", pid);
                left.get().destroy();
                left.get().onExit().get(10, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            LOG.warn("Could not stop the redis-server named in {}: {}", file, e.toString());
        }
        forget(redisData);
    }
}
