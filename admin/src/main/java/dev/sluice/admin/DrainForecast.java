package dev.sluice.admin;

import dev.sluice.core.RateLimit;
import dev.sluice.core.StartGuard;
import dev.sluice.core.redis.BucketStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * When a queue's backlog will have been released if its limit stays as it is: the tokens in the
 * bucket go at once, then one task per interval of the schedule (the guarded period / permits, see
 * {@link StartGuard}). New submissions, retries and a busy gate move the date; it is a forecast,
 * recomputed on every read.
 */
final class DrainForecast {

    private DrainForecast() {
    }

    /**
     * @param waiting tasks in the queue topic that the gate has not released
     * @return when the last of them is released; empty while the queue is paused (never, until resumed)
     */
    static Optional<Instant> drainsAt(long waiting, BucketStatus status, RateLimit limit) {
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
}
