package dev.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.Test;

class IdleTrackerTest {

    private static final Instant T0 = Instant.parse("2026-11-27T12:00:00Z");
    private static final Duration HOUR = Duration.ofHours(1);

    private final IdleTracker tracker = new IdleTracker();

    private boolean look(String queue, Duration ttl, long waiting, long mark, Instant now) {
        return tracker.idle(new IdleTracker.Look(queue, ttl, waiting, mark), now);
    }

    @Test
    void aQueueUnchangedForItsTtlIsIdleFromTheFirstLookOn() {
        assertThat(look("q", HOUR, 0, 7, T0)).isFalse();
        assertThat(look("q", HOUR, 0, 7, T0.plus(HOUR).minusMillis(1))).isFalse();
        assertThat(look("q", HOUR, 0, 7, T0.plus(HOUR))).isTrue();
    }

    @Test
    void activityStartsTheTtlAgain() {
        look("q", HOUR, 0, 7, T0);
        assertThat(look("q", HOUR, 0, 8, T0.plusSeconds(3000))).isFalse();
        assertThat(look("q", HOUR, 0, 8, T0.plus(HOUR).plusSeconds(1))).isFalse();
        assertThat(look("q", HOUR, 0, 8, T0.plusSeconds(3000).plus(HOUR))).isTrue();
    }

    @Test
    void aBacklogKeepsAQueueEvenWithoutActivity() {
        look("q", HOUR, 5, 7, T0);
        assertThat(look("q", HOUR, 5, 7, T0.plus(HOUR).plus(HOUR))).isFalse();
        // the backlog gone, the TTL counts from the first look without one
        assertThat(look("q", HOUR, 0, 7, T0.plus(HOUR).plus(HOUR).plusSeconds(1))).isFalse();
    }

    @Test
    void ttlZeroIsNever() {
        look("q", Duration.ZERO, 0, 7, T0);
        assertThat(look("q", Duration.ZERO, 0, 7, T0.plus(Duration.ofDays(365)))).isFalse();
    }

    @Test
    void aForgottenQueueStartsAgainWhenSeenAgain() {
        look("q", HOUR, 0, 7, T0);
        tracker.retain(Set.of());
        assertThat(look("q", HOUR, 0, 7, T0.plus(HOUR))).isFalse();
        assertThat(look("q", HOUR, 0, 7, T0.plus(HOUR).plus(HOUR))).isTrue();
    }
}
