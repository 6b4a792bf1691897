package dev.sluice.gate;

import dev.sluice.core.QueueName;
import dev.sluice.core.QueueSpec;
import dev.sluice.core.StartGuard;
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
 * look exactly like the script's: the same guarded schedule and start tolerance ({@link StartGuard}).
 * Not thread-safe: the gate's loop thread owns it.
 */
final class LocalBuckets {

    /** Theoretical arrival time per queue, in microseconds; fractional intervals kept in a double. */
    private final Map<QueueName, Double> tat = new HashMap<>();

    /**
     * As acquire.lua: slots no earlier than {@code redisNowMicros + leadMicros}, reserved up to the
     * horizon beyond.
     *
     * @param redisNowMicros Redis's time as estimated by the caller
     */
    Acquisition acquire(QueueName queue, QueueSpec spec, int max, long redisNowMicros, long leadMicros,
                        long horizonMicros) {
        long start = redisNowMicros + leadMicros;
        long period = spec.rateLimit().periodMicros();
        double interval = (double) StartGuard.guardedPeriodMicros(period) / spec.rateLimit().permits();
        double burstAllowance = interval * (spec.burst() - 1);
        double theoretical = Math.max(tat.getOrDefault(queue, (double) start), start);
        long[] slots = new long[max];
        int granted = 0;
        while (granted < max && theoretical - burstAllowance <= start + horizonMicros) {
            slots[granted++] = (long) Math.ceil(Math.max(start, theoretical - burstAllowance));
            theoretical += interval;
        }
        tat.put(queue, theoretical);
        long next = (long) Math.ceil(Math.max(start, theoretical - burstAllowance));
        return Acquisition.of(Acquisition.Outcome.OK, redisNowMicros, next,
                StartGuard.toleranceMicros(spec.rateLimit().permits(), period), java.util.Arrays.copyOf(slots, granted));
    }

    /** Redis is back: its buckets are the truth again. */
    void clear() {
        tat.clear();
    }
}
