package dev.sluice.gate;

import java.util.concurrent.atomic.LongAdder;

/** Counters a gate keeps about itself, readable from any thread. */
public final class GateMetrics {

    private final LongAdder bucketCalls = new LongAdder();
    private final LongAdder tokens = new LongAdder();
    private final LongAdder released = new LongAdder();

    void acquired(int granted) {
        bucketCalls.increment();
        tokens.add(granted);
    }

    void released(int count) {
        released.add(count);
    }

    /** Calls made to the token bucket. */
    public long bucketCalls() {
        return bucketCalls.sum();
    }

    /** Tokens granted (a token whose transaction aborted is counted but not released). */
    public long tokensGranted() {
        return tokens.sum();
    }

    /** Records forwarded in committed transactions. */
    public long released() {
        return released.sum();
    }
}
