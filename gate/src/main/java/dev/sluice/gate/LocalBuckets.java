package dev.sluice.gate;

import dev.sluice.core.QueueName;
import dev.sluice.core.QueueSpec;
import dev.sluice.core.redis.Acquisition;
import java.util.HashMap;
import java.util.Map;

/**
 * The fail-open stand-in for the Redis buckets: the same GCRA, kept in this process, used only while
 * Redis is unreachable and only when the gate was configured to fail open. Each gate instance keeps
 * its own, so several instances together may exceed a limit during an outage; and what was granted
 * just before the outage is not known here. That is the price of releasing without Redis, which is
 * why the gate fails closed by default.
 *
 * <p>Times are in the same microseconds as Redis's clock (as estimated by the caller), so the answers
 * look exactly like the script's. Not thread-safe: the gate's loop thread owns it.
 */
final class LocalBuckets {

    /** Theoretical arrival time per queue, in microseconds; fractional intervals kept in a double. */
    private final Map<QueueName, Double> tat = new HashMap<>();

    Acquisition acquire(QueueName queue, QueueSpec spec, int max, long nowMicros, long horizonMicros) {
        double interval = (double) spec.rateLimit().periodMicros() / spec.rateLimit().permits();
        double tolerance = interval * (spec.burst() - 1);
        double theoretical = Math.max(tat.getOrDefault(queue, (double) nowMicros), nowMicros);
        long[] slots = new long[max];
        int granted = 0;
        while (granted < max && theoretical - tolerance <= nowMicros + horizonMicros) {
            slots[granted++] = (long) Math.ceil(Math.max(nowMicros, theoretical - tolerance));
            theoretical += interval;
        }
        tat.put(queue, theoretical);
        long next = (long) Math.ceil(Math.max(nowMicros, theoretical - tolerance));
        return Acquisition.of(Acquisition.Outcome.OK, nowMicros, next, java.util.Arrays.copyOf(slots, granted));
    }

    /** Redis is back: its buckets are the truth again. */
    void clear() {
        tat.clear();
    }
}
