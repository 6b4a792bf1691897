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
}
