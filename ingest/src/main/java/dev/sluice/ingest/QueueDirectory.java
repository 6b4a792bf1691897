package dev.sluice.ingest;

import dev.sluice.core.QueueName;
import dev.sluice.core.QueueState;
import java.util.Optional;

/** What the router knows of queues: whether one exists, and in which state. */
public interface QueueDirectory {

    /** The queue's state, or empty when no such queue exists (never created, or removed). */
    Optional<QueueState> stateOf(QueueName queue);
}
