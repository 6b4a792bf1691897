package dev.sluice.core;

/**
 * Kafka record headers that carry a task's metadata; the record value is the payload, untouched.
 * All values are UTF-8 text; times are milliseconds since the epoch, except those named {@code -us}
 * (microseconds since the epoch on Redis's clock).
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
    /**
     * The slot the gate released the task for, in milliseconds: when it may start (also the forwarded
     * record's timestamp).
     */
    public static final String RELEASED_AT = "sluice-released-at";
    /**
     * When the task may start, stamped by the gate: its slot on the queue's schedule, in microseconds
     * on Redis's clock. A worker starts it then, not earlier.
     */
    public static final String START_AT = "sluice-start-at-us";
    /**
     * The latest the task may start, stamped by the gate (microseconds on Redis's clock): a task that
     * cannot start by then goes back through its queue's limit instead of running late.
     */
    public static final String START_BY = "sluice-start-by-us";
    /**
     * How many times the task went back through its queue's limit after missing its start (absent:
     * never), stamped by the worker that sent it back: with the id and the attempt it names each of a
     * task's releases, so a release seen twice is a duplicate and not a new slot.
     */
    public static final String REQUEUES = "sluice-requeues";

    /** Why the task's last attempt failed, stamped by the worker on a retry or a dead letter. */
    public static final String ERROR = "sluice-error";
    /** Why the router refused a submission, on its record in the rejected topic. */
    public static final String REJECT_REASON = "sluice-reject-reason";
    /**
     * The dead letter a task was replayed from ({@code <topic>/<partition>@<offset>}), stamped by the
     * admin service on the replay it writes to the task's queue.
     */
    public static final String REPLAYED_FROM = "sluice-replayed-from";

    private TaskHeaders() {
    }
}
