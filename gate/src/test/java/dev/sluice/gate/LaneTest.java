package dev.sluice.gate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.QueueName;
import dev.sluice.core.redis.Acquisition;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class LaneTest {

    private static final TopicPartition PARTITION = new TopicPartition("sluice.q.emails", 0);
    private static final long MS = 1_000_000L;

    private Lane lane;
    private ClockSync clock;

    @BeforeEach
    void setUp() {
        lane = new Lane(PARTITION, QueueName.of("emails"), 4);
        clock = new ClockSync();
        clock.observe(1_000_000_000L, 0, 0); // Redis time 1000 s at local time 0
    }

    private static ConsumerRecord<byte[], byte[]> record(long offset) {
        return new ConsumerRecord<>(PARTITION.topic(), 0, offset, new byte[0], new byte[] {(byte) offset});
    }

    static Acquisition acquisition(Acquisition.Outcome outcome, long now, long next, long... slots) {
        return Acquisition.of(outcome, now, next, 5_000, slots);
    }

    @Test
    void grantedRecordsLeaveAtOnceInOffsetOrderWithTheirSlotsAndTolerance() {
        for (long offset = 10; offset < 13; offset++) {
            lane.add(record(offset));
        }
        lane.onAcquired(acquisition(Acquisition.Outcome.OK, 1_000_000_000L, 1_000_230_000L,
                1_000_200_000L, 1_000_210_000L, 1_000_220_000L), clock, 0, 200 * MS, 50 * MS);

        assertThat(lane.nextDeadlineNanos(0)).hasValue(0L);
        assertThat(lane.takeGranted()).extracting(g -> g.record().offset(), Lane.Grant::slotMicros,
                        Lane.Grant::toleranceMicros)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(10L, 1_000_200_000L, 5_000L),
                        org.assertj.core.groups.Tuple.tuple(11L, 1_000_210_000L, 5_000L),
                        org.assertj.core.groups.Tuple.tuple(12L, 1_000_220_000L, 5_000L));
        assertThat(lane.held()).isZero();
        assertThat(lane.takeGranted()).isEmpty();
    }

    @Test
    void asksAgainALeadAndAHorizonBeforeTheNextTokenAndNotBefore() {
        lane.add(record(0));
        lane.add(record(1));
        lane.onAcquired(acquisition(Acquisition.Outcome.OK, 1_000_000_000L, 1_001_000_000L, 1_000_200_000L),
                clock, 0, 200 * MS, 50 * MS);

        long nextTokenLocal = 1_000 * MS;
        assertThat(lane.wantsTokens(nextTokenLocal - 250 * MS - 1)).isFalse();
        assertThat(lane.wantsTokens(nextTokenLocal - 250 * MS)).isTrue();
        assertThat(lane.nextDeadlineNanos(7)).hasValue(7L); // the granted record is forwarded at once
    }

    @Test
    void aFastQueueAsksHalfAHorizonAheadSoEachCallReservesMany() {
        for (long offset = 0; offset < 4; offset++) {
            lane.add(record(offset));
        }
        lane.onAcquired(acquisition(Acquisition.Outcome.OK, 1_000_000_000L, 1_000_050_000L,
                1_000_000_000L, 1_000_025_000L), clock, 0, 0, 50 * MS);

        assertThat(lane.wantsTokens(25 * MS - 1)).isFalse();
        assertThat(lane.wantsTokens(25 * MS)).isTrue();
    }

    @Test
    void inactiveOrUnknownQueuesWaitUntilReconsidered() {
        lane.add(record(0));
        lane.onAcquired(acquisition(Acquisition.Outcome.INACTIVE, 1_000_000_000L, -1), clock, 0, 0, 50 * MS);

        assertThat(lane.status()).isEqualTo(Lane.Status.INACTIVE);
        assertThat(lane.wantsTokens(Long.MAX_VALUE - 1)).isFalse();
        assertThat(lane.nextDeadlineNanos(0)).isEmpty();

        lane.reconsider(5);
        assertThat(lane.wantsTokens(5)).isTrue();

        lane.onAcquired(acquisition(Acquisition.Outcome.UNKNOWN_QUEUE, 1_000_000_000L, -1), clock, 5, 0, 50 * MS);
        assertThat(lane.status()).isEqualTo(Lane.Status.UNKNOWN);
        assertThat(lane.wantsTokens(10)).isFalse();
    }

    @Test
    void pausesAtCapacityAndResumesAtHalf() {
        for (long offset = 0; offset < 4; offset++) {
            lane.add(record(offset));
        }
        assertThat(lane.shouldPause()).isTrue();
        lane.setPaused(true);
        assertThat(lane.shouldResume()).isFalse();

        lane.onAcquired(acquisition(Acquisition.Outcome.OK, 1_000_000_000L, 1_000_000_002L,
                1_000_000_000L, 1_000_000_001L), clock, 0, 0, 0);
        lane.takeGranted();

        assertThat(lane.shouldResume()).isTrue();
    }

    @Test
    void rewindForgetsEverythingAndPointsAtTheFirstHeldOffset() {
        lane.add(record(7));
        lane.add(record(8));
        lane.onAcquired(acquisition(Acquisition.Outcome.OK, 1_000_000_000L, 1_000_500_000L, 1_000_400_000L),
                clock, 0, 0, 50 * MS);

        assertThat(lane.rewind()).hasValue(7L);
        assertThat(lane.held()).isZero();
        assertThat(lane.rewind()).isEmpty();
    }
}
