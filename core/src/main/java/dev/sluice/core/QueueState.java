package dev.sluice.core;

import java.util.Locale;

/** Whether a queue releases tasks. A removed queue has no state: its keys and topic are gone. */
public enum QueueState {
    /** Tasks are released at the queue's rate. */
    ACTIVE,
    /** Nothing is released; tasks wait in Kafka until the queue is activated again. */
    INACTIVE;

    /** The value stored in Redis and shown in the API: {@code active} or {@code inactive}. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static QueueState fromWireName(String text) {
        for (QueueState state : values()) {
            if (state.wireName().equals(text)) {
                return state;
            }
        }
        throw new IllegalArgumentException("unknown queue state \"" + text + "\"; expected active or inactive");
    }
}
