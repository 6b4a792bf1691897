package dev.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
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

        // P0: task 0 runs, task 1 beyond it finished, which the commit's metadata says
        assertThat(offsets.toCommit()).isEqualTo(Map.of(P0, new OffsetAndMetadata(0, "sluice1;2;"),
                P1, new OffsetAndMetadata(6, "")));
        assertThat(offsets.toCommit()).isEmpty(); // nothing moved since
    }

    @Test
    void aRevokedPartitionCommitsWhatIsCompleteAndIgnoresLateCompletions() {
        PartitionOffsets offsets = new PartitionOffsets();
        offsets.started(P0, 10);
        offsets.started(P0, 11);
        offsets.finished(P0, 10);

        assertThat(offsets.toCommit(List.of(P0))).isEqualTo(Map.of(P0, new OffsetAndMetadata(11, "")));
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

        assertThat(offsets.toCommit()).isEqualTo(Map.of(P0, new OffsetAndMetadata(8, "")));
    }

    @Test
    void aTaskFinishingBehindAnUnfinishedOneIsCommittedAsMetadataThoughThePositionStays() {
        PartitionOffsets offsets = new PartitionOffsets();
        offsets.started(P0, 20);
        offsets.started(P0, 21);
        offsets.started(P0, 22);
        assertThat(offsets.toCommit()).isEqualTo(Map.of(P0, new OffsetAndMetadata(20, "")));

        offsets.finished(P0, 22);
        assertThat(offsets.toCommit()).isEqualTo(Map.of(P0, new OffsetAndMetadata(20, "sluice1;3;1")));
        assertThat(offsets.toCommit()).isEmpty();
    }

    @Test
    void theNextOwnerSkipsWhatTheCommitSaysWasFinishedAndCommitsPastIt() {
        PartitionOffsets offsets = new PartitionOffsets();
        offsets.finishedEarlier(P0, FinishedOffsets.decode(20, "sluice1;3;1")); // 20, 21 unfinished; 22 done

        assertThat(offsets.skipIfFinishedEarlier(P0, 20)).isFalse();
        offsets.started(P0, 20);
        assertThat(offsets.skipIfFinishedEarlier(P0, 21)).isFalse();
        offsets.started(P0, 21);
        assertThat(offsets.skipIfFinishedEarlier(P0, 22)).isTrue(); // not run again
        assertThat(offsets.skipIfFinishedEarlier(P0, 23)).isFalse(); // beyond what the commit knew

        offsets.finished(P0, 20);
        offsets.finished(P0, 21);
        assertThat(offsets.toCommit()).isEqualTo(Map.of(P0, new OffsetAndMetadata(23, "")));
    }
}
