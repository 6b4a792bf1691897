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
 * (field = event type), releases per second as {@code sluice:{q}:released:<epoch second>} keys that
 * expire after five minutes. Only while the queue exists. Thread-safe when the client is.
 */
public final class RedisStatsSink implements StatsSink {

    static final long PER_SECOND_TTL_MILLIS = 5 * 60 * 1000;

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
    }
}
