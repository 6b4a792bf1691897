package dev.sluice.core.redis;

import dev.sluice.core.QueueName;
import dev.sluice.core.RedisKeys;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import redis.clients.jedis.UnifiedJedis;

/**
 * The per-queue token buckets, kept in Redis and changed only by the Lua scripts
 * {@code acquire.lua} and read by {@code status.lua}, so that every gate instance shares one limit.
 *
 * <p>Each call is one atomic script run on Redis's clock. The rate and burst are read from the queue's
 * metadata in the same run, so an update applies to the next acquisition.
 *
 * <p>Thread-safe when the {@link UnifiedJedis} is.
 */
public final class TokenBucket {

    /** The most tokens one call may ask for; the script clamps to it as well. */
    public static final int MAX_BATCH = 10_000;
    /** The furthest ahead one call may reserve slots. */
    public static final Duration MAX_HORIZON = Duration.ofSeconds(1);
    /** The furthest ahead of Redis's clock a task's first possible start may be put. */
    public static final Duration MAX_LEAD = Duration.ofSeconds(10);

    private final ScriptRunner scripts;
    private final RedisKeys keys;
    private final String horizonMicros;

    /**
     * @param horizon how far ahead of now one call may reserve token slots; {@link Duration#ZERO} grants
     *     only tokens that are due now
     */
    public TokenBucket(UnifiedJedis redis, RedisKeys keys, Duration horizon) {
        this(new ScriptRunner(redis), keys, horizon);
    }

    public TokenBucket(ScriptRunner scripts, RedisKeys keys, Duration horizon) {
        this.scripts = Objects.requireNonNull(scripts, "scripts");
        this.keys = Objects.requireNonNull(keys, "keys");
        Objects.requireNonNull(horizon, "horizon");
        if (horizon.isNegative() || horizon.compareTo(MAX_HORIZON) > 0) {
            throw new IllegalArgumentException("the horizon must be between 0 and 1 s, got " + horizon);
        }
        this.horizonMicros = String.valueOf(horizon.toNanos() / 1_000);
    }

    /**
     * Takes up to {@code max} tokens.
     *
     * @param max 0 to {@value #MAX_BATCH}; 0 only asks when the next token is due
     */
    public Acquisition acquire(QueueName queue, int max) {
        return acquire(queue, max, horizonMicros);
    }

    /**
     * Takes up to {@code max} tokens, reserving slots up to {@code horizon} ahead (at most 1 s) instead
     * of the bucket's own horizon: a caller that is sometimes busy for longer than its horizon asks
     * further ahead so that it is never late for a slot.
     */
    public Acquisition acquire(QueueName queue, int max, Duration horizon) {
        if (horizon.isNegative() || horizon.compareTo(MAX_HORIZON) > 0) {
            throw new IllegalArgumentException("the horizon must be between 0 and 1 s, got " + horizon);
        }
        return acquire(queue, max, String.valueOf(horizon.toNanos() / 1_000));
    }

    /** One queue's part of {@link #acquireAll}. */
    public record Request(QueueName queue, int max) {
        public Request {
            java.util.Objects.requireNonNull(queue, "queue");
            checkMax(max);
        }
    }

    /**
     * Acquires for several queues in one round trip (a pipeline of independent script calls: each is
     * atomic on its own queue, as {@link #acquire} is), with slots no earlier than Redis's clock now.
     *
     * @return one acquisition per request, in order
     */
    public List<Acquisition> acquireAll(List<Request> requests, Duration horizon) {
        return acquireAll(requests, horizon, Duration.ZERO);
    }

    /**
     * As {@link #acquireAll(List, Duration)}, with every slot at least {@code lead} after Redis's clock
     * now: the time a released task needs to reach a worker before it may start.
     *
     * @param lead 0 to {@link #MAX_LEAD}
     */
    public List<Acquisition> acquireAll(List<Request> requests, Duration horizon, Duration lead) {
        if (horizon.isNegative() || horizon.compareTo(MAX_HORIZON) > 0) {
            throw new IllegalArgumentException("the horizon must be between 0 and 1 s, got " + horizon);
        }
        checkLead(lead);
        String horizonText = String.valueOf(horizon.toNanos() / 1_000);
        String leadText = String.valueOf(lead.toNanos() / 1_000);
        List<List<String>> keyLists = new java.util.ArrayList<>(requests.size());
        List<List<String>> argLists = new java.util.ArrayList<>(requests.size());
        for (Request request : requests) {
            keyLists.add(List.of(keys.meta(request.queue()), keys.bucket(request.queue())));
            argLists.add(List.of(String.valueOf(request.max()), horizonText, leadText));
        }
        List<Object> replies = scripts.runAll(LuaScript.ACQUIRE, keyLists, argLists);
        List<Acquisition> acquisitions = new java.util.ArrayList<>(replies.size());
        for (Object reply : replies) {
            acquisitions.add(parseAcquisition((List<?>) reply));
        }
        return acquisitions;
    }

    /** Checks a lead: between 0 and {@link #MAX_LEAD}. */
    public static void checkLead(Duration lead) {
        java.util.Objects.requireNonNull(lead, "lead");
        if (lead.isNegative() || lead.compareTo(MAX_LEAD) > 0) {
            throw new IllegalArgumentException("the start lead must be between 0 and " + MAX_LEAD.toMillis()
                    + " ms, got " + lead.toMillis() + " ms");
        }
    }

    private static void checkMax(int max) {
        if (max < 0 || max > MAX_BATCH) {
            throw new IllegalArgumentException("max must be between 0 and " + MAX_BATCH + ", got " + max);
        }
    }

    private Acquisition acquire(QueueName queue, int max, String horizonMicros) {
        checkMax(max);
        List<?> reply = (List<?>) scripts.run(LuaScript.ACQUIRE,
                List.of(keys.meta(queue), keys.bucket(queue)),
                List.of(String.valueOf(max), horizonMicros));
        return parseAcquisition(reply);
    }

    private static Acquisition parseAcquisition(List<?> reply) {
        Acquisition.Outcome outcome = switch ((int) number(reply, 0)) {
            case 0 -> Acquisition.Outcome.OK;
            case 1 -> Acquisition.Outcome.UNKNOWN_QUEUE;
            case 2 -> Acquisition.Outcome.INACTIVE;
            default -> throw new IllegalStateException("acquire.lua returned status " + reply.get(0));
        };
        int granted = (int) number(reply, 1);
        long[] slots = new long[granted];
        for (int i = 0; i < granted; i++) {
            slots[i] = number(reply, 5 + i);
        }
        return Acquisition.of(outcome, number(reply, 2), number(reply, 3), number(reply, 4), slots);
    }

    /**
     * Reads the bucket without taking a token.
     *
     * @throws UnknownQueueException when the queue does not exist
     */
    public BucketStatus status(QueueName queue) {
        BucketStatus status = parseStatus(queue, (List<?>) scripts.run(LuaScript.STATUS,
                List.of(keys.meta(queue), keys.bucket(queue)), List.of()));
        if (status == null) {
            throw new UnknownQueueException(queue);
        }
        return status;
    }

    /**
     * Reads many buckets in one pipeline (a listing of a thousand queues is one round trip).
     *
     * @return the status of every queue that exists, in the order given
     */
    public Map<QueueName, BucketStatus> statusAll(List<QueueName> queues) {
        List<List<String>> keyLists = new java.util.ArrayList<>(queues.size());
        List<List<String>> argLists = new java.util.ArrayList<>(queues.size());
        for (QueueName queue : queues) {
            keyLists.add(List.of(keys.meta(queue), keys.bucket(queue)));
            argLists.add(List.of());
        }
        List<Object> replies = scripts.runAll(LuaScript.STATUS, keyLists, argLists);
        Map<QueueName, BucketStatus> statuses = new java.util.LinkedHashMap<>();
        for (int i = 0; i < queues.size(); i++) {
            BucketStatus status = parseStatus(queues.get(i), (List<?>) replies.get(i));
            if (status != null) {
                statuses.put(queues.get(i), status);
            }
        }
        return statuses;
    }

    /** @return the status, or {@code null} for an unknown queue */
    private static BucketStatus parseStatus(QueueName queue, List<?> reply) {
        long status = number(reply, 0);
        if (status == 1) {
            return null;
        }
        long permits = number(reply, 3);
        long periodMicros = number(reply, 4);
        return new BucketStatus(queue, number(reply, 1), number(reply, 2),
                permits * 1_000_000.0 / periodMicros,
                Acquisition.toInstant(number(reply, 6)), Acquisition.toInstant(number(reply, 5)), status == 0);
    }

    private static long number(List<?> reply, int index) {
        return (Long) reply.get(index);
    }
}
