package dev.sluice.worker;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.apache.kafka.common.TopicPartition;

/**
 * The hand-off from the slot threads to the worker's loop thread: tasks that ended, and wake-ups. The
 * loop sleeps in {@link #await} when it has nothing to do but wait for a task to end; the first slot
 * thread to report one (or to {@link #wake} it for another reason) unparks it, once per sleep.
 * Lock-free: one queue node per task.
 */
final class Completions {

    /**
     * A task the loop no longer holds: {@code finished} when it succeeded (a task written back is
     * finished by its {@link WriteBacks} transaction, one not started by nobody: its offset stays
     * uncommitted and it runs again after a restart or rebalance); {@code heldSlot} when it had taken one
     * of the slots. {@code tenure} is its partition's token when it was taken, so that the end of a task
     * from before a revocation is not counted in the partition's new tracker (the partition's new owner,
     * maybe this worker again, runs that task again).
     */
    record Completion(TopicPartition partition, long offset, boolean finished, boolean heldSlot, Object tenure) {
    }

    private final ConcurrentLinkedQueue<Completion> queue = new ConcurrentLinkedQueue<>();
    /** 1 while the loop sleeps waiting for a completion: the first to add one clears it and wakes the loop. */
    private volatile int awaiting;
    private static final AtomicIntegerFieldUpdater<Completions> AWAITING =
            AtomicIntegerFieldUpdater.newUpdater(Completions.class, "awaiting");
    private volatile Thread loopThread;

    /** The thread that {@link #await}s; set by it before its first wait. */
    void loopThread(Thread thread) {
        loopThread = thread;
    }

    /** Hands a completion to the loop, waking it if it sleeps waiting for one (one wake-up per wait). */
    void report(Completion completion) {
        queue.add(completion);
        wake();
    }

    /** Wakes the loop if it sleeps in {@link #await}. */
    void wake() {
        if (awaiting == 1 && AWAITING.compareAndSet(this, 1, 0)) {
            LockSupport.unpark(loopThread);
        }
    }

    /**
     * On the loop thread: waits up to {@code nanos} for a completion or a {@link #wake}. The loop
     * announces that it sleeps, then looks once more ({@code stillWait}, and for a completion), so what
     * happened meanwhile is either seen or wakes it.
     */
    void await(long nanos, BooleanSupplier stillWait) {
        if (!queue.isEmpty() || nanos <= 0) {
            return;
        }
        awaiting = 1;
        try {
            if (queue.isEmpty() && stillWait.getAsBoolean()) {
                LockSupport.parkNanos(this, nanos);
            }
        } finally {
            awaiting = 0;
        }
    }

    /** The next completion, or null. */
    Completion poll() {
        return queue.poll();
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }
}
