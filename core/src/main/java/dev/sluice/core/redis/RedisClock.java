package dev.sluice.core.redis;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.UnifiedJedis;

/**
 * Redis's clock read from this process: an offset between Redis {@code TIME} (microseconds since the
 * epoch, the clock of every token bucket slot) and {@link System#nanoTime()}, so that a task stamped to
 * start at a slot starts then, whatever this host's wall clock says.
 *
 * <p>{@link #sync()} reads {@code TIME} a few times and keeps the reading with the shortest round trip,
 * taken to have been read half-way through it: the offset is then off by at most half that round trip.
 * A reading replaces the kept one only when its round trip is short ({@value #GOOD_ROUND_TRIP_NANOS}
 * ns) or no longer than twice the kept one's, which counts as longer as it ages (by
 * {@value #DRIFT_PPM} ppm, more than two clocks drift apart): a pause or a loaded machine, which
 * stretches a round trip to tens or hundreds of milliseconds, never moves the offset by that much. The
 * clock is {@link #known()} once a reading's round trip was under {@value #TRUSTED_ROUND_TRIP_NANOS}
 * ns, or after {@value #TRUST_ANYWAY_NANOS} ns of readings (the best one then). A clock step on Redis's
 * host moves its slots, and this offset with the next reading taken; a step of this host's wall clock
 * changes nothing ({@code nanoTime} is monotonic). Thread-safe: one thread syncs, any thread reads.
 */
public final class RedisClock {

    /** Readings per {@link #sync()}. */
    static final int SAMPLES = 5;
    /** A round trip at or under this is always good enough. */
    static final long GOOD_ROUND_TRIP_NANOS = 1_000_000;
    /** The clock is known once a reading had a round trip under this (its offset is off by half at most). */
    static final long TRUSTED_ROUND_TRIP_NANOS = 2_000_000;
    /** ... or once readings have been taken for this long. */
    static final long TRUST_ANYWAY_NANOS = 10_000_000_000L;
    /** How fast a kept reading loses precision as it ages, in parts per million of its age. */
    static final long DRIFT_PPM = 5;

    private final UnifiedJedis redis;
    /** Redis micros minus local micros, as one volatile pair with when and how well it was measured. */
    private volatile Reading kept;
    private volatile boolean trusted;
    private long firstReadingNanos = Long.MIN_VALUE;

    private record Reading(long offsetMicros, long roundTripNanos, long takenAtNanos) {
    }

    public RedisClock(UnifiedJedis redis) {
        this.redis = Objects.requireNonNull(redis, "redis");
    }

    /**
     * Reads Redis's clock {@value #SAMPLES} times and keeps the best reading if it is good enough.
     *
     * @throws redis.clients.jedis.exceptions.JedisException when Redis does not answer (the last offset
     *     is kept: {@code nanoTime} drifts from a synchronised clock by well under a millisecond a minute)
     */
    public void sync() {
        long bestRedis = 0;
        long bestBefore = 0;
        long bestAfter = Long.MAX_VALUE / 2;
        for (int i = 0; i < SAMPLES; i++) {
            long before = System.nanoTime();
            List<?> time = (List<?>) redis.sendCommand(Protocol.Command.TIME);
            long after = System.nanoTime();
            if (after - before < bestAfter - bestBefore) {
                bestRedis = Long.parseLong(text(time.get(0))) * 1_000_000 + Long.parseLong(text(time.get(1)));
                bestBefore = before;
                bestAfter = after;
            }
        }
        observe(bestRedis, bestBefore, bestAfter);
    }

    /**
     * Takes one reading: Redis said {@code redisMicros} during the call made between the two local times.
     * {@link #sync()} takes its readings here; public for a reading taken another way (tests of code that
     * runs by this clock, without a Redis).
     */
    public void observe(long redisMicros, long localNanosBefore, long localNanosAfter) {
        long roundTrip = localNanosAfter - localNanosBefore;
        long localMicros = (localNanosBefore + roundTrip / 2) / 1_000;
        if (firstReadingNanos == Long.MIN_VALUE) {
            firstReadingNanos = localNanosAfter;
        }
        Reading last = kept;
        if (last == null || roundTrip <= GOOD_ROUND_TRIP_NANOS || roundTrip <= 2 * aged(last, localNanosAfter)) {
            kept = new Reading(redisMicros - localMicros, roundTrip, localNanosAfter);
        }
        if (kept.roundTripNanos() < TRUSTED_ROUND_TRIP_NANOS || localNanosAfter - firstReadingNanos >= TRUST_ANYWAY_NANOS) {
            trusted = true;
        }
    }

    /** A kept reading's round trip as it counts now: longer by the drift since it was taken. */
    private static long aged(Reading reading, long nowNanos) {
        return reading.roundTripNanos() + (nowNanos - reading.takenAtNanos()) / 1_000_000 * DRIFT_PPM;
    }

    /**
     * Whether the offset is good enough to start tasks by: a reading with a short round trip was
     * taken, or readings have been taken for {@value #TRUST_ANYWAY_NANOS} ns (the best then).
     */
    public boolean known() {
        return trusted;
    }

    /**
     * The local {@code nanoTime} at which Redis's clock reads {@code redisMicros}.
     *
     * @throws IllegalStateException before the first reading
     */
    public long localNanos(long redisMicros) {
        return (redisMicros - reading().offsetMicros()) * 1_000;
    }

    /**
     * Redis's clock at local {@code nanoTime} {@code localNanos}.
     *
     * @throws IllegalStateException before the first reading
     */
    public long redisMicros(long localNanos) {
        return localNanos / 1_000 + reading().offsetMicros();
    }

    /** The round trip of the reading in use: the offset is off by at most half of it. */
    public long roundTripNanos() {
        return reading().roundTripNanos();
    }

    private Reading reading() {
        Reading reading = kept;
        if (reading == null) {
            throw new IllegalStateException("Redis's clock has not been read yet");
        }
        return reading;
    }

    private static String text(Object value) {
        return value instanceof byte[] bytes ? new String(bytes, StandardCharsets.UTF_8) : value.toString();
    }
}
