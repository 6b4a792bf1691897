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

    /** One release of {@code queue} at {@code atMillis}. */
    void add(QueueName queue, long atMillis) {
        add(queue, atMillis / 1000, 1, atMillis);
    }

    /** Adds every count of {@code other} to this one. */
    void addAll(ReleaseTally other) {
        other.counts.forEach((queue, seconds) -> seconds.forEach((second, value) ->
                add(queue, second, value[0], value[1])));
    }

    private void add(QueueName queue, long second, long count, long firstMillis) {
        long[] value = counts.computeIfAbsent(queue, q -> new TreeMap<>()).computeIfAbsent(second,
                s -> new long[] {0, firstMillis});
        value[0] += count;
        value[1] = Math.min(value[1], firstMillis);
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
