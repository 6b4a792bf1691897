package dev.sluice.worker;

import dev.sluice.core.redis.RedisClock;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import redis.clients.jedis.exceptions.JedisException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the worker's reading of Redis's clock fresh: once a second, every 100 ms until the first
 * reading. While Redis does not answer, the last offset stays in use (said once); before any reading,
 * tasks with a start slot wait.
 */
final class ClockSyncer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ClockSyncer.class);
    private static final long INTERVAL_MILLIS = 1_000;
    private static final long FIRST_READING_INTERVAL_MILLIS = 100;

    private final RedisClock clock;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread named = new Thread(r, "sluice-clock");
        named.setDaemon(true);
        return named;
    });
    private boolean unreachable;

    ClockSyncer(RedisClock clock) {
        this.clock = clock;
    }

    void start() {
        // the first reading in a fresh JVM is slow (loading classes, opening the connection): a second at
        // once is taken when its round trip is shorter, so the first tasks do not start on a rough offset
        thread.execute(this::syncQuietly);
        thread.execute(this::syncAndReschedule);
    }

    private void syncQuietly() {
        try {
            clock.sync();
        } catch (RuntimeException e) {
            // syncAndReschedule, next, says so
        }
    }

    private void syncAndReschedule() {
        try {
            clock.sync();
            if (unreachable) {
                unreachable = false;
                LOG.info("Redis's clock read again (round trip {} µs)", clock.roundTripNanos() / 1_000);
            }
        } catch (JedisException e) {
            if (!unreachable) {
                unreachable = true;
                LOG.warn("Cannot read Redis's clock ({}); {}", e.getMessage(), clock.known()
                        ? "starting tasks on the last reading until it answers"
                        : "tasks with a start slot wait until it answers");
            }
        } catch (RuntimeException e) {
            LOG.warn("Reading Redis's clock failed: {}", e.toString());
        }
        try {
            thread.schedule(this::syncAndReschedule, clock.known() ? INTERVAL_MILLIS : FIRST_READING_INTERVAL_MILLIS,
                    TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // the worker is stopping
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
