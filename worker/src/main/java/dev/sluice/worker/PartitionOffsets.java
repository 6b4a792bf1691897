package dev.sluice.worker;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * The offsets of every partition a worker owns: an {@link OffsetTracker} each, created on the first
 * task, dropped on revocation. A task that finishes after its partition was revoked is not counted:
 * the partition's new owner runs it again, and this worker must not commit over that owner's progress.
 * Not thread-safe: the worker's loop thread owns it.
 */
final class PartitionOffsets {

    private final Map<TopicPartition, OffsetTracker> trackers = new HashMap<>();
    /** Per partition, the tasks its earlier owner finished beyond the committed offset; dropped once passed. */
    private final Map<TopicPartition, FinishedOffsets> finishedEarlier = new HashMap<>();

    /** What the commit this partition was assigned with says its earlier owner finished. */
    void finishedEarlier(TopicPartition partition, FinishedOffsets finished) {
        finished.nonEmpty().ifPresentOrElse(f -> finishedEarlier.put(partition, f), () -> finishedEarlier.remove(partition));
    }

    /**
     * Takes the task at {@code offset} as finished at once when the partition's earlier owner finished
     * it (it is not run again).
     *
     * @return whether it was
     */
    boolean skipIfFinishedEarlier(TopicPartition partition, long offset) {
        FinishedOffsets finished = finishedEarlier.get(partition);
        if (finished == null) {
            return false;
        }
        if (offset >= finished.end()) {
            finishedEarlier.remove(partition);
            return false;
        }
        if (!finished.finished(offset)) {
            return false;
        }
        started(partition, offset);
        finished(partition, offset);
        return true;
    }

    void started(TopicPartition partition, long offset) {
        trackers.computeIfAbsent(partition, p -> new OffsetTracker()).started(offset);
    }

    /** @return whether the completion counted (false: the partition was revoked meanwhile) */
    boolean finished(TopicPartition partition, long offset) {
        OffsetTracker tracker = trackers.get(partition);
        if (tracker == null) {
            return false;
        }
        tracker.finished(offset);
        return true;
    }

    /**
     * The positions to commit among {@code partitions}, marked as committed: each partition's first
     * unfinished task, where that moved since the last commit.
     */
    Map<TopicPartition, OffsetAndMetadata> toCommit(Collection<TopicPartition> partitions) {
        Map<TopicPartition, OffsetAndMetadata> positions = new HashMap<>();
        for (TopicPartition partition : partitions) {
            OffsetTracker tracker = trackers.get(partition);
            OptionalLong position = tracker == null ? OptionalLong.empty() : tracker.committable();
            if (position.isPresent()) {
                positions.put(partition, new OffsetAndMetadata(position.getAsLong(), tracker.metadata()));
                tracker.committed(position.getAsLong());
            }
        }
        return positions;
    }

    Map<TopicPartition, OffsetAndMetadata> toCommit() {
        return toCommit(trackers.keySet());
    }

    /** The commit of these partitions last taken by {@link #toCommit} failed: they are offered again. */
    void commitFailed(Collection<TopicPartition> partitions) {
        for (TopicPartition partition : partitions) {
            OffsetTracker tracker = trackers.get(partition);
            if (tracker != null) {
                tracker.commitFailed();
            }
        }
    }

    /** See {@link OffsetTracker#passedTo}: the consumer's position of the partition, past records and markers. */
    void passedTo(TopicPartition partition, long position) {
        trackers.computeIfAbsent(partition, p -> new OffsetTracker()).passedTo(position);
    }

    /** Forgets the partitions: their later completions do not count. */
    void revoke(Collection<TopicPartition> partitions) {
        partitions.forEach(trackers::remove);
        partitions.forEach(finishedEarlier::remove);
    }
}
