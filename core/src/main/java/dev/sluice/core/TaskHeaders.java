package dev.sluice.core;

/**
 * Kafka record headers that carry a task's metadata; the record value is the payload, untouched.
 * All values are UTF-8 text; times are milliseconds since the epoch.
 */
public final class TaskHeaders {

    /** The task's id, assigned on submission when the producer gave none. */
    public static final String ID = "sluice-id";
    /** The queue the task belongs to. */
    public static final String QUEUE = "sluice-queue";
    /** When the task was submitted. */
    public static final String SUBMITTED_AT = "sluice-submitted-at";
    /** 0 for the first run, incremented by each retry. */
    public static final String ATTEMPT = "sluice-attempt";
    /** How many attempts the task's queue allows, stamped by the gate from the queue's settings. */
    public static final String MAX_ATTEMPTS = "sluice-max-attempts";
    /** When the gate released the task (also the forwarded record's timestamp). */
    public static final String RELEASED_AT = "sluice-released-at";

    private TaskHeaders() {
    }
}
