package dev.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class OffsetTrackerTest {

    @Test
    void nothingToCommitBeforeTheFirstTask() {
        assertThat(new OffsetTracker().committable()).isEmpty();
    }

    @Test
    void commitsNoFurtherThanTheFirstUnfinishedTask() {
        OffsetTracker tracker = new OffsetTracker();
        for (long offset = 10; offset < 15; offset++) {
            tracker.started(offset);
        }

        tracker.finished(11);
        tracker.finished(13);
        assertThat(tracker.committable()).hasValue(10);

        tracker.finished(10);
        assertThat(tracker.committable()).hasValue(12);

        tracker.finished(12);
        tracker.finished(14);
        assertThat(tracker.committable()).hasValue(15);
    }

    @Test
    void gapsInOffsetsDoNotHoldTheCommitBack() {
        OffsetTracker tracker = new OffsetTracker();
        tracker.started(3); // offsets 4-6 were transaction markers or compacted away
        tracker.started(7);

        tracker.finished(7);
        assertThat(tracker.committable()).hasValue(3);
        tracker.finished(3);
        assertThat(tracker.committable()).hasValue(8);
    }

    @Test
    void aCommittedPositionIsNotOfferedAgain() {
        OffsetTracker tracker = new OffsetTracker();
        tracker.started(0);
        tracker.finished(0);
        tracker.committed(1);

        assertThat(tracker.committable()).isEmpty();
        tracker.started(1);
        assertThat(tracker.committable()).isEmpty();
        tracker.finished(1);
        assertThat(tracker.committable()).hasValue(2);
    }

    @Test
    void refusesOffsetsOutOfOrderAndUnknownCompletions() {
        OffsetTracker tracker = new OffsetTracker();
        tracker.started(5);

        assertThatThrownBy(() -> tracker.started(4)).hasMessageContaining("handed out after 5");
        assertThatThrownBy(() -> tracker.finished(6)).hasMessageContaining("not in flight");
        assertThat(tracker.inFlight()).isEqualTo(1);
    }

    @Test
    void aFinishedOffsetCannotFinishTwice() {
        OffsetTracker tracker = new OffsetTracker();
        tracker.started(0);
        tracker.started(1);
        tracker.finished(1);

        assertThatThrownBy(() -> tracker.finished(1)).hasMessageContaining("not in flight");
        assertThat(tracker.inFlight()).isEqualTo(1);
        assertThat(tracker.committable()).hasValue(0);
    }

    @Test
    void theConsumersPositionPastTheMarkersIsCommittableOnlyWithNothingInFlight() {
        OffsetTracker tracker = new OffsetTracker();
        tracker.started(10);
        tracker.started(11);
        tracker.finished(11);
        tracker.passedTo(13); // 12 was a transaction marker
        assertThat(tracker.committable()).hasValue(10);

        tracker.finished(10);
        assertThat(tracker.committable()).hasValue(12);
        tracker.passedTo(13);
        assertThat(tracker.committable()).hasValue(13);
        tracker.committed(13);
        tracker.passedTo(13);
        assertThat(tracker.committable()).isEmpty();
        tracker.started(14); // the next record comes after the marker, and is the first unfinished
        assertThat(tracker.committable()).hasValue(14);
    }

    @Test
    void agreesWithASortedSetOverLongRandomRuns() {
        // the ring wraps and grows: compare every step with the plain definition (smallest unfinished)
        java.util.Random random = new java.util.Random(42);
        OffsetTracker tracker = new OffsetTracker();
        java.util.TreeSet<Long> unfinished = new java.util.TreeSet<>();
        java.util.List<Long> running = new java.util.ArrayList<>();
        long offset = 0;
        for (int step = 0; step < 100_000; step++) {
            if (running.size() < 300 && (running.isEmpty() || random.nextInt(100) < 52)) {
                offset += 1 + (random.nextInt(10) == 0 ? random.nextInt(5) : 0); // gaps now and then
                tracker.started(offset);
                unfinished.add(offset);
                running.add(offset);
            } else {
                long finished = running.remove(random.nextInt(running.size()));
                tracker.finished(finished);
                unfinished.remove(finished);
            }
            long expected = unfinished.isEmpty() ? offset + 1 : unfinished.first();
            assertThat(tracker.committable()).as("step %d", step).hasValue(expected);
            assertThat(tracker.inFlight()).isEqualTo(unfinished.size());
            tracker.committed(-1); // never committed here: committable always reports the position
        }
    }
}
