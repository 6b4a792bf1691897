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
 * For a period longer than {@value #SECONDS_KEPT} s (1/3600s), each look also keeps the seconds with
 * releases of the last period in a hash of the queue's ({@code release-seconds}: a few entries for a slow
 * queue, at most one per second of the period), and the windows are summed over those. Several admin
 * services write the same maximum. The summary ({@code GET /queues/{name}/summary}) shows the larger of
 * it and the seconds at hand.
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

    /** The window, in whole seconds, the per-second counts are summed over for a limit. */
    static long windowSeconds(RateLimit limit) {
        return Math.max(1, (limit.period().toMillis() + 999) / 1000);
    }

    /**
     * The most releases in any run of the period's whole seconds among the last {@value #SECONDS_KEPT} up to
     * {@code nowSecond}; for a longer period, among the seconds of the last period that {@link #look} kept
     * ({@code keep}: those of the last {@value #SECONDS_KEPT} s are added to them first).
     */
    static Window lastSeconds(UnifiedJedis redis, SluiceConfig config, QueueName queue, RateLimit limit, int burst,
                              long nowSecond, boolean keep) {
        long seconds = windowSeconds(limit);
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
        java.util.TreeMap<Long, Long> counts = new java.util.TreeMap<>();
        for (int i = 0; i < SECONDS_KEPT; i++) {
            if (values.get(i) != null && Long.parseLong(values.get(i)) > 0) {
                counts.put(from + i, Long.parseLong(values.get(i)));
            }
        }
        if (seconds > SECONDS_KEPT) {
            // a window longer than the counts are kept: the seconds with releases of the last period, kept apart
            String kept = config.keys().releaseSeconds(queue);
            java.util.Map<String, String> held = redis.hgetAll(kept);
            List<String> gone = new java.util.ArrayList<>();
            held.forEach((second, count) -> {
                if (Long.parseLong(second) <= nowSecond - seconds) {
                    gone.add(second);
                } else {
                    counts.merge(Long.parseLong(second), Long.parseLong(count), Math::max);
                }
            });
            if (keep) {
                if (!gone.isEmpty()) {
                    redis.hdel(kept, gone.toArray(String[]::new));
                }
                java.util.Map<String, String> fresh = new java.util.HashMap<>();
                counts.forEach((second, count) -> {
                    if (second >= from) {
                        fresh.put(Long.toString(second), Long.toString(count));
                    }
                });
                if (!fresh.isEmpty()) {
                    redis.hset(kept, fresh);
                }
            }
        }
        // the busiest window ends at a second with releases: sum each one's window
        long most = 0;
        long sum = 0;
        java.util.ArrayDeque<java.util.Map.Entry<Long, Long>> window = new java.util.ArrayDeque<>();
        for (java.util.Map.Entry<Long, Long> second : counts.entrySet()) {
            window.addLast(second);
            sum += second.getValue();
            while (window.peekFirst().getKey() <= second.getKey() - seconds) {
                sum -= window.removeFirst().getValue();
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
                Window window = lastSeconds(redis, config, queue.name(), queue.spec().rateLimit(), queue.spec().burst(),
                        now, true);
                if (window.most() > 0) {
                    scripts.run(LuaScript.STATS_SET, List.of(config.keys().meta(queue.name()), config.keys().stats(queue.name())),
                            List.of("max", field(window.seconds()), Long.toString(window.most())));
                }
            }
        } catch (JedisException e) {
            LOG.warn("Busiest windows not looked at this time: Redis did not answer ({})", e.getMessage());
        }
    }
}
