package dev.sluice.gate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.QueueName;
import dev.sluice.core.QueueSpec;
import dev.sluice.core.RateLimit;
import dev.sluice.core.Windows;
import dev.sluice.core.redis.Acquisition;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LocalBucketsTest {

    private static final QueueName QUEUE = QueueName.of("q");

    @Test
    void grantsEvenlySpacedSlotsOnTheGuardedScheduleFromTheLeadOnAsTheScriptDoes() {
        LocalBuckets buckets = new LocalBuckets();
        QueueSpec spec = QueueSpec.of(RateLimit.parse("10/1s"));

        Acquisition first = buckets.acquire(QUEUE, spec, 100, 1_000_000, 200_000, 250_000);

        assertThat(first.nowMicros()).isEqualTo(1_000_000);
        assertThat(first.granted()).isEqualTo(3);
        assertThat(first.slotMicros(0)).isEqualTo(1_200_000);
        assertThat(first.slotMicros(2)).isEqualTo(1_402_000);
        assertThat(first.nextTokenMicros()).isEqualTo(1_503_000);
        assertThat(first.toleranceMicros()).isEqualTo(5_000);
    }

    @Test
    void keepsTheLimitOverManyCallsWithBurst() {
        LocalBuckets buckets = new LocalBuckets();
        QueueSpec spec = QueueSpec.of(RateLimit.parse("3/7s")).withBurst(2);
        List<Long> slots = new ArrayList<>();
        for (long now = 0; now < 70_000_000; now += 100_000) {
            Acquisition acquisition = buckets.acquire(QUEUE, spec, 10, now, 0, 0);
            for (int i = 0; i < acquisition.granted(); i++) {
                slots.add(acquisition.slotMicros(i));
            }
        }

        long[] times = slots.stream().mapToLong(Long::longValue).toArray();
        assertThat(Windows.maxInAnyWindow(times, 7_000_000)).isLessThanOrEqualTo(3 + 2 - 1);
        assertThat(times.length).isBetween(30, 32);
    }
}
