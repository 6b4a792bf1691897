package dev.sluice.gate;

import dev.sluice.core.QueueName;
import dev.sluice.core.QueueSpec;
import dev.sluice.core.StartGuard;
import dev.sluice.core.redis.Acquisition;
import java.util.HashMap;
import java.util.Map;

/**
 * The fail-open stand-in for the Redis buckets, used only while Redis is unreachable and only when the
 * gate was configured to fail open. Each gate instance keeps its own, so several instances together may
 * exceed a limit during an outage; and what was granted just before the outage is not known here. That
 * is the price of releasing without Redis, which is why the gate fails closed by default.
 *
 * <p>It is {@code acquire.lua} and {@code bucket.lua} line for line: the same integer schedule (a base
 * time and a token index, slot {@code j} at {@code base + floor(j * period / permits)} on the guarded
 * period), the same conversion when the rate changes, the same guard and start tolerance
 * ({@link StartGuard}). Given the same Redis times it grants the same slots to the microsecond;
 * {@code BucketContractIT} holds the two to that. (It once kept the time in a double, which at epoch
 * microseconds resolves a quarter of a microsecond and drifted from the script.)
 *
 * <p>Times are in Redis's microseconds as estimated by the caller. Not thread-safe: the gate's loop
 * thread owns it.
 */
final class LocalBuckets {

    /** A bucket as the script stores it: {@code base}, {@code j}, and the rate {@code n / p} they were made under. */
    private record State(long base, long j, long n, long p) {
    }

    private final Map<QueueName, State> buckets = new HashMap<>();

    /**
     * As acquire.lua: slots no earlier than {@code redisNowMicros + leadMicros}, reserved up to the
     * horizon beyond.
     *
     * @param redisNowMicros Redis's time as estimated by the caller
     */
    Acquisition acquire(QueueName queue, QueueSpec spec, int max, long redisNowMicros, long leadMicros,
                        long horizonMicros) {
        long n = spec.rateLimit().permits();
        long rawP = spec.rateLimit().periodMicros();
        long p = StartGuard.guardedPeriodMicros(rawP);
        long b = spec.burst();
        long now = redisNowMicros + leadMicros;

        long base;
        long j;
        State stored = buckets.get(queue);
        State loaded = stored == null ? null : load(stored, n, p, now);
        if (loaded == null) {
            base = now;
            j = 0;
        } else {
            base = loaded.base();
            j = loaded.j();
        }
        long limit = now + Math.max(horizonMicros, 0);
        long[] slots = new long[Math.max(max, 0)];
        int granted = 0;
        while (granted < max) {
            long at = slot(base, j - (b - 1), n, p);
            if (at > limit) {
                break;
            }
            slots[granted++] = Math.max(at, now);
            j++;
            if (j >= n) {
                base += p;
                j -= n;
            }
        }
        long next = Math.max(slot(base, j - (b - 1), n, p), now);
        if (granted > 0 || (loaded != null && (stored.n() != n || stored.p() != p))) {
            buckets.put(queue, new State(base, j, n, p));
        }
        return Acquisition.of(Acquisition.Outcome.OK, redisNowMicros, next, StartGuard.toleranceMicros(n, rawP),
                java.util.Arrays.copyOf(slots, granted));
    }

    /** Redis is back: its buckets are the truth again. */
    void clear() {
        buckets.clear();
    }

    /** bucket.lua's slot: token {@code j} of the period starting at {@code base}, exact in integers. */
    static long slot(long base, long j, long n, long p) {
        long periods = Math.floorDiv(j, n);
        long rem = j - periods * n;
        long q = p / n;
        long r = p - q * n;
        return base + periods * p + rem * q + Math.floorDiv(rem * r, n);
    }

    /**
     * bucket.lua's load_bucket: the stored state under the rate {@code n / p}, or null for an empty
     * bucket (its TAT has passed). A state made under another rate is converted as the script does, in
     * the same double arithmetic (Lua's numbers are doubles).
     */
    private static State load(State stored, long n, long p, long now) {
        long tat = slot(stored.base(), stored.j(), stored.n(), stored.p());
        if (tat <= now) {
            return null;
        }
        if (stored.n() != n || stored.p() != p) {
            long converted = now + (long) Math.ceil((double) (tat - now) * stored.n() / stored.p() * p / n);
            long afterLast = slot(stored.base(), stored.j() - 1, stored.n(), stored.p()) + (long) Math.ceil((double) p / n);
            return new State(Math.max(converted, afterLast), 0, n, p);
        }
        return stored;
    }
}
