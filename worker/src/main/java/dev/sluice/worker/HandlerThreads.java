package dev.sluice.worker;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The threads that run handlers: up to one per slot, taking started tasks from a shared queue.
 *
 * <p>Threads are woken sparingly. A thread that finishes a task takes the next one without being woken,
 * and a sleeping thread is woken only when nobody is looking for work: when a task is queued while no
 * thread is searching, or when the last searcher takes a task and more are queued (the next thread
 * then takes over the search). With fast handlers, two or three threads run everything; with slow ones,
 * each queued task wakes the next thread in turn until every slot is busy. Waking a thread per task, as
 * a {@code ThreadPoolExecutor} on a {@code LinkedBlockingQueue} does, costs a wake-up and a context switch
 * per task: with a no-op handler on two cores, more than the handler's work. See ADR 0003.
 *
 * <p>No task waits while a thread is free: a thread goes to sleep only after it has announced itself
 * idle and then found the queue empty, and a producer that queues a task either sees a searching thread
 * (which will find the task) or wakes an idle one. The worker never queues more tasks than it has free
 * slots.
 *
 * <p>A handler that runs past its timeout is interrupted and, until it returns, still holds its thread,
 * though its slot is free again: each such handler gets a stand-in thread ({@link #standIn()}) until it
 * returns ({@link #standInDone}), after which one idle thread ends; at most as many stand-ins as slots.
 */
final class HandlerThreads {

    private static final Logger LOG = LoggerFactory.getLogger(HandlerThreads.class);

    /** A thread that may sleep; {@code asleep} is cleared by whoever takes it off the idle list. */
    private static final class Sleeper {
        private final Thread thread;
        private volatile boolean asleep;

        Sleeper(Thread thread) {
            this.thread = thread;
        }
    }

    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    /** Threads asleep, the last one to arrive first (its caches are the warmest). */
    private final ConcurrentLinkedDeque<Sleeper> idle = new ConcurrentLinkedDeque<>();
    /** Threads looking at the queue: running no task and not asleep. */
    private final AtomicInteger searching = new AtomicInteger();
    private final AtomicInteger threads = new AtomicInteger();
    private final Set<Thread> alive = ConcurrentHashMap.newKeySet();
    private final ThreadFactory factory;
    /** Slots plus stand-ins: the threads wanted. */
    private volatile int target;
    private final int slots;
    /** Guarded by this. */
    private int standIns;
    private volatile boolean shutdown;

    HandlerThreads(int slots, ThreadFactory factory) {
        this.slots = slots;
        this.target = slots;
        this.factory = factory;
    }

    /** Runs the task on a handler thread, at once if one is free. */
    void execute(Runnable task) {
        if (shutdown) {
            throw new IllegalStateException("the handler threads are shut down");
        }
        tasks.offer(task);
        if (searching.get() == 0) {
            wakeOne();
        }
    }

    /** Sets a sleeping thread searching, or starts a new one if fewer than wanted run. */
    private void wakeOne() {
        Sleeper sleeper = idle.pollFirst();
        if (sleeper != null) {
            searching.incrementAndGet(); // on its behalf: it counts as searching from now on
            sleeper.asleep = false;
            LockSupport.unpark(sleeper.thread);
            return;
        }
        for (int n = threads.get(); n < target && !shutdown; n = threads.get()) {
            if (threads.compareAndSet(n, n + 1)) {
                searching.incrementAndGet();
                Thread thread = factory.newThread(this::work);
                alive.add(thread);
                thread.start();
                return;
            }
        }
        // every thread is running a task: the first to finish takes the queued one
    }

    private void work() {
        Sleeper me = new Sleeper(Thread.currentThread());
        try {
            while (!shutdown) {
                Runnable task = tasks.poll();
                if (task != null) {
                    leaveSearch();
                    run(task);
                    searching.incrementAndGet();
                    continue;
                }
                int n = threads.get();
                if (n > target && threads.compareAndSet(n, n - 1)) {
                    leaveSearch();
                    return; // a stand-in no longer needed
                }
                me.asleep = true;
                idle.addFirst(me);
                if (searching.decrementAndGet() == 0 && !tasks.isEmpty()) {
                    // the last searcher, and a task came meanwhile: search again rather than sleep
                    if (idle.removeFirstOccurrence(me)) {
                        me.asleep = false;
                        searching.incrementAndGet();
                        continue;
                    }
                    // else a waker took it off the list: it counted it as searching and unparks it
                }
                while (me.asleep && !shutdown) {
                    LockSupport.park(this);
                }
            }
        } finally {
            alive.remove(Thread.currentThread());
        }
    }

    /** Stops searching; the last searcher to stop while tasks wait hands the search on. */
    private void leaveSearch() {
        if (searching.decrementAndGet() == 0 && !tasks.isEmpty()) {
            wakeOne();
        }
    }

    private static void run(Runnable task) {
        try {
            task.run();
        } catch (RuntimeException | Error e) {
            LOG.error("A handler thread's task failed unexpectedly", e);
        }
        Thread.interrupted(); // an interrupt meant for the last task does not carry over to the next
    }

    /**
     * A handler overran its timeout and keeps its thread: add a thread for the slot it gave back, unless
     * as many stand-ins as slots run already (handlers that ignore interruption would otherwise add
     * threads without bound).
     *
     * @return false when no stand-in was added: the worker has one slot fewer until a stuck handler returns
     */
    synchronized boolean standIn() {
        if (standIns >= slots) {
            return false;
        }
        standIns++;
        target = target + 1;
        if (searching.get() == 0) {
            wakeOne();
        }
        return true;
    }

    /** The overrunning handler returned: its stand-in, if it had one, is no longer needed (an idle thread ends). */
    synchronized void standInDone(boolean hadOne) {
        if (hadOne) {
            standIns--;
            target = target - 1;
        }
    }

    /** Stand-in threads running for handlers past their timeout. */
    synchronized int standIns() {
        return standIns;
    }

    /** Threads alive now (for tests). */
    int threads() {
        return threads.get();
    }

    /** Stops every thread, interrupting running handlers; queued tasks are dropped. */
    void shutdownNow() {
        shutdown = true;
        tasks.clear();
        for (Thread thread : alive) {
            thread.interrupt();
            LockSupport.unpark(thread);
        }
    }
}
