package dev.sluice.worker;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.errors.TimeoutException;

/**
 * Whether a topic exists, as Kafka's metadata says, asked through a consumer (on its own thread) and
 * remembered for {@link #EXISTS_FOR_MILLIS}: a queue removed while one of its tasks waited has no
 * topic, and a record sent there waits a minute for its metadata and then fails. The consumer must not
 * create topics it is asked about ({@code allow.auto.create.topics=false}). Kafka not answering in
 * time: taken to exist, so a send is tried (and fails and is tried again if it does not).
 */
final class KnownTopics {

    static final long EXISTS_FOR_MILLIS = 10_000;
    private static final Duration ASK_TIMEOUT = Duration.ofSeconds(5);

    private final Consumer<byte[], byte[]> consumer;
    /** Topics seen to exist, and when (epoch millis). */
    private final Map<String, Long> seenAt = new HashMap<>();

    KnownTopics(Consumer<byte[], byte[]> consumer) {
        this.consumer = consumer;
    }

    boolean exists(String topic) {
        long now = System.currentTimeMillis();
        Long seen = seenAt.get(topic);
        if (seen != null && now - seen < EXISTS_FOR_MILLIS) {
            return true;
        }
        try {
            List<PartitionInfo> partitions = consumer.partitionsFor(topic, ASK_TIMEOUT);
            if (partitions == null || partitions.isEmpty()) {
                seenAt.remove(topic);
                return false;
            }
        } catch (TimeoutException unknown) {
            return true;
        }
        if (seenAt.size() >= 10_000) {
            seenAt.clear(); // bounded: a worker meeting queue after queue forgets the old ones
        }
        seenAt.put(topic, now);
        return true;
    }
}
