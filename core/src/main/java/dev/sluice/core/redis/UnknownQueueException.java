package dev.sluice.core.redis;

import dev.sluice.core.QueueName;

/** The queue does not exist (never created, or removed). */
public final class UnknownQueueException extends RuntimeException {

    private static final long serialVersionUID = 1L;
    private final transient QueueName queue;

    public UnknownQueueException(QueueName queue) {
        super("queue \"" + queue + "\" does not exist");
        this.queue = queue;
    }

    public QueueName queue() {
        return queue;
    }
}
