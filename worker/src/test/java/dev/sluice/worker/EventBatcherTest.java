package dev.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.TaskEvent;
import dev.sluice.core.Topics;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/** The counting, not Kafka: the producer here is Kafka's in-memory one (the ITs use the broker). */
class EventBatcherTest {

    @Test
    void countsFromManyThreadsAddUpToOneEventPerQueueSecondAndTypeInEachFlush() throws Exception {
        MockProducer<byte[], byte[]> producer = new MockProducer<>(true, null, new ByteArraySerializer(),
                new ByteArraySerializer());
        EventBatcher batcher = new EventBatcher(producer, Topics.defaults());
        long second = 1_700_000_000_000L;
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread thread = new Thread(() -> {
                EventBatcher.Tally tally = batcher.newTally();
                for (int i = 0; i < 20_000; i++) {
                    String queue = i % 2 == 0 ? "batch_a" : "batch_b";
                    long at = second + (i % 2_000); // two calendar seconds
                    tally.count(TaskEvent.Type.started, queue, at);
                    tally.count(TaskEvent.Type.completed, queue, at);
                }
            });
            threads.add(thread);
            thread.start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
        batcher.close(); // publishes what the periodic flushes have not

        Map<String, Integer> counted = new ConcurrentHashMap<>();
        for (ProducerRecord<byte[], byte[]> record : producer.history()) {
            TaskEvent event = TaskEvent.fromJson(record.value());
            assertThat(new String(record.key(), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo(event.queue());
            counted.merge(event.type() + " " + event.queue() + " " + (event.at() / 1000), event.count(), Integer::sum);
        }
        assertThat(counted).containsOnly(
                Map.entry("started batch_a " + second / 1000, 20_000),
                Map.entry("started batch_a " + (second / 1000 + 1), 20_000),
                Map.entry("started batch_b " + second / 1000, 20_000),
                Map.entry("started batch_b " + (second / 1000 + 1), 20_000),
                Map.entry("completed batch_a " + second / 1000, 20_000),
                Map.entry("completed batch_a " + (second / 1000 + 1), 20_000),
                Map.entry("completed batch_b " + second / 1000, 20_000),
                Map.entry("completed batch_b " + (second / 1000 + 1), 20_000));
    }

    @Test
    void aDrainMergesTheThreadsCountsAndKeepsTheFirstTime() throws Exception {
        MockProducer<byte[], byte[]> producer = new MockProducer<>(true, null, new ByteArraySerializer(),
                new ByteArraySerializer());
        EventBatcher batcher = new EventBatcher(producer, Topics.defaults());
        Thread other = new Thread(() -> batcher.newTally().count(TaskEvent.Type.completed, "batch_a", 5_100));
        other.start();
        other.join();
        EventBatcher.Tally mine = batcher.newTally();
        mine.count(TaskEvent.Type.completed, "batch_a", 5_300);
        mine.count(TaskEvent.Type.completed, "batch_a", 5_200);

        Map<EventBatcher.Key, long[]> drained = batcher.drain();
        // (a flush may have run meanwhile; what it took is in the producer's history)
        long published = producer.history().stream().mapToLong(r -> TaskEvent.fromJson(r.value()).count()).sum();
        long[] value = drained.get(new EventBatcher.Key(TaskEvent.Type.completed, "batch_a", 5));
        assertThat((value == null ? 0 : value[0]) + published).isEqualTo(3);
        if (published == 0) {
            assertThat(value[1]).isEqualTo(5_100);
        }
        assertThat(batcher.drain()).isEmpty();
        batcher.close();
    }
}
