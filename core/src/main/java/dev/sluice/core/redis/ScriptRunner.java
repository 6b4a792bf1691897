package dev.sluice.core.redis;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisDataException;
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

    /**
     * Runs the script once per call, all calls in one pipeline (one round trip). A call that finds the
     * script unknown did nothing, so only those calls are repeated, after one load.
     *
     * @return each call's reply, in order
     */
    public List<Object> runAll(LuaScript script, List<List<String>> keys, List<List<String>> args) {
        if (keys.size() != args.size()) {
            throw new IllegalArgumentException("one argument list per key list: " + keys.size() + " and " + args.size());
        }
        List<Object> replies = new ArrayList<>(Collections.nCopies(keys.size(), null));
        List<Integer> pending = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            pending.add(i);
        }
        for (int round = 0; round < 2 && !pending.isEmpty(); round++) {
            List<Response<Object>> responses = new ArrayList<>();
            try (AbstractPipeline pipeline = redis.pipelined()) {
                for (int i : pending) {
                    responses.add(pipeline.evalsha(script.sha1(), keys.get(i), args.get(i)));
                }
                pipeline.sync();
            }
            List<Integer> unknownScript = new ArrayList<>();
            for (int k = 0; k < pending.size(); k++) {
                try {
                    replies.set(pending.get(k), responses.get(k).get());
                } catch (JedisDataException e) {
                    if (e instanceof JedisNoScriptException || String.valueOf(e.getMessage()).startsWith("NOSCRIPT")) {
                        unknownScript.add(pending.get(k));
                    } else {
                        throw e;
                    }
                }
            }
            if (!unknownScript.isEmpty()) {
                load(script);
            }
            pending = unknownScript;
        }
        if (!pending.isEmpty()) {
            throw new IllegalStateException("Redis lost script " + script.name() + " again right after loading it");
        }
        return replies;
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
