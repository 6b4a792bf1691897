package dev.sluice.gate;

import dev.sluice.core.QueueName;
import dev.sluice.core.TaskEvent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Releases counted by queue and calendar second, to be published as one {@code released} event per
 * queue and second: the count, at the time of the first release in that second. Not thread-safe.
 */
final class ReleaseTally {

    /** Per queue, per second: {count, first release in milliseconds}. */
    private final Map<QueueName, TreeMap<Long, long[]>> counts = new HashMap<>();

    /** The last second counted, kept at hand: a queue's releases come in runs of the same second. */
    private QueueName lastQueue;
    private long lastSecond;
    private long[] last;

    /** One release of {@code queue} at {@code atMillis}. */
    void add(QueueName queue, long atMillis) {
        long second = atMillis / 1000;
        if (last != null && queue.equals(lastQueue) && second == lastSecond) {
            last[0]++;
            last[1] = Math.min(last[1], atMillis);
            return;
        }
        last = add(queue, second, 1, atMillis);
        lastQueue = queue;
        lastSecond = second;
    }

    /** Adds every count of {@code other} to this one. */
    void addAll(ReleaseTally other) {
        other.counts.forEach((queue, seconds) -> seconds.forEach((second, value) ->
                add(queue, second, value[0], value[1])));
    }

    private long[] add(QueueName queue, long second, long count, long firstMillis) {
        long[] value = counts.computeIfAbsent(queue, q -> new TreeMap<>()).computeIfAbsent(second,
                s -> new long[] {0, firstMillis});
        value[0] += count;
        value[1] = Math.min(value[1], firstMillis);
        return value;
    }

    boolean isEmpty() {
        return counts.isEmpty();
    }

    /** How many releases are counted, over every queue and second. */
    long total() {
        return counts.values().stream().flatMap(s -> s.values().stream()).mapToLong(v -> v[0]).sum();
    }

    /** The events to publish: per queue, one per second, oldest first. */
    List<TaskEvent> events() {
        List<TaskEvent> events = new ArrayList<>();
        counts.forEach((queue, seconds) -> seconds.values().forEach(value ->
                events.add(TaskEvent.released(queue, Math.toIntExact(value[0]), value[1]))));
        return events;
    }
}
