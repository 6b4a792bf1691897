package dev.sluice.ingest;

import dev.sluice.core.QueueName;
import dev.sluice.core.RedisKeys;
import dev.sluice.core.TaskEvent;
import dev.sluice.core.redis.LuaScript;
import dev.sluice.core.redis.ScriptRunner;
import java.util.List;
import redis.clients.jedis.UnifiedJedis;

/**
 * Writes statistics where the admin service reads them: totals as fields of {@code sluice:{q}:stats}
 * (field = event type, and {@value #FIRST_RELEASES}), releases per second as
 * {@code sluice:{q}:released:<epoch second>} keys that expire after five minutes, and the first and last
 * second with a release ({@value #FIRST_RELEASE_SECOND}, {@value #LAST_RELEASE_SECOND}). Only while the
 * queue exists. Thread-safe when the client is.
 */
public final class RedisStatsSink implements StatsSink {

    static final long PER_SECOND_TTL_MILLIS = 5 * 60 * 1000;
    /** Stats hash fields: releases of tasks' first attempts, the first and last second with a release. */
    public static final String FIRST_RELEASES = "first_releases";
    public static final String FIRST_RELEASE_SECOND = "first_release_second";
    public static final String LAST_RELEASE_SECOND = "last_release_second";

    private final ScriptRunner scripts;
    private final RedisKeys keys;

    public RedisStatsSink(UnifiedJedis redis, RedisKeys keys) {
        this.scripts = new ScriptRunner(redis);
        this.keys = keys;
    }

    @Override
    public void total(QueueName queue, TaskEvent.Type type, long total) {
        scripts.run(LuaScript.STATS_SET, List.of(keys.meta(queue), keys.stats(queue)),
                List.of("field", type.name(), Long.toString(total)));
    }

    @Override
    public void releasedInSecond(QueueName queue, long secondStartMillis, long count) {
        scripts.run(LuaScript.STATS_SET, List.of(keys.meta(queue), keys.releasedInSecond(queue, secondStartMillis / 1000)),
                List.of("value", Long.toString(PER_SECOND_TTL_MILLIS), Long.toString(count)));
        if (count > 0) {
            String second = Long.toString(Math.floorDiv(secondStartMillis, 1000));
            scripts.runAll(LuaScript.STATS_SET, List.of(List.of(keys.meta(queue), keys.stats(queue)),
                    List.of(keys.meta(queue), keys.stats(queue))), List.of(List.of("min", FIRST_RELEASE_SECOND, second),
                    List.of("max", LAST_RELEASE_SECOND, second)));
        }
    }

    @Override
    public void firstReleases(QueueName queue, long total) {
        scripts.run(LuaScript.STATS_SET, List.of(keys.meta(queue), keys.stats(queue)),
                List.of("field", FIRST_RELEASES, Long.toString(total)));
    }
}
