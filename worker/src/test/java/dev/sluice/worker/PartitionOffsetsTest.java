package dev.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class PartitionOffsetsTest {

    private static final TopicPartition P0 = new TopicPartition("sluice.ready", 0);
    private static final TopicPartition P1 = new TopicPartition("sluice.ready", 1);

    @Test
    void eachPartitionCommitsUpToItsOwnFirstUnfinishedTask() {
        PartitionOffsets offsets = new PartitionOffsets();
        offsets.started(P0, 0);
        offsets.started(P0, 1);
        offsets.started(P1, 5);
        offsets.finished(P0, 1);
        offsets.finished(P1, 5);

        assertThat(offsets.toCommit()).isEqualTo(Map.of(P0, 0L, P1, 6L));
        assertThat(offsets.toCommit()).isEmpty(); // nothing moved since
    }

    @Test
    void aRevokedPartitionCommitsWhatIsCompleteAndIgnoresLateCompletions() {
        PartitionOffsets offsets = new PartitionOffsets();
        offsets.started(P0, 10);
        offsets.started(P0, 11);
        offsets.finished(P0, 10);

        assertThat(offsets.toCommit(List.of(P0))).isEqualTo(Map.of(P0, 11L));
        offsets.revoke(List.of(P0));

        assertThat(offsets.finished(P0, 11)).isFalse();
        assertThat(offsets.toCommit()).isEmpty();
    }

    @Test
    void aPartitionAssignedAgainStartsAfresh() {
        PartitionOffsets offsets = new PartitionOffsets();
        offsets.started(P0, 10);
        offsets.revoke(List.of(P0));

        offsets.started(P0, 7); // the new owner went back to the last commit; now it is ours again
        offsets.finished(P0, 7);

        assertThat(offsets.toCommit()).isEqualTo(Map.of(P0, 8L));
    }
}
