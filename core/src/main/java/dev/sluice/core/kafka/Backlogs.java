package dev.sluice.core.kafka;

import dev.sluice.core.QueueName;
import dev.sluice.core.Topics;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * How many tasks wait in each queue topic: its end offset minus the gate group's committed offset
 * (the log start when the gate never committed). Records the gate holds but has not released yet
 * count as waiting: they are not committed until released. Three Kafka requests however many queues.
 */
public final class Backlogs {

    /** The backlog of one queue topic; {@code endOffset} also tells whether anything was added since. */
    public record Backlog(long waiting, long endOffset) {
    }

    private static final long TIMEOUT_MS = 3_000;

    private final Admin kafka;
    private final Topics topics;

    public Backlogs(Admin kafka, Topics topics) {
        this.kafka = kafka;
        this.topics = topics;
    }

    /**
     * The backlogs of the queues whose topics answer; a queue missing from the result has no topic
     * (being removed) or Kafka did not answer in time.
     */
    public Map<QueueName, Backlog> of(Collection<QueueName> queues) {
        if (queues.isEmpty()) {
            return Map.of();
        }
        Map<TopicPartition, QueueName> partitions = queues.stream()
                .collect(Collectors.toMap(q -> new TopicPartition(topics.queue(q), 0), Function.identity(), (a, b) -> a));
        ListOffsetsOptions options = new ListOffsetsOptions().timeoutMs((int) TIMEOUT_MS);
        ListOffsetsResult ends = kafka.listOffsets(spec(partitions, OffsetSpec.latest()), options);
        ListOffsetsResult starts = kafka.listOffsets(spec(partitions, OffsetSpec.earliest()), options);
        Map<TopicPartition, OffsetAndMetadata> committed = committed();
        Map<QueueName, Backlog> backlogs = new HashMap<>();
        partitions.forEach((partition, queue) -> {
            Long end = offset(ends, partition);
            Long start = offset(starts, partition);
            if (end == null || start == null) {
                return;
            }
            OffsetAndMetadata gate = committed.get(partition);
            long from = gate == null ? start : Math.max(start, gate.offset());
            backlogs.put(queue, new Backlog(Math.max(0, end - from), end));
        });
        return backlogs;
    }

    private static Map<TopicPartition, OffsetSpec> spec(Map<TopicPartition, QueueName> partitions, OffsetSpec spec) {
        return partitions.keySet().stream().collect(Collectors.toMap(Function.identity(), p -> spec));
    }

    private static Long offset(ListOffsetsResult result, TopicPartition partition) {
        try {
            return result.partitionResult(partition).get(TIMEOUT_MS, TimeUnit.MILLISECONDS).offset();
        } catch (ExecutionException | TimeoutException unknownTopicOrNoAnswer) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private Map<TopicPartition, OffsetAndMetadata> committed() {
        try {
            Map<TopicPartition, OffsetAndMetadata> offsets = kafka.listConsumerGroupOffsets(topics.gateGroup(),
                            new ListConsumerGroupOffsetsOptions().timeoutMs((int) TIMEOUT_MS))
                    .partitionsToOffsetAndMetadata().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
            Map<TopicPartition, OffsetAndMetadata> present = new HashMap<>();
            offsets.forEach((partition, offset) -> {
                if (offset != null) {
                    present.put(partition, offset);
                }
            });
            return present;
        } catch (ExecutionException | TimeoutException noGroupYet) {
            return Map.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Map.of();
        }
    }
}
