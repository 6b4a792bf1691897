package dev.sluice.ingest;

import dev.sluice.core.QueueName;

/** A task was submitted to a queue that does not exist: nothing was written. */
public final class UnknownQueueException extends IllegalArgumentException {

    private final QueueName queue;

    public UnknownQueueException(QueueName queue) {
        super("no queue named \"" + queue.value() + "\": create it first (sluice queues create RATE --name "
                + queue.value() + "), or submit through TaskSubmitter.unchecked to let the router reject it later");
        this.queue = queue;
    }

    public QueueName queue() {
        return queue;
    }
}
