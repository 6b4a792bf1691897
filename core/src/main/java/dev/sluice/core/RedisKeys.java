package dev.sluice.core;

import java.util.regex.Pattern;

/**
 * Redis key names. Every key of one queue carries the queue name as a hash tag
 * ({@code sluice:{<queue>}:meta}) so that all of them live in one Redis Cluster slot and one Lua
 * call may touch them together.
 */
public record RedisKeys(String prefix) {

    public static final String DEFAULT_PREFIX = "sluice";
    private static final Pattern LEGAL = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    public RedisKeys {
        if (prefix == null || !LEGAL.matcher(prefix).matches()) {
            throw new IllegalArgumentException("invalid Redis key prefix \"" + prefix
                    + "\": use 1 to 64 letters, digits, '.', '_' or '-'");
        }
    }

    public static RedisKeys defaults() {
        return new RedisKeys(DEFAULT_PREFIX);
    }

    /** The queue's metadata hash: rate, burst, state, TTL, timestamps. */
    public String meta(QueueName queue) {
        return queueKey(queue, "meta");
    }

    /** The queue's token bucket state (owned by the Lua scripts). */
    public String bucket(QueueName queue) {
        return queueKey(queue, "bucket");
    }

    /** The queue's statistics hash. */
    public String stats(QueueName queue) {
        return queueKey(queue, "stats");
    }

    /** Releases of the queue in one second (epoch seconds); each such key expires after five minutes. */
    public String releasedInSecond(QueueName queue, long epochSecond) {
        return queueKey(queue, "released:" + epochSecond);
    }

    /**
     * For a queue whose period is longer than the per-second counts are kept: the seconds with releases
     * in the last period and their counts (a hash, second to count), kept by the admin service.
     */
    public String releaseSeconds(QueueName queue) {
        return queueKey(queue, "release-seconds");
    }

    /** The queue's listed dead letters: their offsets in the dead-letter topic (a sorted set). */
    public String deadListed(QueueName queue) {
        return queueKey(queue, "dead:listed");
    }

    /** The queue's dead letters replayed or purged one by one, never listed again (a sorted set). */
    public String deadTaken(QueueName queue) {
        return queueKey(queue, "dead:taken");
    }

    /** The queue's dead-letter state: the offset below which none is listed again. */
    public String deadState(QueueName queue) {
        return queueKey(queue, "dead:state");
    }

    /** How far the dead-letter topic has been indexed: a hash of partition to the next offset to read. */
    public String deadIndexed() {
        return prefix + ":dead-indexed";
    }

    /** The set of all queue names. */
    public String index() {
        return prefix + ":queues";
    }

    /** The pub/sub channel on which every queue change is announced (the message is the queue name). */
    public String changesChannel() {
        return prefix + ":changes";
    }

    private String queueKey(QueueName queue, String kind) {
        return prefix + ":{" + queue.value() + "}:" + kind;
    }
}
