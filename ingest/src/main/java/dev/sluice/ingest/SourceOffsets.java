package dev.sluice.ingest;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The router and the statistics run with {@code auto.offset.reset=none}: a Kafka Streams thread that
 * finds no committed offset for one of its input partitions fails (and is replaced, and asks again)
 * instead of starting that partition over from its earliest record.
 *
 * <p>Why: during a broker restart a group coordinator that is resigning or still loading can answer an
 * offset fetch with "no committed offset" for a group that has one (KAFKA-20416 describes the same
 * answer breaking a store's restore). With the default {@code earliest}, a Streams task re-initialised
 * at that moment (its transaction failed with the broker) starts its partition over, and every
 * submission still in {@code sluice.tasks} is routed a second time, each then run twice. Seen in
 * {@code RouterBrokerRestartIT}: the first submission routed again after a clean broker restart.
 *
 * <p>So every input partition gets a committed offset before the application starts: a partition the
 * group never committed (a new deployment, or one that never had a record) starts at its earliest
 * record, as {@code earliest} did; one whose committed offset fell below the log start (records
 * expired unprocessed) moves to the log start, with a warning. A group that already has members (a
 * second instance starting) cannot be changed from outside and is left as it is: its first instance
 * did this.
 */
final class SourceOffsets {

    private static final Logger LOG = LoggerFactory.getLogger(SourceOffsets.class);
    private static final long TIMEOUT_SECONDS = 30;

    private SourceOffsets() {
    }

    /**
     * Commits, for {@code group}, the earliest offset of every partition of {@code topics} that has no
     * committed offset or one below its log start; returns what it committed.
     */
    static Map<TopicPartition, Long> seed(Map<String, Object> kafka, String group, Collection<String> topics) {
        try (Admin admin = Admin.create(kafka)) {
            return seed(admin, group, topics);
        }
    }

    static Map<TopicPartition, Long> seed(Admin admin, String group, Collection<String> topics) {
        try {
            Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
            for (TopicDescription topic : admin.describeTopics(topics).allTopicNames()
                    .get(TIMEOUT_SECONDS, TimeUnit.SECONDS).values()) {
                topic.partitions().forEach(p -> earliest.put(new TopicPartition(topic.name(), p.partition()),
                        OffsetSpec.earliest()));
            }
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> starts = admin.listOffsets(earliest).all()
                    .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            Map<TopicPartition, OffsetAndMetadata> seeds = new HashMap<>();
            starts.forEach((partition, start) -> {
                OffsetAndMetadata offset = committed.get(partition);
                if (offset == null) {
                    seeds.put(partition, new OffsetAndMetadata(start.offset()));
                } else if (offset.offset() < start.offset()) {
                    LOG.warn("{}: {} records of {} expired before {} processed them; it goes on from {}",
                            group, start.offset() - offset.offset(), partition, group, start.offset());
                    seeds.put(partition, new OffsetAndMetadata(start.offset()));
                }
            });
            if (seeds.isEmpty()) {
                return Map.of();
            }
            admin.alterConsumerGroupOffsets(group, seeds).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            LOG.info("{}: {} input partitions without a committed offset start at their earliest record",
                    group, seeds.size());
            Map<TopicPartition, Long> seeded = new HashMap<>();
            seeds.forEach((partition, offset) -> seeded.put(partition, offset.offset()));
            return seeded;
        } catch (ExecutionException e) {
            // most often: the group has members (another instance runs), whose offsets only they may change
            LOG.info("{}: input offsets left as they are: {}", group, e.getCause().toString());
            return Map.of();
        } catch (TimeoutException e) {
            throw new IllegalStateException(group + ": Kafka did not answer about the input offsets in "
                    + TIMEOUT_SECONDS + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(group + ": interrupted while setting the input offsets", e);
        }
    }
}
