package dev.sluice.admin;

import dev.sluice.core.Queue;
import dev.sluice.core.QueueName;
import dev.sluice.core.SluiceConfig;
import dev.sluice.core.redis.QueueRegistry;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.serde.annotation.Serdeable;
import java.util.ArrayList;
import java.util.List;
import redis.clients.jedis.UnifiedJedis;

/**
 * {@code GET /queues/{name}/releases?seconds=60}: how many tasks the gate released in each of the last
 * seconds (the statistics keep five minutes), next to the limit: what the dashboard's chart draws.
 */
@Controller("/queues")
@ExecuteOn(TaskExecutors.BLOCKING)
final class ReleasesController {

    /**
     * Releases per second, oldest first; {@code limitPerSecond} = permits / period. The limit's terms too,
     * so that a chart can count releases in windows of the period ({@code periodMillis}) against
     * {@code permits} + {@code burst} − 1, which is what the limit promises.
     */
    @Serdeable
    record Releases(String queue, String rateLimit, double limitPerSecond, long permits, long periodMillis, int burst,
                    long fromSecond, List<Long> counts) {
    }

    private static final int MAX_SECONDS = 300;

    private final QueueRegistry registry;
    private final UnifiedJedis redis;
    private final SluiceConfig config;
    private final dev.sluice.core.redis.TokenBucket bucket;

    ReleasesController(QueueRegistry registry, UnifiedJedis redis, SluiceConfig config,
                       dev.sluice.core.redis.TokenBucket bucket) {
        this.registry = registry;
        this.bucket = bucket;
        this.redis = redis;
        this.config = config;
    }

    @Get("/{name}/releases")
    Releases releases(@PathVariable String name, @QueryValue(defaultValue = "60") int seconds) {
        if (seconds < 1 || seconds > MAX_SECONDS) {
            throw new IllegalArgumentException("seconds must be between 1 and " + MAX_SECONDS + ", got " + seconds);
        }
        QueueName queueName = QueueName.of(name);
        Queue queue = registry.get(queueName);
        long now = bucket.status(queueName).now().getEpochSecond(); // Redis's clock, as the statistics use
        long from = now - seconds + 1;
        String[] keys = new String[seconds];
        for (int i = 0; i < seconds; i++) {
            keys[i] = config.keys().releasedInSecond(queueName, from + i);
        }
        List<Long> counts = new ArrayList<>(seconds);
        for (String value : redis.mget(keys)) {
            counts.add(value == null ? 0 : Long.parseLong(value));
        }
        return new Releases(queueName.value(), queue.spec().rateLimit().format(), queue.spec().rateLimit().perSecond(),
                queue.spec().rateLimit().permits(), queue.spec().rateLimit().period().toMillis(), queue.spec().burst(),
                from, counts);
    }
}
