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
 * <p>The value is JSON: {@code {"type":"released","queue":"q","id":"…","attempt":0,"at":1700000000000}}
 * with an optional {@code "detail"} (the error of a failure, for instance).
 *
 * @param type what happened
 * @param at when, in milliseconds since the epoch
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TaskEvent(Type type, String queue, String id, int attempt, long at, String detail) {

    /** What happened to the task; the names are the wire values. */
    public enum Type {
        released, started, completed, failed, retried, dead
    }

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    public TaskEvent {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(queue, "queue");
    }

    public static TaskEvent of(Type type, QueueName queue, String id, int attempt, long at) {
        return new TaskEvent(type, queue.value(), id, attempt, at, null);
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
