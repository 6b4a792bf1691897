package dev.sluice.worker;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The threads that run handlers: one per slot, each taking the next started task from a queue, so a
 * thread that finishes a task picks up the next one without being woken for it. (A thread handed
 * each task, as a cached pool does, costs a wake-up per task: about half of the worker's time with a
 * fast handler.) The worker never starts more tasks than it has free slots, so the queue holds at most
 * the tasks of one poll for a few microseconds.
 *
 * <p>A handler that runs past its timeout still holds its thread, though its slot is free again: each
 * such handler gets a stand-in thread ({@link #standIn()}) until it returns ({@link #standInDone()}),
 * so the worker always has a thread for every free slot.
 */
final class HandlerThreads {

    private final ThreadPoolExecutor pool;

    HandlerThreads(int slots, ThreadFactory threads) {
        // core = slots, created as the first tasks arrive; the queue never holds more than the free slots
        this.pool = new ThreadPoolExecutor(slots, Integer.MAX_VALUE, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), threads);
    }

    void execute(Runnable task) {
        pool.execute(task);
    }

    /** A handler overran its timeout and keeps its thread: add a thread for the slot it gave back. */
    synchronized void standIn() {
        pool.setCorePoolSize(pool.getCorePoolSize() + 1);
    }

    /** The overrunning handler returned: its stand-in is no longer needed (an idle thread ends). */
    synchronized void standInDone() {
        pool.setCorePoolSize(pool.getCorePoolSize() - 1);
    }

    /** Threads alive now (for tests). */
    int threads() {
        return pool.getPoolSize();
    }

    void shutdownNow() {
        pool.shutdownNow();
    }
}
