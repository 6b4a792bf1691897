package dev.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.Topics;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * A write-back and the commit that finishes its task are one transaction, on a {@link MockProducer}:
 * the failures a crash test cannot aim at (a transaction refused, a producer fenced) are set here.
 */
class WriteBacksTest {

    private final Topics topics = new Topics("sluice");
    private final TopicPartition ready = new TopicPartition(topics.ready(), 3);
    private final Object tenure = new Object();
    private final Map<TopicPartition, Object> tenures = Map.of(ready, tenure);
    private final PartitionOffsets offsets = new PartitionOffsets();
    private final List<MockProducer<byte[], byte[]>> producers = new ArrayList<>();
    private final List<String> written = new ArrayList<>();
    private final ConsumerGroupMetadata group = new ConsumerGroupMetadata("sluice-worker");

    private WriteBacks writeBacks(java.util.function.Predicate<String> exists) {
        return new WriteBacks(() -> {
            MockProducer<byte[], byte[]> producer = new MockProducer<>(true, null, new ByteArraySerializer(),
                    new ByteArraySerializer());
            producers.add(producer);
            return producer;
        }, exists, topic -> topics.queueOf(topic).isPresent(), topics.dead());
    }

    private TaskOutcomes.WriteBack retry(String id) {
        return new TaskOutcomes.WriteBack(new ProducerRecord<>(topics.delay(java.time.Duration.ofSeconds(1)), null,
                utf8(id), utf8("{}")), written::add);
    }

    @Test
    void aRetryIsWrittenInTheTransactionThatCommitsItsTaskFinished() {
        WriteBacks writeBacks = writeBacks(topic -> true);
        offsets.started(ready, 10);
        offsets.started(ready, 11);
        offsets.finished(ready, 11); // a success behind it
        writeBacks.add(ready, 10, tenure, retry("t-10"));

        assertThat(writeBacks.commit(tenures, offsets, () -> group)).isTrue();

        MockProducer<byte[], byte[]> producer = producers.get(0);
        assertThat(producer.transactionCommitted()).isTrue();
        assertThat(producer.history()).extracting(r -> new String(r.key(), StandardCharsets.UTF_8)).containsExactly("t-10");
        assertThat(producer.consumerGroupOffsetsHistory()).containsExactly(
                Map.of("sluice-worker", Map.of(ready, new OffsetAndMetadata(12, ""))));
        assertThat(written).containsExactly(topics.delay(java.time.Duration.ofSeconds(1)));
        assertThat(writeBacks.waiting()).isFalse();
    }

    @Test
    void aRefusedTransactionCommitsNothingAndTheNextOneWritesItAll() {
        WriteBacks writeBacks = writeBacks(topic -> true);
        offsets.started(ready, 10);
        writeBacks.add(ready, 10, tenure, retry("t-10"));
        writeBacks.commit(tenures, offsets, () -> group); // the producer exists from now on
        MockProducer<byte[], byte[]> producer = producers.get(0);
        offsets.started(ready, 11);
        writeBacks.add(ready, 11, tenure, retry("t-11"));
        producer.commitTransactionException = new KafkaException("the broker is away");

        assertThat(writeBacks.commit(tenures, offsets, () -> group)).isFalse();
        assertThat(producer.transactionAborted()).isTrue();
        assertThat(producer.history()).hasSize(1); // t-10's, committed before
        assertThat(writeBacks.waiting()).as("t-11 is written by the next commit").isTrue();
        assertThat(written).hasSize(1);

        producer.commitTransactionException = null;
        assertThat(writeBacks.commit(tenures, offsets, () -> group)).isTrue();
        assertThat(producer.history()).extracting(r -> new String(r.key(), StandardCharsets.UTF_8))
                .containsExactly("t-10", "t-11");
        // the offset the refused transaction carried is committed again, with t-11
        assertThat(producer.consumerGroupOffsetsHistory()).last().isEqualTo(
                Map.of("sluice-worker", Map.of(ready, new OffsetAndMetadata(12, ""))));
        assertThat(written).hasSize(2);
    }

    @Test
    void aWriteBackOfAPartitionThatMovedIsLeftToItsNextOwner() {
        WriteBacks writeBacks = writeBacks(topic -> true);
        offsets.started(ready, 10);
        writeBacks.add(ready, 10, new Object(), retry("t-10")); // taken under an earlier tenure

        assertThat(writeBacks.commit(tenures, offsets, () -> group)).isTrue();

        assertThat(producers).isEmpty(); // nothing written, not even a transaction begun
        assertThat(writeBacks.waiting()).isFalse();
        assertThat(offsets.toCommit()).as("its task is not finished here").containsExactly(
                Map.entry(ready, new OffsetAndMetadata(10, "")));
    }

    @Test
    void aTaskSentBackToARemovedQueueGoesToTheDeadLettersWithTheReason() {
        WriteBacks writeBacks = writeBacks(topic -> !topic.equals("sluice.q.gone"));
        offsets.started(ready, 10);
        writeBacks.add(ready, 10, tenure, new TaskOutcomes.WriteBack(
                new ProducerRecord<>("sluice.q.gone", null, utf8("t-10"), utf8("{}")), written::add));

        assertThat(writeBacks.commit(tenures, offsets, () -> group)).isTrue();

        ProducerRecord<byte[], byte[]> dead = producers.get(0).history().get(0);
        assertThat(dead.topic()).isEqualTo(topics.dead());
        assertThat(new String(dead.headers().lastHeader(TaskOutcomes.ERROR_HEADER).value(), StandardCharsets.UTF_8))
                .contains("its queue was removed");
        assertThat(written).containsExactly(topics.dead());
    }

    @Test
    void aFencedProducerIsReplacedAndTheWriteBackWrittenByTheNewOne() {
        WriteBacks writeBacks = writeBacks(topic -> true);
        offsets.started(ready, 10);
        offsets.started(ready, 11);
        writeBacks.add(ready, 10, tenure, retry("t-10"));
        writeBacks.commit(tenures, offsets, () -> group);
        producers.get(0).fenceProducer(); // another process took its transactional id
        writeBacks.add(ready, 11, tenure, retry("t-11"));

        assertThat(writeBacks.commit(tenures, offsets, () -> group)).isFalse();
        assertThat(producers.get(0).closed()).isTrue();
        assertThat(writeBacks.commit(tenures, offsets, () -> group)).isTrue();

        assertThat(producers).hasSize(2);
        assertThat(producers.get(1).history()).extracting(r -> new String(r.key(), StandardCharsets.UTF_8))
                .containsExactly("t-11");
        assertThat(writeBacks.failures()).isEqualTo(1);
    }

    @Test
    void withNothingToWriteNoTransactionIsBegun() {
        AtomicInteger made = new AtomicInteger();
        WriteBacks writeBacks = new WriteBacks(() -> {
            made.incrementAndGet();
            return new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
        }, topic -> true, topic -> false, topics.dead());

        assertThat(writeBacks.waiting()).isFalse();
        assertThat(writeBacks.commit(tenures, offsets, () -> group)).isTrue();
        assertThat(made).hasValue(0);
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
