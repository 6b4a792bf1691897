package dev.sluice.admin;

import dev.sluice.core.Queue;
import dev.sluice.core.QueueName;
import dev.sluice.core.RateLimit;
import dev.sluice.core.SluiceConfig;
import dev.sluice.core.redis.LuaScript;
import dev.sluice.core.redis.QueueRegistry;
import dev.sluice.core.redis.ScriptRunner;
import dev.sluice.ingest.RedisStatsSink;
import io.micronaut.context.annotation.Requires;
import io.micronaut.scheduling.annotation.Scheduled;
import jakarta.inject.Singleton;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisException;

/**
 * The most releases a queue had in any window of its period, over its whole life and not only over the
 * {@value #SECONDS_KEPT} s of per-second release counts the statistics keep: every
 * {@code sluice.busiest-windows.interval} (30 s), for each queue that released in the last
 * {@value #SECONDS_KEPT} s, the busiest window among those seconds goes into its statistics as a maximum
 * ({@link #field}). A window of up to {@value #SECONDS_KEPT} s less the interval (270 s) lies whole in
 * one look, so none is missed while the admin service runs; windows while it did not run are not seen.
 * Several admin services write the same maximum. The summary ({@code GET /queues/{name}/summary}) shows
 * the larger of it and the last {@value #SECONDS_KEPT} s.
 */
@Singleton
@Requires(property = "sluice.busiest-windows.enabled", notEquals = "false")
final class BusiestWindows {

    private static final Logger LOG = LoggerFactory.getLogger(BusiestWindows.class);
    /** The per-second release counts the statistics keep. */
    static final int SECONDS_KEPT = 300;

    /** The busiest window: {@code most} releases in {@code seconds} s, where the limit allows {@code allowed}. */
    record Window(long most, long seconds, long allowed) {
    }

    private final QueueRegistry registry;
    private final QueueViews views;
    private final SluiceConfig config;
    private final UnifiedJedis redis;
    private final ScriptRunner scripts;

    BusiestWindows(QueueRegistry registry, QueueViews views, SluiceConfig config, UnifiedJedis redis) {
        this.registry = registry;
        this.views = views;
        this.config = config;
        this.redis = redis;
        this.scripts = new ScriptRunner(redis);
    }

    /** The statistics field that keeps the busiest window of {@code seconds} s seen. */
    static String field(long seconds) {
        return "busiest_window_" + seconds + "s";
    }

    /** The window, in whole seconds, the per-second counts are summed over for a limit; null beyond what is kept. */
    static Long windowSeconds(RateLimit limit) {
        long seconds = Math.max(1, (limit.period().toMillis() + 999) / 1000);
        return seconds > SECONDS_KEPT ? null : seconds;
    }

    /**
     * The most releases in any run of the period's whole seconds among the last {@value #SECONDS_KEPT} up to
     * {@code nowSecond}; null for a period longer than that.
     */
    static Window lastSeconds(UnifiedJedis redis, SluiceConfig config, QueueName queue, RateLimit limit, int burst,
                              long nowSecond) {
        Long windowSeconds = windowSeconds(limit);
        if (windowSeconds == null) {
            return null;
        }
        long seconds = windowSeconds;
        long periodMillis = limit.period().toMillis();
        // a period under a second is counted per second: what the limit allows in one
        long allowed = seconds * 1000 == periodMillis
                ? limit.permits() + burst - 1
                : (long) Math.floor(limit.permits() * (seconds * 1000.0 / periodMillis)) + burst - 1;
        long from = nowSecond - SECONDS_KEPT + 1;
        String[] keys = new String[SECONDS_KEPT];
        for (int i = 0; i < SECONDS_KEPT; i++) {
            keys[i] = config.keys().releasedInSecond(queue, from + i);
        }
        List<String> values = redis.mget(keys);
        long most = 0;
        long sum = 0;
        long[] counts = new long[SECONDS_KEPT];
        for (int i = 0; i < SECONDS_KEPT; i++) {
            counts[i] = values.get(i) == null ? 0 : Long.parseLong(values.get(i));
            sum += counts[i];
            if (i >= seconds) {
                sum -= counts[(int) (i - seconds)];
            }
            most = Math.max(most, sum);
        }
        return new Window(most, seconds, allowed);
    }

    /** Redis's clock, in whole seconds: the clock of the per-second keys. */
    static long redisSecond(UnifiedJedis redis) {
        List<?> time = (List<?>) redis.sendCommand(Protocol.Command.TIME);
        Object seconds = time.get(0);
        return Long.parseLong(seconds instanceof byte[] bytes ? new String(bytes, StandardCharsets.UTF_8) : seconds.toString());
    }

    @Scheduled(fixedDelay = "${sluice.busiest-windows.interval:30s}", initialDelay = "${sluice.busiest-windows.interval:30s}")
    void look() {
        try {
            long now = redisSecond(redis);
            List<Queue> queues = registry.list();
            Map<QueueName, Map<String, String>> totals = views.totals(queues.stream().map(Queue::name).toList());
            for (Queue queue : queues) {
                String last = totals.getOrDefault(queue.name(), Map.of()).get(RedisStatsSink.LAST_RELEASE_SECOND);
                if (last == null || Long.parseLong(last) < now - SECONDS_KEPT) {
                    continue; // nothing released in the seconds kept: nothing new to see
                }
                Window window = lastSeconds(redis, config, queue.name(), queue.spec().rateLimit(), queue.spec().burst(), now);
                if (window != null && window.most() > 0) {
                    scripts.run(LuaScript.STATS_SET, List.of(config.keys().meta(queue.name()), config.keys().stats(queue.name())),
                            List.of("max", field(window.seconds()), Long.toString(window.most())));
                }
            }
        } catch (JedisException e) {
            LOG.warn("Busiest windows not looked at this time: Redis did not answer ({})", e.getMessage());
        }
    }
}
