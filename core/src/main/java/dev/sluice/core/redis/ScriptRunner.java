package dev.sluice.core.redis;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisNoScriptException;

/**
 * Runs {@link LuaScript}s by SHA ({@code EVALSHA}), so only the 40-character digest travels on each
 * call. A script unknown to the server (first use, restart, {@code SCRIPT FLUSH}, failover) is loaded
 * once with {@code SCRIPT LOAD} and the call repeated.
 *
 * <p>Thread-safe when the {@link UnifiedJedis} is (a pooled client is).
 */
public final class ScriptRunner {

    private final UnifiedJedis redis;
    private final AtomicLong loads = new AtomicLong();

    public ScriptRunner(UnifiedJedis redis) {
        this.redis = Objects.requireNonNull(redis, "redis");
    }

    /** Runs the script; the keys must all belong to one queue (one hash slot). */
    public Object run(LuaScript script, List<String> keys, List<String> args) {
        try {
            return redis.evalsha(script.sha1(), keys, args);
        } catch (JedisNoScriptException notLoaded) {
            load(script);
            return redis.evalsha(script.sha1(), keys, args);
        }
    }

    private void load(LuaScript script) {
        String sha = redis.scriptLoad(script.source());
        loads.incrementAndGet();
        if (!script.sha1().equalsIgnoreCase(sha)) {
            throw new IllegalStateException("Redis returned SHA " + sha + " for script " + script.name()
                    + ", expected " + script.sha1());
        }
    }

    /** How many times a script was loaded into Redis: once per script unless Redis lost them. */
    public long loads() {
        return loads.get();
    }
}
