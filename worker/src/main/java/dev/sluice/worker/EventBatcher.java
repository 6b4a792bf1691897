package dev.sluice.worker;

import dev.sluice.core.TaskEvent;
import dev.sluice.core.Topics;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
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
 * event per task. Each thread counts into a tally of its own, merged when published. Counts not yet
 * published when a worker dies are lost with it (its unfinished tasks run again elsewhere and are
 * counted there). Thread-safe.
 */
final class EventBatcher implements AutoCloseable {

    /** A count's key: which event, of which queue, in which calendar second. */
    record Key(TaskEvent.Type type, String queue, long second) {
    }

    /**
     * One thread's counts, {count, firstMillis} per key. Only its own thread counts into it, so its lock
     * is taken without contention except while the flusher drains it; one shared concurrent map was a
     * tenth of a handler thread's time with a no-op handler.
     */
    static final class Tally {
        private final Thread owner;
        private Map<Key, long[]> counts = new HashMap<>();
        /** Per event type, the key counted last and its cell: the same queue and second come in runs. */
        private final Key[] lastKey = new Key[TaskEvent.Type.values().length];
        private final long[][] lastCell = new long[TaskEvent.Type.values().length][];

        Tally(Thread owner) {
            this.owner = owner;
        }

        synchronized void count(TaskEvent.Type type, String queue, long atMillis) {
            long second = atMillis / 1000;
            int t = type.ordinal();
            Key last = lastKey[t];
            long[] cell;
            if (last != null && last.second() == second && last.queue().equals(queue)) {
                cell = lastCell[t];
            } else {
                Key key = new Key(type, queue, second);
                cell = counts.computeIfAbsent(key, k -> new long[] {0, atMillis});
                lastKey[t] = key;
                lastCell[t] = cell;
            }
            cell[0]++;
            cell[1] = Math.min(cell[1], atMillis);
        }

        synchronized Map<Key, long[]> drain() {
            Map<Key, long[]> drained = counts;
            counts = new HashMap<>();
            java.util.Arrays.fill(lastKey, null);
            java.util.Arrays.fill(lastCell, null);
            return drained;
        }
    }

    private final Set<Tally> tallies = ConcurrentHashMap.newKeySet();
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

    /**
     * A tally for the calling thread, which alone counts into it and keeps it (one per thread: the
     * worker's handler threads each hold theirs in their slot). Published until the thread has ended.
     */
    Tally newTally() {
        Tally mine = new Tally(Thread.currentThread());
        tallies.add(mine);
        return mine;
    }

    /** Every count gathered so far, summed over the threads, as {count, firstMillis} per key; forgets them. */
    Map<Key, long[]> drain() {
        Map<Key, long[]> all = new HashMap<>();
        for (Tally each : tallies) {
            boolean ended = !each.owner.isAlive(); // read first: a thread that ended counts nothing more
            each.drain().forEach((key, value) -> all.merge(key, value,
                    (a, b) -> new long[] {a[0] + b[0], Math.min(a[1], b[1])}));
            if (ended) {
                tallies.remove(each);
            }
        }
        return all;
    }

    /** Publishes and forgets every count gathered so far. */
    void flush() {
        drain().forEach((key, value) -> {
            TaskEvent event = new TaskEvent(key.type(), key.queue(), null, 0, value[1], (int) value[0], null);
            producer.send(new ProducerRecord<>(topics.events(), null, event.at(),
                    key.queue().getBytes(StandardCharsets.UTF_8), event.toJson()));
        });
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
