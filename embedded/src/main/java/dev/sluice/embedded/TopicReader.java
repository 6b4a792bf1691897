package dev.sluice.embedded;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Reads what a topic holds, as a test checks it: every partition from the start, committed records only. */
public final class TopicReader {

    private TopicReader() {
    }

    /**
     * Reads until {@code atLeast} records arrived or {@code timeout} passed, then on for {@code settle}
     * more (so that a test expecting exactly N also sees an N+1st, a duplicate, if there is one).
     */
    public static List<ConsumerRecord<byte[], byte[]>> readCommitted(String bootstrapServers, String topic,
                                                                     int atLeast, Duration timeout, Duration settle) {
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            long deadline = System.nanoTime() + timeout.toNanos();
            List<TopicPartition> partitions = List.of();
            while (partitions.isEmpty()) {
                // a topic created a moment ago may not be in this client's metadata yet
                partitions = consumer.partitionsFor(topic, Duration.ofSeconds(10)).stream()
                        .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
                if (partitions.isEmpty()) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("topic " + topic + " has no partitions");
                    }
                    sleep(50);
                }
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
            while (records.size() < atLeast && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(100)).forEach(records::add);
            }
            long settled = System.nanoTime() + settle.toNanos();
            while (System.nanoTime() < settled) {
                consumer.poll(Duration.ofMillis(100)).forEach(records::add);
            }
            return records;
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** As {@link #readCommitted(String, String, int, Duration, Duration)} without settling. */
    public static List<ConsumerRecord<byte[], byte[]>> readCommitted(String bootstrapServers, String topic,
                                                                     int atLeast, Duration timeout) {
        return readCommitted(bootstrapServers, topic, atLeast, timeout, Duration.ZERO);
    }
}
