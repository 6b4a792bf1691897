package dev.sluice.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StartGuardTest {

    private static final long SECOND = 1_000_000;

    @Test
    void theScheduleRunsAHundredthSlowerThanTheLimit() {
        assertThat(StartGuard.guardedPeriodMicros(SECOND)).isEqualTo(1_010_000);
        assertThat(StartGuard.guardedPeriodMicros(3600 * SECOND)).isEqualTo(3636 * SECOND);
        // rounded up, never down: a 1 ms period still gets a guard
        assertThat(StartGuard.guardedPeriodMicros(1_001)).isEqualTo(1_012);
    }

    @Test
    void theToleranceIsHalfTheGuardAtMostHalfAnIntervalOr2MsAtLeastHalfAMillisecond() {
        // 10/1s: half the guard (5 ms) is less than half an interval (50.5 ms)
        assertThat(StartGuard.toleranceMicros(10, SECOND)).isEqualTo(5_000);
        // 200/1s: half an interval of 5.05 ms is 2.525 ms, less than half the guard
        assertThat(StartGuard.toleranceMicros(200, SECOND)).isEqualTo(2_525);
        // 2000/1s: half an interval is 252 µs, below the spacing floor of 2 ms
        assertThat(StartGuard.toleranceMicros(2000, SECOND)).isEqualTo(2_000);
        // 1/1ms: half the guard is 5 µs, below the least tolerance
        assertThat(StartGuard.toleranceMicros(1, 1_000)).isEqualTo(StartGuard.MIN_TOLERANCE_MICROS);
        // 100 per 100 ms: half the guard is 500 µs
        assertThat(StartGuard.toleranceMicros(100, 100_000)).isEqualTo(500);
        // 1/3600s: 18 s late is still on time for a queue that starts one task an hour
        assertThat(StartGuard.toleranceMicros(1, 3600 * SECOND)).isEqualTo(18 * SECOND);
    }

    @Test
    void startsWithinTheToleranceKeepTheWindowWithHalfTheGuardToSpare() {
        for (long[] limit : new long[][] {{10, SECOND}, {50, SECOND}, {200, SECOND}, {1, 60 * SECOND}, {7, 3 * SECOND}}) {
            long permits = limit[0];
            long period = limit[1];
            long guarded = StartGuard.guardedPeriodMicros(period);
            long tolerance = StartGuard.toleranceMicros(permits, period);
            // the worst case: the first of N + 1 consecutive slots starts as late as allowed, the last on time
            long spanOfNPlusOne = guarded - tolerance;
            assertThat(spanOfNPlusOne - period).as("spare for %d/%d µs", permits, period)
                    .isGreaterThanOrEqualTo((guarded - period) / 2);
            // and two consecutive starts stay at least half an interval apart (these intervals are 4 ms or more)
            assertThat(guarded / permits - tolerance).isGreaterThanOrEqualTo(guarded / permits / 2);
        }
    }
}
