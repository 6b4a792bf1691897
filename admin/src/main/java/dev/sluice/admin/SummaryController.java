package dev.sluice.admin;

import dev.sluice.core.QueueName;
import dev.sluice.core.RateLimit;
import dev.sluice.core.SluiceConfig;
import dev.sluice.core.TaskEvent;
import dev.sluice.core.redis.DeadLetterIndex;
import dev.sluice.ingest.RedisStatsSink;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.serde.annotation.Serdeable;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import redis.clients.jedis.UnifiedJedis;

/**
 * {@code GET /queues/{name}/summary}: is the queue's work done, and how did it go: what
 * {@code sluice queues wait} prints.
 */
@Controller("/queues")
@ExecuteOn(TaskExecutors.BLOCKING)
final class SummaryController {

    /**
     * @param done nothing waits, runs, or waits out a retry's backoff: every task released on its first
     *             attempt has completed or died ({@code completed + dead >= firstReleases}), and
     *             at least one was released
     * @param tasks tasks released on their first attempt (a retry or a task sent back through the limit is
     *              not counted again; a replayed dead letter is)
     * @param deadNow tasks that ended dead and were neither replayed nor purged since
     * @param deadListed dead letters listed now ({@code sluice dead list}); lags {@code deadNow} by the
     *                   indexer's read of the dead-letter topic
     * @param window the most releases seen in any window of the limit's period, in whole seconds, since the
     *               first release while an admin service ran ({@link BusiestWindows})
     */
    @Serdeable
    record Summary(String queue, String rateLimit, int burst, String state, boolean done, @Nullable Long waiting,
                   long processing, long tasks, long released, long completed, long failed, long retried, long dead,
                   long requeued, long deadNow, long deadListed, @Nullable Instant firstReleaseAt, @Nullable Instant lastReleaseAt,
                   @Nullable Long durationSeconds, @Nullable Window window) {
    }

    /** The busiest window seen: {@code most} releases in {@code seconds} s, where the limit allows {@code allowed}. */
    @Serdeable
    record Window(long most, long seconds, long allowed, long overSeconds) {
    }

    private final QueueViews views;
    private final UnifiedJedis redis;
    private final SluiceConfig config;
    private final dev.sluice.core.redis.TokenBucket bucket;
    private final DeadLetterIndex deadLetters;

    SummaryController(QueueViews views, UnifiedJedis redis, SluiceConfig config, dev.sluice.core.redis.TokenBucket bucket,
                      DeadLetterIndex deadLetters) {
        this.views = views;
        this.redis = redis;
        this.config = config;
        this.bucket = bucket;
        this.deadLetters = deadLetters;
    }

    @Get("/{name}/summary")
    @ApiResponse(responseCode = "200", description = "whether the queue's work is done, its totals, first and last release, busiest window")
    @ApiResponse(responseCode = "404", description = "unknown queue")
    Summary summary(@PathVariable String name) {
        QueueName queue = QueueName.of(name);
        QueueView view = views.one(queue);
        Map<String, String> totals = views.totals(List.of(queue)).getOrDefault(queue, Map.of());
        QueueStats stats = view.stats();
        long tasks = QueueStats.firstReleases(totals);
        long retried = number(totals, TaskEvent.Type.retried.name());
        Long first = totals.containsKey(RedisStatsSink.FIRST_RELEASE_SECOND)
                ? number(totals, RedisStatsSink.FIRST_RELEASE_SECOND) : null;
        Long last = totals.containsKey(RedisStatsSink.LAST_RELEASE_SECOND)
                ? number(totals, RedisStatsSink.LAST_RELEASE_SECOND) : null;
        boolean done = QueueStats.done(stats.waiting(), totals);
        return new Summary(queue.value(), view.rateLimit(), view.burst(), view.state(), done, stats.waiting(),
                stats.processing(), tasks, stats.released(), stats.completed(), stats.failed(), retried, stats.dead(),
                stats.requeued(), Math.max(0, stats.dead() - deadLetters.taken(queue)), deadLetters.count(queue),
                first == null ? null : Instant.ofEpochSecond(first),
                last == null ? null : Instant.ofEpochSecond(last + 1), // the end of the last second with a release
                first == null || last == null ? null : last + 1 - first,
                window(queue, RateLimit.parse(view.rateLimit()), view.burst(), totals, first));
    }

    /**
     * The busiest window: the larger of the last {@value BusiestWindows#SECONDS_KEPT} s and what
     * {@link BusiestWindows} kept of the seconds before; {@code overSeconds} is how far back that reaches
     * (from the first release, when it kept any).
     */
    private Window window(QueueName queue, RateLimit limit, int burst, Map<String, String> totals, Long firstSecond) {
        long now = bucket.status(queue).now().getEpochSecond();
        BusiestWindows.Window last = BusiestWindows.lastSeconds(redis, config, queue, limit, burst, now, false);
        String kept = totals.get(BusiestWindows.field(last.seconds()));
        if (kept == null || firstSecond == null) {
            return new Window(last.most(), last.seconds(), last.allowed(), BusiestWindows.SECONDS_KEPT);
        }
        return new Window(Math.max(last.most(), Long.parseLong(kept)), last.seconds(), last.allowed(),
                Math.max(Math.max(BusiestWindows.SECONDS_KEPT, last.seconds()), now + 1 - firstSecond));
    }

    private static long number(Map<String, String> totals, String field) {
        String value = totals.get(field);
        return value == null ? 0 : Long.parseLong(value);
    }
}
