package dev.sluice.core;

import java.time.Duration;
import java.util.Objects;

/**
 * What a queue is asked to be: its rate limit, its burst and its idle TTL.
 *
 * @param rateLimit at most this many releases per period
 * @param burst how many tokens the bucket holds (1 to {@value #MAX_BURST}); 1 means strict, evenly
 *     spaced releases, B allows at most N + B - 1 releases in any window of one period
 * @param idleTtl how long the queue may sit idle (no backlog, no activity) before the reaper removes
 *     it; zero means never. Whole seconds.
 * @param maxAttempts how many times a task of this queue is tried, the first included, before it goes
 *     to the dead letters (1 to {@value #MAX_ATTEMPTS}); the gate stamps it on each released task
 */
public record QueueSpec(RateLimit rateLimit, int burst, Duration idleTtl, int maxAttempts) {

    public static final int MAX_BURST = 1_000_000;
    public static final int MAX_ATTEMPTS = 100;
    public static final int DEFAULT_MAX_ATTEMPTS = 3;
    /** The original system's default: an idle queue goes away after an hour. */
    public static final Duration DEFAULT_IDLE_TTL = Duration.ofHours(1);

    public QueueSpec {
        Objects.requireNonNull(rateLimit, "rateLimit");
        Objects.requireNonNull(idleTtl, "idleTtl");
        requireValidBurst(burst);
        requireValidIdleTtl(idleTtl);
        requireValidMaxAttempts(maxAttempts);
    }

    /** Rate, burst and idle TTL, with the default number of attempts. */
    public QueueSpec(RateLimit rateLimit, int burst, Duration idleTtl) {
        this(rateLimit, burst, idleTtl, DEFAULT_MAX_ATTEMPTS);
    }

    /** @throws IllegalArgumentException unless 1 &lt;= maxAttempts &lt;= {@value #MAX_ATTEMPTS} */
    public static int requireValidMaxAttempts(int maxAttempts) {
        if (maxAttempts < 1 || maxAttempts > MAX_ATTEMPTS) {
            throw new IllegalArgumentException("the max attempts must be between 1 and " + MAX_ATTEMPTS
                    + ", got " + maxAttempts);
        }
        return maxAttempts;
    }

    /** @throws IllegalArgumentException unless 1 &lt;= burst &lt;= {@value #MAX_BURST} */
    public static int requireValidBurst(int burst) {
        if (burst < 1 || burst > MAX_BURST) {
            throw new IllegalArgumentException("the burst must be between 1 and " + MAX_BURST + ", got " + burst);
        }
        return burst;
    }

    /** @throws IllegalArgumentException unless the TTL is zero or a positive whole number of seconds */
    public static Duration requireValidIdleTtl(Duration idleTtl) {
        Objects.requireNonNull(idleTtl, "idleTtl");
        if (idleTtl.isNegative()) {
            throw new IllegalArgumentException("the idle TTL must be 0 (never) or more, got " + idleTtl);
        }
        if (idleTtl.toNanosPart() != 0) {
            throw new IllegalArgumentException("the idle TTL must be a whole number of seconds, got " + idleTtl);
        }
        return idleTtl;
    }

    /** Burst 1, the default idle TTL and the default number of attempts. */
    public static QueueSpec of(RateLimit rateLimit) {
        return new QueueSpec(rateLimit, 1, DEFAULT_IDLE_TTL, DEFAULT_MAX_ATTEMPTS);
    }

    public QueueSpec withBurst(int newBurst) {
        return new QueueSpec(rateLimit, newBurst, idleTtl, maxAttempts);
    }

    public QueueSpec withIdleTtl(Duration newIdleTtl) {
        return new QueueSpec(rateLimit, burst, newIdleTtl, maxAttempts);
    }

    public QueueSpec withRateLimit(RateLimit newRateLimit) {
        return new QueueSpec(newRateLimit, burst, idleTtl, maxAttempts);
    }

    public QueueSpec withMaxAttempts(int newMaxAttempts) {
        return new QueueSpec(rateLimit, burst, idleTtl, newMaxAttempts);
    }
}
