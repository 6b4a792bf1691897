package dev.sluice.core;

import java.time.Instant;
import java.util.Objects;

/**
 * A queue as the registry knows it.
 *
 * @param createdAt and {@code updatedAt}: Redis server time of the change
 */
public record Queue(QueueName name, QueueSpec spec, QueueState state, Instant createdAt, Instant updatedAt) {

    public Queue {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(updatedAt, "updatedAt");
    }

    public boolean isActive() {
        return state == QueueState.ACTIVE;
    }
}
