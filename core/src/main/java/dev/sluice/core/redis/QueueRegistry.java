package dev.sluice.core.redis;

import dev.sluice.core.Queue;
import dev.sluice.core.QueueName;
import dev.sluice.core.QueueSpec;
import dev.sluice.core.QueueState;
import dev.sluice.core.RateLimit;
import dev.sluice.core.RedisKeys;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import redis.clients.jedis.UnifiedJedis;

/**
 * Queue metadata in Redis: one hash per queue ({@code sluice:{q}:meta}) plus the index set
 * {@code sluice:queues}.
 *
 * <p>Each change to a queue is one Lua call on that queue's keys only (Redis Cluster safe); the index
 * is a different slot and is therefore written separately: added to before the metadata is created
 * and removed from after it is deleted. A crash between the two leaves at worst an index entry
 * without metadata, which {@link #list()} skips, never a queue missing from the index. Every change
 * is announced on {@link RedisKeys#changesChannel()} with the queue name as the message, so that gates
 * and routers learn of it at once.
 *
 * <p>Thread-safe when the {@link UnifiedJedis} is.
 */
public final class QueueRegistry {

    static final String PERMITS = "permits";
    static final String PERIOD_US = "period_us";
    static final String BURST = "burst";
    static final String STATE = "state";
    static final String RATE_LIMIT = "rate_limit";
    static final String TTL_S = "ttl_s";
    static final String MAX_ATTEMPTS = "max_attempts";
    /** How long per-second release counts live (they expire after five minutes), with a margin. */
    private static final long PER_SECOND_KEPT_SECONDS = 360;
    static final String CREATED_AT_US = "created_at_us";
    static final String UPDATED_AT_US = "updated_at_us";

    private final UnifiedJedis redis;
    private final ScriptRunner scripts;
    private final RedisKeys keys;

    public QueueRegistry(UnifiedJedis redis, RedisKeys keys) {
        this(redis, new ScriptRunner(redis), keys);
    }

    public QueueRegistry(UnifiedJedis redis, ScriptRunner scripts, RedisKeys keys) {
        this.redis = Objects.requireNonNull(redis, "redis");
        this.scripts = Objects.requireNonNull(scripts, "scripts");
        this.keys = Objects.requireNonNull(keys, "keys");
    }

    /**
     * Creates an active queue.
     *
     * @throws QueueExistsException when a queue of that name exists
     */
    public Queue create(QueueName name, QueueSpec spec) {
        redis.sadd(keys.index(), name.value());
        List<String> fields = new ArrayList<>(rateFields(spec.rateLimit()));
        fields.addAll(List.of(
                BURST, String.valueOf(spec.burst()),
                TTL_S, String.valueOf(spec.idleTtl().toSeconds()),
                MAX_ATTEMPTS, String.valueOf(spec.maxAttempts()),
                STATE, QueueState.ACTIVE.wireName()));
        long created = (Long) scripts.run(LuaScript.QUEUE_CREATE, List.of(keys.meta(name)), fields);
        if (created == 0) {
            throw new QueueExistsException(name);
        }
        announce(name);
        return get(name);
    }

    public Optional<Queue> find(QueueName name) {
        Map<String, String> meta = redis.hgetAll(keys.meta(name));
        return meta.isEmpty() ? Optional.empty() : Optional.of(fromMeta(name, meta));
    }

    /** @throws UnknownQueueException when the queue does not exist */
    public Queue get(QueueName name) {
        return find(name).orElseThrow(() -> new UnknownQueueException(name));
    }

    /** The names in the index of queues (one Redis call; a removal cut short may leave one whose queue is gone). */
    public List<QueueName> names() {
        List<QueueName> names = new ArrayList<>();
        for (String member : redis.smembers(keys.index())) {
            try {
                names.add(QueueName.of(member));
            } catch (IllegalArgumentException foreign) {
                // not written by Sluice
            }
        }
        return names;
    }

    /**
     * Every queue, ordered by name: the index, then every queue's metadata pipelined, a thousand to a
     * round trip (one round trip per queue took a second and a half for 10,000 queues).
     */
    public List<Queue> list() {
        List<QueueName> names = names();
        List<Queue> queues = new ArrayList<>(names.size());
        for (int from = 0; from < names.size(); from += LIST_BATCH) {
            List<QueueName> batch = names.subList(from, Math.min(names.size(), from + LIST_BATCH));
            List<redis.clients.jedis.Response<Map<String, String>>> metas = new ArrayList<>(batch.size());
            try (redis.clients.jedis.AbstractPipeline pipeline = redis.pipelined()) {
                for (QueueName name : batch) {
                    metas.add(pipeline.hgetAll(keys.meta(name)));
                }
                pipeline.sync();
            }
            for (int i = 0; i < batch.size(); i++) {
                Map<String, String> meta = metas.get(i).get();
                if (!meta.isEmpty()) { // an index entry left by a removal cut short
                    queues.add(fromMeta(batch.get(i), meta));
                }
            }
        }
        queues.sort(Comparator.comparing(Queue::name));
        return queues;
    }

    private static final int LIST_BATCH = 1_000;

    /** Changes the rate; the next acquisition uses it. */
    public Queue updateRateLimit(QueueName name, RateLimit rateLimit) {
        return update(name, rateFields(rateLimit));
    }

    /** Changes the burst; the next acquisition uses it. */
    public Queue updateBurst(QueueName name, int burst) {
        QueueSpec.requireValidBurst(burst);
        return update(name, List.of(BURST, String.valueOf(burst)));
    }

    /** Changes the idle TTL (zero: never reaped). */
    public Queue updateIdleTtl(QueueName name, Duration idleTtl) {
        QueueSpec.requireValidIdleTtl(idleTtl);
        return update(name, List.of(TTL_S, String.valueOf(idleTtl.toSeconds())));
    }

    /** Changes how many times a task of the queue is tried; tasks released from now on carry it. */
    public Queue updateMaxAttempts(QueueName name, int maxAttempts) {
        QueueSpec.requireValidMaxAttempts(maxAttempts);
        return update(name, List.of(MAX_ATTEMPTS, String.valueOf(maxAttempts)));
    }

    /** Activates or deactivates; an inactive queue is granted no tokens. Idempotent. */
    public Queue setState(QueueName name, QueueState state) {
        return update(name, List.of(STATE, state.wireName()));
    }

    /**
     * Removes the queue's metadata, bucket, statistics, dead-letter index and per-second release counts
     * (those of the last six minutes: older ones have expired, and the seconds kept for a long period),
     * then its index entry.
     *
     * @return whether the queue existed
     */
    public boolean remove(QueueName name) {
        List<String> queueKeys = new ArrayList<>(List.of(keys.meta(name), keys.bucket(name), keys.stats(name),
                keys.deadListed(name), keys.deadTaken(name), keys.deadState(name), keys.releaseSeconds(name)));
        // named by the events' own times (gate slots, worker clocks), so this clock is as good as any
        long nowSecond = System.currentTimeMillis() / 1000;
        for (long second = nowSecond - PER_SECOND_KEPT_SECONDS; second <= nowSecond + 5; second++) {
            queueKeys.add(keys.releasedInSecond(name, second));
        }
        long existed = (Long) scripts.run(LuaScript.QUEUE_DELETE, queueKeys, List.of());
        redis.srem(keys.index(), name.value());
        if (existed == 1) {
            announce(name);
        }
        return existed == 1;
    }

    private Queue update(QueueName name, List<String> fields) {
        long updated = (Long) scripts.run(LuaScript.QUEUE_UPDATE, List.of(keys.meta(name)), fields);
        if (updated == 0) {
            throw new UnknownQueueException(name);
        }
        announce(name);
        return get(name);
    }

    private void announce(QueueName name) {
        redis.publish(keys.changesChannel(), name.value());
    }

    private static List<String> rateFields(RateLimit rateLimit) {
        return List.of(
                PERMITS, String.valueOf(rateLimit.permits()),
                PERIOD_US, String.valueOf(rateLimit.periodMicros()),
                RATE_LIMIT, rateLimit.format());
    }

    private static Queue fromMeta(QueueName name, Map<String, String> meta) {
        try {
            RateLimit rate = RateLimit.of(Long.parseLong(meta.get(PERMITS)),
                    Duration.ofNanos(Long.parseLong(meta.get(PERIOD_US)) * 1_000));
            String maxAttempts = meta.get(MAX_ATTEMPTS);
            QueueSpec spec = new QueueSpec(rate, Integer.parseInt(meta.get(BURST)),
                    Duration.ofSeconds(Long.parseLong(meta.get(TTL_S))),
                    maxAttempts == null ? QueueSpec.DEFAULT_MAX_ATTEMPTS : Integer.parseInt(maxAttempts));
            return new Queue(name, spec, QueueState.fromWireName(meta.get(STATE)),
                    Acquisition.toInstant(Long.parseLong(meta.get(CREATED_AT_US))),
                    Acquisition.toInstant(Long.parseLong(meta.get(UPDATED_AT_US))));
        } catch (RuntimeException e) {
            throw new IllegalStateException("the metadata of queue \"" + name + "\" is damaged: " + meta, e);
        }
    }
}
