package dev.sluice.worker;

import dev.sluice.worker.api.Task;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * One task a share consumer was handed, and how far it got. Its slot thread moves {@link #state} (by
 * compare-and-set only) and completes {@link #ending}; the fields below them belong to the consumer's
 * thread alone.
 */
final class ShareJob {
    /** Waiting for its slot or a slot thread. */
    static final int WAITING = 0;
    /** Its handler runs. */
    static final int RUNNING = 1;
    /**
     * The consumer gave up on it: a handler past its timeout (the consumer failed the attempt itself), or a
     * task still waiting while every slot thread is held by such handlers (released unrun).
     */
    static final int ABANDONED = 2;
    static final int ENDED = 3;
    /** On a slot thread, its handler not started yet: the consumer no longer gives it up. */
    static final int CLAIMED = 4;

    /** The task as first handed out: what its slot thread reads and runs. */
    final ConsumerRecord<byte[], byte[]> record;
    final AtomicInteger state = new AtomicInteger(WAITING);
    volatile Task task;
    /** When its handler started (System.nanoTime), set before the state turns RUNNING. */
    volatile long startedNanos;
    /** How it ended: the acknowledgement it asks for. */
    final CompletableFuture<AcknowledgeType> ending = new CompletableFuture<>();

    /**
     * The record as last handed to the consumer: after a renewal Kafka hands a task back to its holder in a
     * later poll, and only that delivery can be acknowledged.
     */
    ConsumerRecord<byte[], byte[]> delivered;
    /** The acknowledgement its ending asks for, once the consumer has seen it end. */
    AcknowledgeType outcome;
    /** Acknowledged finally (not just renewed). */
    boolean acknowledged;
    /** Its lock could not be renewed: Kafka may have handed it to another worker, and it is no longer ours to acknowledge. */
    boolean lost;

    ShareJob(ConsumerRecord<byte[], byte[]> record) {
        this.record = record;
        this.delivered = record;
    }

    /** Whether the consumer still has to acknowledge it. */
    boolean open() {
        return !acknowledged && !lost;
    }
}
