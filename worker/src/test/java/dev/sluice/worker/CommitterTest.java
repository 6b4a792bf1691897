package dev.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.Topics;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetCommitCallback;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/** The worker's commits, on a {@link MockConsumer} whose commits can fail or stay unanswered. */
class CommitterTest {

    private final Topics topics = new Topics("sluice");
    private final TopicPartition p0 = new TopicPartition(topics.ready(), 0);
    private final TopicPartition p1 = new TopicPartition(topics.ready(), 1);
    private final Map<TopicPartition, Object> tenures = Map.of(p0, new Object(), p1, new Object());
    private final PartitionOffsets offsets = new PartitionOffsets();
    private final CommitsByHand consumer = new CommitsByHand(List.of(p0, p1));
    private final MockProducer<byte[], byte[]> producer = new MockProducer<>(true, null, new ByteArraySerializer(),
            new ByteArraySerializer());
    private final WriteBacks writeBacks = new WriteBacks(() -> producer, topic -> true, topic -> false, topics.dead());
    private final Committer committer = new Committer(consumer, offsets, writeBacks);

    /** A consumer whose asynchronous commits are answered when the test says, or fail. */
    private static final class CommitsByHand extends MockConsumer<byte[], byte[]> {
        final List<Runnable> unanswered = new ArrayList<>();
        KafkaException failNext;

        CommitsByHand(List<TopicPartition> partitions) {
            super("earliest");
            assign(partitions); // MockConsumer shows the commits of assigned partitions only
        }

        @Override
        public synchronized void commitAsync(Map<TopicPartition, OffsetAndMetadata> offsets, OffsetCommitCallback callback) {
            if (callback == null) { // MockConsumer's own commitSync, which commits through here
                super.commitAsync(offsets, null);
                return;
            }
            KafkaException failure = failNext;
            failNext = null;
            unanswered.add(() -> {
                if (failure == null) {
                    super.commitAsync(offsets, null);
                }
                callback.onComplete(offsets, failure);
            });
        }

        void answer() {
            List<Runnable> now = new ArrayList<>(unanswered);
            unanswered.clear();
            now.forEach(Runnable::run);
        }
    }

    private long committed(TopicPartition partition) {
        OffsetAndMetadata commit = consumer.committed(Set.of(partition)).get(partition);
        return commit == null ? -1 : commit.offset();
    }

    @Test
    void aCommitWithoutWriteBacksIsTheConsumersOwnUpToTheFirstUnfinishedTask() {
        offsets.started(p0, 0);
        offsets.started(p0, 1);
        offsets.started(p0, 2);
        offsets.finished(p0, 0);
        offsets.finished(p0, 2);

        committer.commit(Set.of(), tenures, false);
        consumer.answer();

        OffsetAndMetadata commit = consumer.committed(Set.of(p0)).get(p0);
        assertThat(commit.offset()).isEqualTo(1);
        assertThat(FinishedOffsets.decode(commit.offset(), commit.metadata()).finished(2)).isTrue();
        assertThat(producer.transactionInFlight() || producer.transactionCommitted()).isFalse();
    }

    @Test
    void aFailedCommitIsMadeAgainThoughNothingMovedSince() {
        offsets.started(p0, 0);
        offsets.finished(p0, 0);
        consumer.failNext = new KafkaException("the coordinator moved");

        committer.commit(Set.of(), tenures, false);
        consumer.answer();
        assertThat(committed(p0)).isEqualTo(-1);

        // nothing finished since: before, the failed position counted as committed, and an idle
        // partition kept its lag for good
        committer.commit(Set.of(), tenures, false);
        consumer.answer();
        assertThat(committed(p0)).isEqualTo(1);
    }

    @Test
    void withAWriteBackWaitingTheOffsetsGoInItsTransactionNotThroughTheConsumer() {
        offsets.started(p0, 0);
        offsets.started(p0, 1);
        offsets.finished(p0, 1);
        writeBacks.add(p0, 0, tenures.get(p0), retry("t-0"));

        committer.commit(Set.of(), tenures, false);

        assertThat(producer.transactionCommitted()).isTrue();
        assertThat(producer.consumerGroupOffsetsHistory()).containsExactly(
                Map.of(consumer.groupMetadata().groupId(), Map.of(p0, new OffsetAndMetadata(2, ""))));
        assertThat(consumer.unanswered).isEmpty();
        assertThat(committed(p0)).isEqualTo(-1);
    }

    @Test
    void aTransactionWaitsForTheConsumersOwnCommitsStillUnderWay() {
        offsets.started(p0, 0);
        offsets.finished(p0, 0);
        committer.commit(Set.of(), tenures, false); // the consumer's, not answered yet
        offsets.started(p0, 1);
        writeBacks.add(p0, 1, tenures.get(p0), retry("t-1"));

        committer.commit(Set.of(), tenures, false);
        // answered after the transaction, the older commit (1) would have taken its offset (2) back
        assertThat(producer.transactionInFlight() || producer.transactionCommitted()).isFalse();
        assertThat(writeBacks.waiting()).isTrue();

        consumer.answer();
        committer.commit(Set.of(), tenures, false);
        assertThat(producer.transactionCommitted()).isTrue();
        assertThat(producer.history()).hasSize(1);
    }

    @Test
    void aRevokedPartitionWhoseWriteBackCouldNotBeWrittenIsNotCommitted() {
        offsets.started(p0, 0);
        offsets.started(p1, 0);
        offsets.finished(p1, 0);
        writeBacks.add(p0, 0, tenures.get(p0), retry("t-0"));
        writeBacks.commit(tenures, new PartitionOffsets(), consumer::groupMetadata); // the producer exists
        producer.commitTransactionException = new KafkaException("the broker is away");
        writeBacks.add(p0, 0, tenures.get(p0), retry("t-0"));

        committer.commitRevoked(List.of(p0, p1), tenures);

        assertThat(committed(p0)).as("left to the next owner, who does the task again").isEqualTo(-1);
        assertThat(committed(p1)).isEqualTo(1);
    }

    private TaskOutcomes.WriteBack retry(String id) {
        return new TaskOutcomes.WriteBack(new ProducerRecord<>(topics.delay(java.time.Duration.ofSeconds(1)), null,
                id.getBytes(StandardCharsets.UTF_8), new byte[0]), topic -> { });
    }
}
