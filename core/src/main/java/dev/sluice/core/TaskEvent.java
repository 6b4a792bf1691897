package dev.sluice.core;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * One step in a task's life, published to {@code sluice.events} with the queue name as the key.
 *
 * <p>The value is JSON: {@code {"type":"completed","queue":"q","id":"…","attempt":0,"at":1700000000000,
 * "count":1}} with an optional {@code "detail"} (the error of a failure, for instance).
 *
 * <p>One event may stand for several tasks: the gate writes {@code released} events per queue and
 * calendar second, every 250 ms (a second may take more than one), with {@code count} the tasks it released then, {@code at} the
 * first of their release times and no {@code id}. Counting by the sum of {@code count} gives exact
 * totals and exact per-second figures; each task's own release time is its record's timestamp on the
 * ready topic. A missing {@code count} reads as 1.
 *
 * @param type what happened
 * @param id the task, or {@code null} for an event that stands for several
 * @param at when, in milliseconds since the epoch
 * @param count how many tasks this event stands for (at least 1)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TaskEvent(Type type, String queue, String id, int attempt, long at, int count, String detail) {

    /**
     * What happened to the task; the names are the wire values. {@code requeued}: the task could not
     * start within its tolerance of its slot (it reached a worker late: a worker restart, a rebalance,
     * a busy worker) and went back through its queue's limit for a new slot, not counting as an attempt.
     * {@code drained}: the queue's work is done (nothing waits or runs, every task completed or died),
     * {@code count} its tasks so far; published once per count by the admin service.
     */
    public enum Type {
        released, started, completed, failed, retried, dead, requeued, drained
    }

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    public TaskEvent {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(queue, "queue");
        if (count == 0) {
            count = 1;
        }
        if (count < 0) {
            throw new IllegalArgumentException("an event stands for at least one task, got count " + count);
        }
    }

    /** One task's event. */
    public static TaskEvent of(Type type, QueueName queue, String id, int attempt, long at) {
        return new TaskEvent(type, queue.value(), id, attempt, at, 1, null);
    }

    /** One task's event with a detail (an error message, say). */
    public static TaskEvent of(Type type, QueueName queue, String id, int attempt, long at, String detail) {
        return new TaskEvent(type, queue.value(), id, attempt, at, 1, detail);
    }

    /** {@code count} releases of one queue within one second, the first at {@code at}. */
    public static TaskEvent released(QueueName queue, int count, long at) {
        return new TaskEvent(Type.released, queue.value(), null, 0, at, count, null);
    }

    public byte[] toJson() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("could not write event " + this, e);
        }
    }

    /** @throws IllegalArgumentException when the bytes are not an event */
    public static TaskEvent fromJson(byte[] bytes) {
        try {
            return JSON.readValue(bytes, TaskEvent.class);
        } catch (java.io.IOException | RuntimeException e) {
            String text = bytes == null ? "null" : new String(bytes, StandardCharsets.UTF_8);
            throw new IllegalArgumentException("not a Sluice event: " + text.substring(0, Math.min(200, text.length())), e);
        }
    }
}
