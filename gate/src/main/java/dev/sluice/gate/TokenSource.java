package dev.sluice.gate;

import dev.sluice.core.QueueName;
import dev.sluice.core.QueueSpec;
import dev.sluice.core.redis.Acquisition;
import dev.sluice.core.redis.TokenBucket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.exceptions.JedisException;

/**
 * The gate's tokens: every lane whose time has come asks its bucket, all in one Redis round trip, and
 * gets its grants. While Redis is unreachable it is tried once per backoff (100 ms doubling to 2 s);
 * in between, failing closed (the default) grants nothing and has each lane ask again at the next try,
 * failing open grants from this process's own buckets ({@link LocalBuckets}) at each queue's last known
 * rate. When Redis answers again the stand-in's buckets are dropped and the caller told, to read the
 * registry again. Not thread-safe: the gate's loop thread owns it.
 */
final class TokenSource {

    /** The Redis buckets, as {@link TokenBucket#acquireAll(List, Duration, Duration)}. */
    @FunctionalInterface
    interface Buckets {
        List<Acquisition> acquireAll(List<TokenBucket.Request> requests, Duration horizon, Duration lead);
    }

    private static final Logger LOG = LoggerFactory.getLogger(TokenSource.class);

    private final Buckets buckets;
    private final boolean failOpen;
    private final Duration lead;
    private final long leadNanos;
    private final long horizonNanos;
    private final int maxBatch;
    private final GateMetrics metrics;
    private final Runnable redisBack;
    private final ClockSync clock = new ClockSync();
    private final LocalBuckets localBuckets = new LocalBuckets();
    private final Backoff redisBackoff;
    private boolean redisDown;
    private long redisRetryAtNanos;

    /**
     * @param horizonNanos the configured horizon, which fail-open grants use
     * @param redisBack called when Redis answers after it did not
     */
    TokenSource(Buckets buckets, boolean failOpen, Duration lead, long horizonNanos, int maxBatch, GateMetrics metrics,
                Runnable redisBack) {
        this(buckets, failOpen, lead, horizonNanos, maxBatch, metrics, redisBack,
                new Backoff(Duration.ofMillis(100), Duration.ofSeconds(2)));
    }

    TokenSource(Buckets buckets, boolean failOpen, Duration lead, long horizonNanos, int maxBatch, GateMetrics metrics,
                Runnable redisBack, Backoff redisBackoff) {
        this.redisBackoff = redisBackoff;
        this.buckets = buckets;
        this.failOpen = failOpen;
        this.lead = lead;
        this.leadNanos = lead.toNanos();
        this.horizonNanos = horizonNanos;
        this.maxBatch = maxBatch;
        this.metrics = metrics;
        this.redisBack = redisBack;
    }

    /**
     * Asks the buckets of every lane that wants tokens at {@code now}.
     *
     * @param horizonNanos how far ahead this call reserves (the configured horizon, or more when the loop is busy)
     * @param known each queue's spec as last read from the registry, or null for a queue not known: fail-open
     *     grants need it
     */
    void acquire(Collection<Lane> lanes, long now, long horizonNanos, Function<QueueName, QueueSpec> known) {
        List<Lane> asking = new ArrayList<>();
        List<TokenBucket.Request> requests = new ArrayList<>();
        for (Lane lane : lanes) {
            if (lane.wantsTokens(now)) {
                asking.add(lane);
                requests.add(new TokenBucket.Request(lane.queue(), Math.min(lane.waitingForTokens(), maxBatch)));
            }
        }
        if (asking.isEmpty()) {
            return;
        }
        if (redisDown && now < redisRetryAtNanos) {
            acquireLocallyOrWait(asking, requests, known);
            return;
        }
        long before = System.nanoTime();
        List<Acquisition> acquisitions;
        try {
            acquisitions = buckets.acquireAll(requests, Duration.ofNanos(horizonNanos), lead);
        } catch (JedisException e) {
            noteRedisDown(e);
            redisRetryAtNanos = System.nanoTime() + redisBackoff.nextDelayNanos();
            acquireLocallyOrWait(asking, requests, known);
            return;
        }
        long after = System.nanoTime();
        noteRedisUp();
        for (int i = 0; i < asking.size(); i++) {
            Lane lane = asking.get(i);
            Acquisition acquisition = acquisitions.get(i);
            if (i == 0) {
                // the first call of the pipeline ran about one call's share of the round trip in
                clock.observe(acquisition.nowMicros(), before, before + (after - before) / asking.size());
            }
            metrics.acquired(acquisition.granted());
            Lane.Status previous = lane.status();
            lane.onAcquired(acquisition, clock, after, leadNanos, horizonNanos);
            if (lane.status() != previous) {
                LOG.info("Queue {} is {}: {}", lane.queue(), lane.status().name().toLowerCase(),
                        lane.status() == Lane.Status.ACTIVE ? "releasing" : "releasing nothing");
            }
        }
    }

    /** Redis failed another call (reading the registry): noted, and the registry is read again once it answers. */
    void registryFailed(JedisException e) {
        noteRedisDown(e);
    }

    /** Whether Redis did not answer the last call. */
    boolean redisDown() {
        return redisDown;
    }

    private void acquireLocallyOrWait(List<Lane> asking, List<TokenBucket.Request> requests,
                                      Function<QueueName, QueueSpec> known) {
        for (int i = 0; i < asking.size(); i++) {
            Lane lane = asking.get(i);
            QueueSpec spec = known.apply(lane.queue());
            if (failOpen && spec != null) {
                acquireLocally(lane, spec, requests.get(i).max());
            } else {
                lane.retryAt(redisRetryAtNanos);
            }
        }
    }

    /** Fail open: grant from this process's own bucket at the queue's last known rate. */
    private void acquireLocally(Lane lane, QueueSpec spec, int want) {
        long now = System.nanoTime();
        if (!clock.known()) {
            clock.observe(System.currentTimeMillis() * 1_000, now, now);
        }
        Acquisition acquisition = localBuckets.acquire(lane.queue(), spec, want, clock.redisMicros(now),
                leadNanos / 1_000, horizonNanos / 1_000);
        metrics.acquired(acquisition.granted());
        lane.onAcquired(acquisition, clock, now, leadNanos, horizonNanos);
    }

    private void noteRedisDown(JedisException e) {
        if (!redisDown) {
            redisDown = true;
            if (failOpen) {
                LOG.warn("Redis unreachable; releasing at each queue's last known rate from this gate's own"
                        + " buckets until it is back (fail open): {}", e.getMessage());
            } else {
                LOG.warn("Redis unreachable; releasing nothing until it is back (fail closed): {}", e.getMessage());
            }
        }
    }

    private void noteRedisUp() {
        if (redisDown) {
            redisDown = false;
            LOG.info("Redis reachable again; releasing");
            localBuckets.clear();
            redisBack.run();
        }
        redisBackoff.reset();
    }
}
