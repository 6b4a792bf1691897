package dev.sluice.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.redis.BucketStatus;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class DrainForecastTest {

    private static final Instant NOW = Instant.parse("2026-11-27T12:00:00Z");
    private static final QueueName QUEUE = QueueName.of("q");

    private static BucketStatus status(long tokens, long capacity, Instant next, boolean active) {
        return new BucketStatus(QUEUE, tokens, capacity, 0, next, NOW, active);
    }

    @Test
    void anEmptyQueueIsDrainedNowEvenWhenPaused() {
        assertThat(DrainForecast.drainsAt(0, status(0, 1, NOW.plusSeconds(5), false), RateLimit.parse("1/1s")))
                .contains(NOW);
    }

    @Test
    void aPausedQueueWithABacklogNeverDrains() {
        assertThat(DrainForecast.drainsAt(3, status(1, 1, NOW, false), RateLimit.parse("1/1s"))).isEmpty();
    }

    @Test
    void aBacklogTheTokensCoverGoesNow() {
        assertThat(DrainForecast.drainsAt(4, status(5, 5, NOW, true), RateLimit.parse("5/1s"))).contains(NOW);
    }

    @Test
    void withoutTokensTheFirstTaskWaitsForTheNextTokenThenOnePerInterval() {
        // 10 waiting at 1/3600s (one per 3,636 s with the guard), next token in 10 minutes: the last
        // goes 10 min + 9 guarded hours from now
        assertThat(DrainForecast.drainsAt(10, status(0, 1, NOW.plusSeconds(600), true), RateLimit.parse("1/3600s")))
                .contains(NOW.plusSeconds(600 + 9 * 3636));
    }

    @Test
    void theTokensInHandGoFirstThenOnePerInterval() {
        // 3 tokens, 103 waiting at 20/1s (50.5 ms apart with the guard): 100 more take 5.05 s
        assertThat(DrainForecast.drainsAt(103, status(3, 5, NOW, true), RateLimit.parse("20/1s")))
                .contains(NOW.plusMillis(5_050));
    }

    @Test
    void anUnevenIntervalIsNotRoundedAwayOverALongBacklog() {
        // 3/7s: 7.07 s per 3 with the guard; 3,001 waiting with no token until now: 3,000 intervals = 7,070 s
        assertThat(DrainForecast.drainsAt(3_001, status(0, 1, NOW, true), RateLimit.parse("3/7s")))
                .hasValueSatisfying(at -> assertThat(java.time.Duration.between(NOW, at).toMillis())
                        .isBetween(7_069_999L, 7_070_001L));
    }
}
