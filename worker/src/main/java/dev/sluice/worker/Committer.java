package dev.sluice.worker;

import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's commits, on its loop thread: each owned partition up to its first unfinished task, with
 * what finished beyond it in the commit's metadata ({@link FinishedOffsets}), and past the transaction
 * markers after its last task once nothing is in flight (lag 0 when idle). The consumer's own
 * asynchronous commit when no write-back waits; otherwise one transaction with the write-backs
 * ({@link WriteBacks}). On assignment, it reads back what the partition's earlier owner finished.
 */
final class Committer {

    private static final Logger LOG = LoggerFactory.getLogger(Committer.class);

    private final Consumer<byte[], byte[]> consumer;
    private final PartitionOffsets offsets;
    private final WriteBacks writeBacks;
    /** Asynchronous commits not answered yet: a transaction's commit waits for them, or they could undo it. */
    private int asyncCommits;

    Committer(Consumer<byte[], byte[]> consumer, PartitionOffsets offsets, WriteBacks writeBacks) {
        this.consumer = consumer;
        this.offsets = offsets;
        this.writeBacks = writeBacks;
    }

    /**
     * Commits every owned partition that moved: asynchronously (the regular commit) or synchronously
     * (the last one, at shutdown); in a transaction when write-backs wait.
     */
    void commit(Set<TopicPartition> owned, Map<TopicPartition, Object> tenures, boolean sync) {
        passMarkers(owned);
        if (writeBacks.waiting()) {
            commitWithWriteBacks(tenures);
        } else {
            commit(offsets.toCommit(), sync);
        }
    }

    /**
     * Commits partitions about to be revoked, while they are still this worker's: the write-backs
     * waiting first, then the partitions, except one whose write-back could not be written (its next
     * owner does that task again).
     */
    void commitRevoked(Collection<TopicPartition> partitions, Map<TopicPartition, Object> tenures) {
        if (writeBacks.waiting()) {
            commitWithWriteBacks(tenures);
        }
        Set<TopicPartition> committable = new HashSet<>(partitions);
        committable.removeAll(writeBacks.unwrittenPartitions());
        commit(offsets.toCommit(committable), true);
    }

    /**
     * Reads, from the commits the partitions were assigned with, which tasks beyond each committed offset
     * their earlier owner finished: those are not run again (a crash re-runs only what was unfinished).
     * Kafka unreachable: they run again, as they would have without this.
     */
    void readFinishedEarlier(Collection<TopicPartition> partitions) {
        if (partitions.isEmpty()) {
            return;
        }
        try {
            Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(new HashSet<>(partitions),
                    Duration.ofSeconds(10));
            long total = 0;
            for (TopicPartition partition : partitions) {
                OffsetAndMetadata commit = committed.get(partition);
                FinishedOffsets finished = commit == null ? FinishedOffsets.NONE
                        : FinishedOffsets.decode(commit.offset(), commit.metadata());
                offsets.finishedEarlier(partition, finished);
                total += finished.count();
            }
            if (total > 0) {
                LOG.info("Up to {} tasks beyond the committed offsets of {} partitions were finished by their earlier"
                        + " owner: they are not run again", total, partitions.size());
            }
        } catch (KafkaException e) {
            LOG.warn("Could not read which tasks the earlier owner of {} finished; they may run again: {}", partitions,
                    e.toString());
        }
    }

    /**
     * One transaction: the write-backs asked for, their tasks finished, every committable offset. After
     * the consumer's own commits still under way, which, landing after it, would take its offsets back.
     */
    private boolean commitWithWriteBacks(Map<TopicPartition, Object> tenures) {
        if (asyncCommits > 0) {
            try {
                consumer.commitSync(Map.of(), Duration.ofSeconds(10)); // returns once the earlier ones are answered
            } catch (KafkaException e) {
                LOG.debug("Earlier commits not answered yet: {}", e.toString());
            }
            if (asyncCommits > 0) {
                return false; // the next commit tries again
            }
        }
        return writeBacks.commit(tenures, offsets, consumer::groupMetadata);
    }

    /**
     * Lets each owned partition be committed past the transaction markers after its last task: every
     * record before the consumer's position was taken, so once none is in flight the position is done.
     */
    private void passMarkers(Set<TopicPartition> owned) {
        for (TopicPartition partition : owned) {
            try {
                offsets.passedTo(partition, consumer.position(partition, Duration.ZERO));
            } catch (org.apache.kafka.common.errors.TimeoutException | IllegalStateException notKnownYet) {
                // no position yet (just assigned): next time
            }
        }
    }

    private void commit(Map<TopicPartition, OffsetAndMetadata> commits, boolean sync) {
        if (commits.isEmpty()) {
            return;
        }
        try {
            if (sync) {
                try {
                    consumer.commitSync(commits);
                } catch (WakeupException stopping) {
                    consumer.commitSync(commits); // the wakeup of stop() was meant for poll, not for this
                }
            } else {
                commitAsync(commits);
            }
        } catch (KafkaException e) {
            offsets.commitFailed(commits.keySet());
            LOG.warn("Committing offsets failed: {}", e.toString());
        }
    }

    private void commitAsync(Map<TopicPartition, OffsetAndMetadata> commits) {
        AtomicBoolean answered = new AtomicBoolean();
        asyncCommits++;
        try {
            consumer.commitAsync(commits, (committed, error) -> {
                if (answered.compareAndSet(false, true)) {
                    asyncCommits--; // on the loop thread, within a later poll or commit
                }
                if (error != null) {
                    offsets.commitFailed(commits.keySet());
                    LOG.warn("Committing {} failed; the next commit covers it: {}", commits, error.toString());
                }
            });
        } catch (KafkaException refused) {
            if (answered.compareAndSet(false, true)) {
                asyncCommits--;
            }
            throw refused;
        }
    }
}
