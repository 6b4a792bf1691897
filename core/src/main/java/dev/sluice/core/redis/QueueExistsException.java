package dev.sluice.core.redis;

import dev.sluice.core.QueueName;

/** A queue of that name exists already. */
public final class QueueExistsException extends RuntimeException {

    private static final long serialVersionUID = 1L;
    private final transient QueueName queue;

    public QueueExistsException(QueueName queue) {
        super("queue \"" + queue + "\" already exists");
        this.queue = queue;
    }

    public QueueName queue() {
        return queue;
    }
}
