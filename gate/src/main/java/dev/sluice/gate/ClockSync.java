package dev.sluice.gate;

/**
 * Maps Redis's clock (microseconds since the epoch, from the token bucket's replies) onto this
 * process's monotonic clock ({@link System#nanoTime()}), so that a token slot given in Redis time is
 * waited for with a local timer and no wall clock of ours is ever trusted.
 *
 * <p>Each reply is taken to be read half-way through its round trip. Not thread-safe: the gate's loop
 * thread owns it.
 */
final class ClockSync {

    private long offsetMicros;
    private boolean known;

    /** Records one reading: Redis said {@code redisMicros} during the call made between the two times. */
    void observe(long redisMicros, long localNanosBefore, long localNanosAfter) {
        long localMicros = (localNanosBefore + (localNanosAfter - localNanosBefore) / 2) / 1_000;
        offsetMicros = redisMicros - localMicros;
        known = true;
    }

    boolean known() {
        return known;
    }

    /** The local {@code nanoTime} at which Redis's clock reads {@code redisMicros}. */
    long localNanos(long redisMicros) {
        return (redisMicros - offsetMicros) * 1_000;
    }

    /** Redis's clock at local {@code nanoTime} {@code localNanos}. */
    long redisMicros(long localNanos) {
        return localNanos / 1_000 + offsetMicros;
    }
}
