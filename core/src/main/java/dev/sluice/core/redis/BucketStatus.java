package dev.sluice.core.redis;

import dev.sluice.core.QueueName;
import java.time.Instant;

/**
 * A queue's token bucket as it stands, read without taking anything.
 *
 * @param tokens how many tokens could be granted right now (0 to {@code capacity})
 * @param capacity the burst
 * @param refillPerSecond the rate limit in tokens per second
 * @param nextTokenAt when the next token is available; {@code now} when {@code tokens > 0}
 * @param now Redis's clock when the status was read
 * @param active whether the queue is active (an inactive queue's figures show what it would grant)
 */
public record BucketStatus(QueueName queue, long tokens, long capacity, double refillPerSecond,
                           Instant nextTokenAt, Instant now, boolean active) {
}
