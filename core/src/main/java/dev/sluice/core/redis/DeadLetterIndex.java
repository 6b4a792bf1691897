package dev.sluice.core.redis;

import dev.sluice.core.QueueName;
import dev.sluice.core.RedisKeys;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import redis.clients.jedis.UnifiedJedis;

/**
 * Which records of the dead-letter topic belong to which queue and are still listed: per queue a
 * sorted set of offsets (partition 0; the topic has one), written by the admin service's indexer as it
 * reads the topic, read a page at a time by the listing, and taken from by replay and purge. The
 * records themselves stay in Kafka: Redis holds about 60 bytes per dead letter.
 *
 * <p>A record is taken at most once: a replay or a purge takes its offset in one Lua call, which keeps it
 * out of the listing for good (an offset taken one by one is remembered; taking the lowest raises a floor
 * below which nothing is listed again), so a request repeated, or two at once, replays it once.
 */
public final class DeadLetterIndex {

    private final UnifiedJedis redis;
    private final ScriptRunner scripts;
    private final RedisKeys keys;

    public DeadLetterIndex(UnifiedJedis redis, RedisKeys keys) {
        this.redis = Objects.requireNonNull(redis, "redis");
        this.scripts = new ScriptRunner(redis);
        this.keys = Objects.requireNonNull(keys, "keys");
    }

    /** Lists the queue's dead letters at these offsets, unless taken before or the queue is gone; returns how many were new. */
    public long index(QueueName queue, Collection<Long> offsets) {
        if (offsets.isEmpty()) {
            return 0;
        }
        return (Long) run(queue, "index", offsets.stream().map(String::valueOf).toList());
    }

    /** {@link #index} for several queues in one pipeline (one round trip; a cluster splits it by node). */
    public void indexAll(java.util.Map<QueueName, ? extends Collection<Long>> offsetsByQueue) {
        List<List<String>> keyLists = new ArrayList<>();
        List<List<String>> argLists = new ArrayList<>();
        offsetsByQueue.forEach((queue, offsets) -> {
            if (!offsets.isEmpty()) {
                keyLists.add(keys(queue));
                List<String> args = new ArrayList<>(offsets.size() + 1);
                args.add("index");
                offsets.forEach(offset -> args.add(String.valueOf(offset)));
                argLists.add(args);
            }
        });
        if (!keyLists.isEmpty()) {
            scripts.runAll(LuaScript.DEAD_LETTERS, keyLists, argLists);
        }
    }

    /** Takes those of the offsets that are listed; returns them. Each offset is taken at most once. */
    public List<Long> take(QueueName queue, Collection<Long> offsets) {
        if (offsets.isEmpty()) {
            return List.of();
        }
        return offsets(run(queue, "take", offsets.stream().map(String::valueOf).toList()));
    }

    /** Takes the lowest {@code count} listed offsets, lowest first; none below them is listed again. */
    public List<Long> takeLowest(QueueName queue, int count) {
        if (count < 1) {
            throw new IllegalArgumentException("count must be at least 1, got " + count);
        }
        return offsets(run(queue, "take-lowest", List.of(Integer.toString(count))));
    }

    /** Lists offsets taken again: their replay was not written. */
    public void giveBack(QueueName queue, Collection<Long> offsets) {
        if (!offsets.isEmpty()) {
            run(queue, "give-back", offsets.stream().map(String::valueOf).toList());
        }
    }

    /** How many of the queue's dead letters were taken (replayed or purged) and not given back. */
    public long taken(QueueName queue) {
        String taken = redis.hget(keys.deadState(queue), "taken");
        return taken == null ? 0 : Long.parseLong(taken);
    }

    /** How many of the queue's dead letters are listed. */
    public long count(QueueName queue) {
        return redis.zcard(keys.deadListed(queue));
    }

    /** Up to {@code limit} listed offsets below {@code before} (all when null), newest first. */
    public List<Long> newestBefore(QueueName queue, Long before, int limit) {
        String max = before == null ? "+inf" : "(" + before;
        return redis.zrevrangeByScore(keys.deadListed(queue), max, "-inf", 0, limit).stream()
                .map(Long::parseLong).toList();
    }

    /** The next offset of the partition to index, if any was recorded. */
    public OptionalLong indexedUpTo(int partition) {
        String next = redis.hget(keys.deadIndexed(), Integer.toString(partition));
        return next == null ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(next));
    }

    /** Records that the partition is indexed up to (not including) {@code next}. */
    public void indexedUpTo(int partition, long next) {
        redis.hset(keys.deadIndexed(), Integer.toString(partition), Long.toString(next));
    }

    private Object run(QueueName queue, String mode, List<String> offsets) {
        List<String> args = new ArrayList<>(offsets.size() + 1);
        args.add(mode);
        args.addAll(offsets);
        return scripts.run(LuaScript.DEAD_LETTERS, keys(queue), args);
    }

    private List<String> keys(QueueName queue) {
        return List.of(keys.meta(queue), keys.deadListed(queue), keys.deadTaken(queue), keys.deadState(queue));
    }

    private static List<Long> offsets(Object reply) {
        List<Long> offsets = new ArrayList<>();
        for (Object each : (List<?>) reply) {
            offsets.add(Long.parseLong(each instanceof byte[] bytes
                    ? new String(bytes, java.nio.charset.StandardCharsets.UTF_8) : each.toString()));
        }
        return offsets;
    }
}
