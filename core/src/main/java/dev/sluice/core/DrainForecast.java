package dev.sluice.core;

import dev.sluice.core.redis.BucketStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * When a queue's backlog will have been released if its limit stays as it is: the tokens in the
 * bucket go at once, then one task per interval of the schedule (the guarded period / permits, see
 * {@link StartGuard}). New submissions, retries and a busy gate move the date; it is a forecast,
 * recomputed on every read.
 */
public final class DrainForecast {

    private DrainForecast() {
    }

    /**
     * @param waiting tasks in the queue topic that the gate has not released
     * @return when the last of them is released; empty while the queue is paused (never, until resumed)
     */
    public static Optional<Instant> drainsAt(long waiting, BucketStatus status, RateLimit limit) {
        if (waiting <= 0) {
            return Optional.of(status.now());
        }
        if (!status.active()) {
            return Optional.empty();
        }
        if (waiting <= status.tokens()) {
            return Optional.of(status.now());
        }
        Duration interval = Duration.ofNanos(Math.round(
                StartGuard.guardedPeriodMicros(limit.periodMicros()) * 1_000.0 / limit.permits()));
        long afterTokens = waiting - status.tokens();
        // with tokens left, the next one accrues within one interval; without, at nextTokenAt
        Instant firstNew = status.tokens() > 0 ? status.now().plus(interval) : status.nextTokenAt();
        return Optional.of(firstNew.plus(interval.multipliedBy(afterTokens - 1)));
    }

    /**
     * When each of {@code count} tasks added behind {@code waitingBefore} is released, in order.
     *
     * @return one instant per task; empty while the queue is paused
     */
    public static List<Instant> releases(long waitingBefore, int count, BucketStatus status, RateLimit limit) {
        List<Instant> forecast = new ArrayList<>(count);
        for (int i = 1; i <= count; i++) {
            Optional<Instant> at = drainsAt(waitingBefore + i, status, limit);
            if (at.isEmpty()) {
                return List.of();
            }
            forecast.add(at.get());
        }
        return forecast;
    }
}
