package dev.sluice.admin;

import dev.sluice.core.DrainForecast;
import dev.sluice.core.Queue;
import dev.sluice.core.redis.BucketStatus;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;
import java.time.Duration;
import java.time.Instant;

/**
 * A queue as the API shows it.
 *
 * @param stats its figures
 * @param drainsAt when its backlog will have been released at the current limit; {@code null} while
 *                 paused with a backlog, or when the backlog is unknown (Kafka did not answer)
 * @param drainSeconds the same as seconds from now
 */
@Serdeable
public record QueueView(String name, String rateLimit, int burst, long ttlSeconds, int maxAttempts, String state,
                        Instant createdAt, QueueStats stats, RateLimitStatus rateLimitStatus,
                        @Nullable Instant drainsAt, @Nullable Double drainSeconds) {

    /** The token bucket as it stands. */
    @Serdeable
    public record RateLimitStatus(long tokens, long capacity, double refillPerSecond, Instant nextTokenAt) {
    }

    static QueueView of(Queue queue, BucketStatus status, QueueStats stats) {
        Instant drainsAt = stats.waiting() == null ? null
                : DrainForecast.drainsAt(stats.waiting(), status, queue.spec().rateLimit()).orElse(null);
        Double drainSeconds = drainsAt == null ? null : Duration.between(status.now(), drainsAt).toMillis() / 1000.0;
        return new QueueView(queue.name().value(), queue.spec().rateLimit().format(), queue.spec().burst(),
                queue.spec().idleTtl().toSeconds(), queue.spec().maxAttempts(), queue.state().wireName(),
                queue.createdAt(), stats, new RateLimitStatus(status.tokens(), status.capacity(),
                        status.refillPerSecond(), status.nextTokenAt()), drainsAt, drainSeconds);
    }
}
