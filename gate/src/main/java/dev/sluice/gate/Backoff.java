package dev.sluice.gate;

import java.time.Duration;

/** Exponential backoff between retries, doubling from a first to a last delay; reset on success. */
final class Backoff {

    private final long firstNanos;
    private final long lastNanos;
    private long nextNanos;

    Backoff(Duration first, Duration last) {
        if (first.isNegative() || first.isZero() || last.compareTo(first) < 0) {
            throw new IllegalArgumentException("backoff needs 0 < first <= last, got " + first + " and " + last);
        }
        this.firstNanos = first.toNanos();
        this.lastNanos = last.toNanos();
        this.nextNanos = firstNanos;
    }

    /** The delay before the next retry; each call doubles the following one, up to the last delay. */
    long nextDelayNanos() {
        long delay = nextNanos;
        nextNanos = Math.min(lastNanos, nextNanos * 2);
        return delay;
    }

    void reset() {
        nextNanos = firstNanos;
    }
}
