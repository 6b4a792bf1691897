package dev.sluice.worker;

import dev.sluice.core.TaskEvent;
import dev.sluice.core.Topics;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Counts {@code started} and {@code completed} per queue and calendar second and publishes one event
 * per count every 100 ms, as the gate does for {@code released}: a worker running 30,000 tasks a
 * second writes a few dozen events a second, not 60,000. Failures, retries and dead letters stay one
 * event per task. Counts not yet published when a worker dies are lost with it (its unfinished tasks
 * run again elsewhere and are counted there). Thread-safe.
 */
final class EventBatcher implements AutoCloseable {

    private record Key(TaskEvent.Type type, String queue, long second) {
    }

    /** Per key: the count and the first time, as {count, firstMillis}. */
    private final Map<Key, long[]> counts = new ConcurrentHashMap<>();
    private final Producer<byte[], byte[]> producer;
    private final Topics topics;
    private final ScheduledExecutorService flusher;

    EventBatcher(Producer<byte[], byte[]> producer, Topics topics) {
        this.producer = producer;
        this.topics = topics;
        this.flusher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "sluice-events");
            thread.setDaemon(true);
            return thread;
        });
        flusher.scheduleWithFixedDelay(this::flush, 100, 100, TimeUnit.MILLISECONDS);
    }

    void count(TaskEvent.Type type, String queue, long atMillis) {
        counts.compute(new Key(type, queue, atMillis / 1000), (key, value) -> {
            if (value == null) {
                return new long[] {1, atMillis};
            }
            value[0]++;
            value[1] = Math.min(value[1], atMillis);
            return value;
        });
    }

    /** Publishes and forgets every count gathered so far. */
    void flush() {
        for (Key key : counts.keySet()) {
            long[] value = counts.remove(key);
            if (value != null) {
                TaskEvent event = new TaskEvent(key.type(), key.queue(), null, 0, value[1], (int) value[0], null);
                producer.send(new ProducerRecord<>(topics.events(), null, event.at(),
                        key.queue().getBytes(StandardCharsets.UTF_8), event.toJson()));
            }
        }
    }

    @Override
    public void close() {
        flusher.shutdown();
        try {
            flusher.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        flush();
    }
}
