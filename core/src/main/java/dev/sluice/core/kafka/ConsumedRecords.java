package dev.sluice.core.kafka;

import dev.sluice.core.DelayTiers;
import dev.sluice.core.Topics;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reclaims the disk of the topics that keep their records whatever their age ({@link TopicProvisioner}):
 * deletes each partition's records below the offset its owning group committed, which every record
 * before was done with (Sluice commits only what it finished). So the log is the queue, no bigger than
 * its backlog.
 *
 * <p>The owners: the gate's group for the queue topics, the workers' and the statistics' for
 * {@code ready} (the lower of the two: the statistics count releases there), the delay forwarder's
 * for the delay tiers, the router's for {@code tasks}. {@code dead} has none: dead letters wait for a
 * person. A partition an owning group has committed nothing of is left as it is. Not thread-safe:
 * one caller at a time (the admin's schedule).
 */
public final class ConsumedRecords {

    private static final Logger LOG = LoggerFactory.getLogger(ConsumedRecords.class);

    private final Admin admin;
    private final Topics topics;
    /** Per partition, the offset records were last deleted below: asked again only when it moved. */
    private final Map<TopicPartition, Long> deletedBelow = new HashMap<>();

    public ConsumedRecords(Admin admin, Topics topics) {
        this.admin = Objects.requireNonNull(admin, "admin");
        this.topics = Objects.requireNonNull(topics, "topics");
    }

    /**
     * Deletes what every owning group is done with.
     *
     * @return how many partitions had records deleted
     * @throws IllegalStateException when Kafka does not answer
     */
    public int deleteConsumed() {
        Map<TopicPartition, RecordsToDelete> deletions = new HashMap<>();
        java.util.Set<TopicPartition> owned = new java.util.HashSet<>();
        collect(committed(topics.gateGroup(), t -> topics.queueOf(t).isPresent()), deletions, owned);
        Map<TopicPartition, Long> ready = committed(topics.workerGroup(), t -> t.equals(topics.ready()));
        Map<TopicPartition, Long> counted = committed(topics.statsGroup(), t -> t.equals(topics.ready()));
        ready.keySet().retainAll(counted.keySet());
        ready.replaceAll((partition, offset) -> Math.min(offset, counted.get(partition)));
        collect(ready, deletions, owned);
        collect(committed(topics.delayGroup(), t -> DelayTiers.TIERS.stream().anyMatch(tier -> t.equals(topics.delay(tier)))),
                deletions, owned);
        collect(committed(topics.routerGroup(), t -> t.equals(topics.tasks())), deletions, owned);
        deletedBelow.keySet().retainAll(owned); // removed queues are forgotten
        if (deletions.isEmpty()) {
            return 0;
        }
        int deleted = 0;
        for (var result : admin.deleteRecords(deletions).lowWatermarks().entrySet()) {
            try {
                result.getValue().get(30, TimeUnit.SECONDS);
                deletedBelow.put(result.getKey(), deletions.get(result.getKey()).beforeOffset());
                deleted++;
            } catch (ExecutionException e) {
                // a queue removed meanwhile, or a broker busy: looked at again next time
                LOG.debug("Records of {} not deleted: {}", result.getKey(), e.getCause().toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while deleting consumed records", e);
            } catch (TimeoutException e) {
                throw new IllegalStateException("Kafka did not delete the consumed records of " + result.getKey(), e);
            }
        }
        return deleted;
    }

    /** The offsets {@code group} committed on the partitions of the topics it owns; none when it has none. */
    private Map<TopicPartition, Long> committed(String group, Predicate<String> owns) {
        Map<TopicPartition, OffsetAndMetadata> committed;
        try {
            committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            LOG.debug("No committed offsets of {}: {}", group, e.getCause().toString());
            return new HashMap<>();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading committed offsets", e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("Kafka did not give the committed offsets of " + group, e);
        }
        Map<TopicPartition, Long> owned = new HashMap<>();
        committed.forEach((partition, offset) -> {
            if (offset != null && owns.test(partition.topic())) {
                owned.put(partition, offset.offset());
            }
        });
        return owned;
    }

    private void collect(Map<TopicPartition, Long> committed, Map<TopicPartition, RecordsToDelete> deletions,
                         java.util.Set<TopicPartition> owned) {
        committed.forEach((partition, offset) -> {
            owned.add(partition);
            if (offset > deletedBelow.getOrDefault(partition, 0L)) {
                deletions.put(partition, RecordsToDelete.beforeOffset(offset));
            }
        });
    }
}
