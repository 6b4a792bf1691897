package dev.sluice.worker;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a worker writes back to Kafka for a task instead of finishing it: a retry (to a delay tier), a
 * dead letter, or a task sent back through its queue's limit after missing its start. Each is written
 * in one Kafka transaction with the commit that marks its task finished, so no crash leaves a task both
 * written back and still unfinished (its successor would run it or send it back a second time: a
 * second release, or a call over the limit) nor finished without its write-back (lost).
 *
 * <p>Any thread asks ({@link #add}); the worker's loop thread, which owns the consumer and the offsets,
 * writes them at its next commit ({@link #commit}). A write-back whose partition moved to another
 * worker meanwhile is dropped: the new owner reads the task again from the committed offset. A
 * transaction that fails is aborted and everything in it tried again at the next commit; until then no
 * commit happens outside a transaction, so the tasks it marked finished are never committed without it.
 */
final class WriteBacks {

    private static final Logger LOG = LoggerFactory.getLogger(WriteBacks.class);

    /** A write-back asked for the task at {@code offset} of {@code partition}, taken in {@code tenure}. */
    private static final class Asked {
        final TopicPartition partition;
        final long offset;
        final Object tenure;
        final TaskOutcomes.WriteBack writeBack;
        /** Its task is marked finished in the offsets (by a transaction that may not have committed). */
        boolean marked;

        Asked(TopicPartition partition, long offset, Object tenure, TaskOutcomes.WriteBack writeBack) {
            this.partition = partition;
            this.offset = offset;
            this.tenure = tenure;
            this.writeBack = writeBack;
        }
    }

    private final Supplier<Producer<byte[], byte[]>> producers;
    private final Predicate<String> topicExists;
    private final Predicate<String> isQueueTopic;
    private final String deadTopic;
    private final ConcurrentLinkedQueue<Asked> asked = new ConcurrentLinkedQueue<>();
    /** Taken from {@link #asked} by a transaction that did not commit: the next one writes them. */
    private final List<Asked> unwritten = new ArrayList<>();
    private Producer<byte[], byte[]> producer;
    private long failures;

    /**
     * @param producers makes a transactional producer (again after a fatal error); {@code initTransactions}
     *     is called here
     * @param topicExists whether a topic exists (a queue removed while its task waited has none)
     * @param isQueueTopic whether a topic is a queue's: one that may have been removed
     * @param deadTopic where a task whose queue was removed goes instead
     */
    WriteBacks(Supplier<Producer<byte[], byte[]>> producers, Predicate<String> topicExists,
               Predicate<String> isQueueTopic, String deadTopic) {
        this.producers = producers;
        this.topicExists = topicExists;
        this.isQueueTopic = isQueueTopic;
        this.deadTopic = deadTopic;
    }

    /**
     * Asks for a write-back in place of finishing the task at {@code offset} of {@code partition}; any
     * thread. Its {@code written} is told, on the loop thread once the transaction committed, the topic
     * the record went to.
     *
     * @param tenure the partition's tenure when the task was taken (see the worker loop)
     */
    void add(TopicPartition partition, long offset, Object tenure, TaskOutcomes.WriteBack writeBack) {
        asked.add(new Asked(partition, offset, tenure, writeBack));
    }

    /** Whether a write-back waits for a transaction: then every commit must be one ({@link #commit}). */
    boolean waiting() {
        return !unwritten.isEmpty() || !asked.isEmpty();
    }

    /** The partitions with write-backs not yet written (a failed transaction's). */
    Set<TopicPartition> unwrittenPartitions() {
        Set<TopicPartition> partitions = new HashSet<>();
        unwritten.forEach(w -> partitions.add(w.partition));
        asked.forEach(w -> partitions.add(w.partition));
        return partitions;
    }

    /** How many transactions failed so far. */
    long failures() {
        return failures;
    }

    /**
     * On the loop thread: one transaction with every write-back asked for whose partition is still this
     * worker's, their tasks marked finished, and the offsets then committable.
     *
     * @param tenures each owned partition's current tenure
     * @param offsets the worker's offsets: the write-backs' tasks are marked finished in them
     * @param group the consumer's group metadata, so that a worker the group moved on from is fenced
     * @return whether it committed (nothing to write counts as committed)
     */
    boolean commit(Map<TopicPartition, Object> tenures, PartitionOffsets offsets, Supplier<ConsumerGroupMetadata> group) {
        for (Asked each; (each = asked.poll()) != null; ) {
            unwritten.add(each);
        }
        unwritten.removeIf(w -> w.tenure == null || tenures.get(w.partition) != w.tenure);
        if (unwritten.isEmpty()) {
            return true;
        }
        List<String> topics = new ArrayList<>(unwritten.size());
        Map<TopicPartition, OffsetAndMetadata> commits = Map.of();
        try {
            Producer<byte[], byte[]> writer = producer();
            writer.beginTransaction();
            for (Asked each : unwritten) {
                ProducerRecord<byte[], byte[]> record = deadIfRemoved(each.writeBack.record());
                writer.send(record);
                topics.add(record.topic());
                if (!each.marked) { // once: a task marked by a transaction that failed is marked still
                    offsets.finished(each.partition, each.offset);
                    each.marked = true;
                }
            }
            commits = offsets.toCommit();
            if (!commits.isEmpty()) {
                writer.sendOffsetsToTransaction(commits, group.get());
            }
            writer.commitTransaction();
        } catch (KafkaException e) {
            failures++;
            abort(e);
            offsets.commitFailed(commits.keySet());
            return false;
        }
        for (int i = 0; i < unwritten.size(); i++) {
            unwritten.get(i).writeBack.written().accept(topics.get(i));
        }
        unwritten.clear();
        return true;
    }

    private ProducerRecord<byte[], byte[]> deadIfRemoved(ProducerRecord<byte[], byte[]> record) {
        return deadIfRemoved(record, topicExists, isQueueTopic, deadTopic);
    }

    /** A task sent back to a queue removed meanwhile goes to the dead letters, with the reason. */
    static ProducerRecord<byte[], byte[]> deadIfRemoved(ProducerRecord<byte[], byte[]> record,
                                                       Predicate<String> topicExists, Predicate<String> isQueueTopic,
                                                       String deadTopic) {
        if (!isQueueTopic.test(record.topic()) || topicExists.test(record.topic())) {
            return record;
        }
        Headers headers = new RecordHeaders(record.headers().toArray());
        headers.remove(TaskOutcomes.ERROR_HEADER);
        headers.add(TaskOutcomes.ERROR_HEADER, ("its queue was removed (no topic " + record.topic()
                + ") before it could be sent back for a new slot").getBytes(StandardCharsets.UTF_8));
        return new ProducerRecord<>(deadTopic, null, record.key(), record.value(), headers);
    }

    private Producer<byte[], byte[]> producer() {
        if (producer == null) {
            Producer<byte[], byte[]> fresh = producers.get();
            try {
                fresh.initTransactions();
            } catch (KafkaException e) {
                fresh.close(Duration.ZERO);
                throw e;
            }
            producer = fresh;
        }
        return producer;
    }

    private void abort(KafkaException cause) {
        boolean fatal = cause instanceof ProducerFencedException || cause instanceof OutOfOrderSequenceException
                || cause instanceof AuthorizationException || cause instanceof UnsupportedVersionException;
        LOG.warn("Writing {} retries, dead letters or sent-back tasks failed; they are tried again with the next"
                + " commit, and nothing is committed without them: {}", unwritten.size(), cause.toString());
        if (producer == null) {
            return;
        }
        if (!fatal) {
            try {
                producer.abortTransaction();
                return;
            } catch (KafkaException stillFailing) {
                // a producer that cannot even abort is replaced
            }
        }
        close(Duration.ZERO);
    }

    /** Closes the producer (an unfinished transaction is aborted by Kafka). */
    void close(Duration timeout) {
        if (producer != null) {
            try {
                producer.close(timeout);
            } catch (KafkaException ignored) {
                // closing anyway
            }
            producer = null;
        }
    }

    /** How many write-backs were asked for and not yet written. */
    int pending() {
        return unwritten.size() + asked.size();
    }
}
