package dev.sluice.admin;

import dev.sluice.core.Queue;
import dev.sluice.core.redis.BucketStatus;
import io.micronaut.serde.annotation.Serdeable;
import java.time.Instant;

/** A queue as the API shows it. */
@Serdeable
public record QueueView(String name, String rateLimit, int burst, long ttlSeconds, int maxAttempts, String state,
                        Instant createdAt, RateLimitStatus rateLimitStatus) {

    /** The token bucket as it stands. */
    @Serdeable
    public record RateLimitStatus(long tokens, long capacity, double refillPerSecond, Instant nextTokenAt) {
    }

    static QueueView of(Queue queue, BucketStatus status) {
        return new QueueView(queue.name().value(), queue.spec().rateLimit().format(), queue.spec().burst(),
                queue.spec().idleTtl().toSeconds(), queue.spec().maxAttempts(), queue.state().wireName(),
                queue.createdAt(), status == null ? null : new RateLimitStatus(status.tokens(), status.capacity(),
                        status.refillPerSecond(), status.nextTokenAt()));
    }
}
