package dev.sluice.worker;

import dev.sluice.core.QueueName;
import dev.sluice.core.TaskHeaders;
import dev.sluice.worker.api.RecordHeaderMap;
import dev.sluice.worker.api.Task;
import dev.sluice.worker.api.TaskHandler;
import dev.sluice.worker.api.TaskResult;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The slot side of a worker: runs each task the loop hands over on a handler thread, at its slot,
 * and reports its end ({@link Completions}). Reads the task there (the loop, which also fetches, does
 * as little per task as it can), waits for its slot, sends it back through its queue's limit when it
 * cannot start in time, runs its handler, records the outcome: a success finished at once, a failure's
 * retry or dead letter through {@link WriteBacks}. Its watchdog ({@link #timeOutOverdue}) fails and
 * interrupts handlers past their timeout. Every way a task ends frees its slot.
 */
final class TaskRunner {

    private static final Logger LOG = LoggerFactory.getLogger(TaskRunner.class);

    private final WorkerConfig config;
    private final Map<String, TaskHandler> handlers;
    private final TaskOutcomes outcomes;
    private final WriteBacks writeBacks;
    private final HandlerThreads handlerThreads;
    private final WorkerMetrics metrics;
    private final MissedStarts missed;
    private final Completions completions;
    /** Each owned partition's token (the loop's): a task starts only under the one it was handed over in. */
    private final Map<TopicPartition, Object> tenures;
    /** Per handler thread, the task it runs now, for the timeout watchdog (any thread). */
    private final Set<Slot> slots = ConcurrentHashMap.newKeySet();
    private final ThreadLocal<Slot> slot;
    /** Slot threads holding a task until its slot. */
    private final AtomicInteger waitingInSlots = new AtomicInteger();
    /** Handlers past their timeout that have not returned yet. */
    private final AtomicInteger stuckHandlers = new AtomicInteger();
    /** Queue names already checked, each mapped to its first instance (any slot thread). */
    private final Map<String, String> validQueues = new ConcurrentHashMap<>();

    TaskRunner(WorkerConfig config, Map<String, TaskHandler> handlers, TaskOutcomes outcomes, WriteBacks writeBacks,
               HandlerThreads handlerThreads, WorkerMetrics metrics, MissedStarts missed, Completions completions,
               Map<TopicPartition, Object> tenures) {
        this.config = config;
        this.handlers = handlers;
        this.outcomes = outcomes;
        this.writeBacks = writeBacks;
        this.handlerThreads = handlerThreads;
        this.metrics = metrics;
        this.missed = missed;
        this.completions = completions;
        this.tenures = tenures;
        this.slot = ThreadLocal.withInitial(() -> {
            Slot mine = new Slot(Thread.currentThread(), outcomes.newTally());
            slots.add(mine);
            return mine;
        });
    }

    /**
     * Hands the record to a slot thread, which reads it into a {@link Task}, waits for its slot and
     * runs its handler. The caller counted the slot taken; the task's end gives it back.
     *
     * @param tenure its partition's token now
     * @param startNanos when to start it ({@link WorkerLoop#NOW}: at once); the caller counted it in
     *     {@link #waitingInSlots()} when it waits
     * @param byNanos the latest it may start; later, it goes back through its queue's limit
     */
    void start(TopicPartition partition, ConsumerRecord<byte[], byte[]> record, Object tenure, long startNanos,
               long byNanos) {
        handlerThreads.execute(() -> run(partition, record, tenure, startNanos, byNanos));
    }

    /** Slot threads holding a task until its slot. */
    int waitingInSlots() {
        return waitingInSlots.get();
    }

    /** A task goes to a slot thread to wait for its slot there. */
    void waitsInSlot() {
        waitingInSlots.incrementAndGet();
    }

    /** Handlers past their timeout that have not returned yet (they ignore interruption, or are slow to). */
    int stuckHandlers() {
        return stuckHandlers.get();
    }

    /**
     * Reads a made-up task the way a slot thread reads each one, before the first real one: in a fresh
     * JVM the first reading loaded classes for 20 to 30 ms, and the first task, handed to its slot thread
     * 20 ms ahead of its slot, started past its latest start.
     */
    void warmUp(ConsumerRecord<byte[], byte[]> record) {
        Task task = toTask(record, new Slot(Thread.currentThread(), null));
        task.headers().get(TaskHeaders.MAX_ATTEMPTS);
    }

    /** On a slot thread: reads the task, waits for its slot, runs its handler, reports the result. */
    private void run(TopicPartition partition, ConsumerRecord<byte[], byte[]> record, Object tenure, long startNanos,
                     long byNanos) {
        Slot mine = slot.get();
        Task task;
        try {
            task = toTask(record, mine);
        } catch (IllegalArgumentException malformed) {
            Task unknown = new Task(header(record, TaskHeaders.ID, "unknown"), "unknown", 0, record.value(),
                    Map.of(), Instant.now());
            complete(new Running(partition, record, unknown, System.nanoTime(), mine.tally, tenure),
                    TaskResult.fail("malformed task: " + malformed.getMessage()));
            return;
        }
        if (startNanos != WorkerLoop.NOW) {
            boolean waited = waitUntil(startNanos);
            waitingInSlots.decrementAndGet();
            completions.wake(); // the loop may be waiting to hand over the next task
            if (!waited) {
                return; // interrupted: the worker is closing without starting it, so it runs again elsewhere
            }
        }
        if (tenure == null || tenures.get(partition) != tenure) {
            // revoked while it waited: not started, not sent back, its offset not committed here
            completions.report(new Completions.Completion(partition, record.offset(), false, true, tenure));
            return;
        }
        TaskHandler handler = handlers.get(config.queueHandlers().getOrDefault(task.queue(), config.handler()));
        // the last look at the clock before the call: what runs between the two delays the call past it
        long now = System.nanoTime();
        if (now > byNanos) {
            // too late to start next to the tasks that started on time: a new slot instead
            missed.atSlot((now - byNanos) / 1_000);
            requeue(partition, record, true, tenure);
            return;
        }
        metrics.onStarted();
        Running running = new Running(partition, record, task, System.nanoTime(), mine.tally, tenure);
        mine.running = running;
        outcomes.started(task, mine.tally);
        TaskResult result;
        try {
            result = handler.handle(task);
        } catch (Exception | Error e) {
            // an Error too (an assertion, a stack overflow, a class missing): it fails the attempt like
            // an exception; escaping, it left the task unfinished and its slot taken for good
            result = TaskResult.retry(e.toString());
        } finally {
            synchronized (mine) { // the watchdog interrupts only while this task is the slot's
                mine.running = null;
            }
        }
        if (running.end()) {
            complete(running, result);
        } else { // the watchdog timed it out, interrupted it, and gave this thread a stand-in meanwhile
            Thread.interrupted(); // meant for the task that timed out, not the next one
            if (running.stuck) {
                handlerThreads.standInDone(running.hadStandIn);
                stuckHandlers.decrementAndGet();
            }
        }
    }

    /**
     * Parks until local time {@code nanos}: within some tens of microseconds of it, more when the
     * machine is busy (the task then starts late, within its tolerance, or goes back).
     *
     * @return false when interrupted first
     */
    static boolean waitUntil(long nanos) {
        for (long left; (left = nanos - System.nanoTime()) > 0; ) {
            LockSupport.parkNanos(left);
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    /**
     * Sends a task that cannot start within its tolerance back through its queue's limit: written with
     * the commit that finishes it ({@link WriteBacks}), in the order asked. Not an attempt: no handler ran.
     * Frees its slot at once when it held one.
     */
    void requeue(TopicPartition partition, ConsumerRecord<byte[], byte[]> record, boolean heldSlot,
                         Object tenure) {
        TaskOutcomes.WriteBack back = outcomes.requeue(record);
        writeBacks.add(partition, record.offset(), tenure, new TaskOutcomes.WriteBack(back.record(), topic -> {
            metrics.onRequeued();
            back.written().accept(topic);
        }));
        if (heldSlot) {
            completions.report(new Completions.Completion(partition, record.offset(), false, true, tenure));
        }
    }

    /** A handler thread and the task it runs now, if any. */
    private static final class Slot {
        private final Thread thread;
        private final EventBatcher.Tally tally;
        private volatile Running running;
        /** The queue name this thread checked last (its own thread only): tasks come in runs of a queue. */
        private String lastQueue;

        Slot(Thread thread, EventBatcher.Tally tally) {
            this.thread = thread;
            this.tally = tally;
        }
    }

    /**
     * A task handed to its handler; whoever ends it first (its handler's thread or the watchdog) reports
     * its end.
     */
    private static final class Running {
        private static final AtomicIntegerFieldUpdater<Running> ENDED =
                AtomicIntegerFieldUpdater.newUpdater(Running.class, "ended");
        private volatile int ended;
        /** Set by the watchdog that timed it out, under the slot's lock: its handler was still running. */
        boolean stuck;
        /** ... and its thread got a stand-in. */
        boolean hadStandIn;
        private final TopicPartition partition;
        private final ConsumerRecord<byte[], byte[]> record;
        private final Task task;
        private final long startedNanos;
        /** The event tally of the handler thread that started it. */
        private final EventBatcher.Tally tally;
        /** Its partition's token when it was taken (see {@link Completions.Completion}). */
        private final Object tenure;

        Running(TopicPartition partition, ConsumerRecord<byte[], byte[]> record, Task task, long startedNanos,
                EventBatcher.Tally tally, Object tenure) {
            this.tally = tally;
            this.tenure = tenure;
            this.partition = partition;
            this.record = record;
            this.task = task;
            this.startedNanos = startedNanos;
        }

        TopicPartition partition() {
            return partition;
        }

        ConsumerRecord<byte[], byte[]> record() {
            return record;
        }

        Task task() {
            return task;
        }

        long startedNanos() {
            return startedNanos;
        }

        /** True for the one caller that ends it. */
        boolean end() {
            return ENDED.compareAndSet(this, 0, 1);
        }
    }

    private void complete(Running task, TaskResult result) {
        finish(task, result);
    }

    /**
     * Fails the attempts that ran past the handler timeout (called every 50 ms by the worker). One
     * watchdog for all tasks instead of a timer per task: the per-task timer cost more than a no-op
     * handler.
     */
    void timeOutOverdue() {
        long limit = config.handlerTimeout().toNanos();
        long now = System.nanoTime();
        for (Slot each : slots) {
            Running task = each.running;
            if (task == null && !each.thread.isAlive()) {
                slots.remove(each); // a stand-in thread that ended
            } else if (task != null && now - task.startedNanos() >= limit && task.end()) {
                synchronized (each) { // the handler's thread clears running under this lock when it returns
                    if (each.running == task) {
                        each.thread.interrupt(); // a handler blocked in a sleep or a wait gives its thread back
                        task.stuck = true;
                        stuckHandlers.incrementAndGet();
                        task.hadStandIn = handlerThreads.standIn();
                        if (!task.hadStandIn) {
                            LOG.error("{} handlers are past their timeout and still running (interrupted, they go"
                                    + " on): no more stand-in threads; this worker runs {} tasks at once fewer until"
                                    + " they return", stuckHandlers.get(), stuckHandlers.get() - handlerThreads.standIns());
                        }
                    }
                }
                complete(task, TaskResult.retry("timed out after " + config.handlerTimeout().toMillis() + " ms"));
            }
        }
    }

    /**
     * Records the outcome and frees the slot, on the handler's thread (the watchdog's for a timeout): a
     * success is finished at once, a failure when its retry or dead letter is written ({@link WriteBacks}).
     */
    private void finish(Running running, TaskResult result) {
        ConsumerRecord<byte[], byte[]> record = running.record();
        Task task = running.task();
        boolean finished = false;
        try {
            if (result instanceof TaskResult.Failure failure) {
                long backoff = 1_000L << Math.min(10, task.attempt());
                writeBacks.add(running.partition(), record.offset(), running.tenure,
                        outcomes.failed(task, record, failure, backoff));
                metrics.onFailed();
            } else {
                outcomes.completed(task, running.tally); // on the handler thread that started it
                metrics.onCompleted();
                finished = true;
            }
        } catch (RuntimeException e) {
            // not recorded: its slot is free again, but it is not finished, so its offset is not committed
            // and the task runs again after a restart or rebalance
            LOG.error("Task {} of queue {} could not be recorded as finished: {}", task.id(), task.queue(), e.toString());
        }
        completions.report(new Completions.Completion(running.partition(), record.offset(), finished, true, running.tenure));
    }

    private Task toTask(ConsumerRecord<byte[], byte[]> record, Slot mine) {
        Map<String, String> headers = new RecordHeaderMap(record.headers());
        return read(record, headers, knownQueue(headers.get(TaskHeaders.QUEUE), mine));
    }

    /**
     * The task a record carries, its queue name already checked.
     *
     * @throws IllegalArgumentException its attempt header is not a number
     */
    static Task read(ConsumerRecord<byte[], byte[]> record, Map<String, String> headers, String queue) {
        String id = headers.get(TaskHeaders.ID);
        if (id == null) {
            id = record.topic() + "-" + record.partition() + "-" + record.offset();
        }
        String attemptText = headers.get(TaskHeaders.ATTEMPT);
        int attempt;
        try {
            attempt = attemptText == null ? 0 : Integer.parseInt(attemptText.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(TaskHeaders.ATTEMPT + " is not a number: " + attemptText);
        }
        return new Task(id, queue, attempt, record.value(), headers, Instant.ofEpochMilli(record.timestamp()));
    }

    /**
     * The queue header checked as a queue name, each name once: the same few queues come with every
     * task, and the check was a tenth of the worker loop's time with a fast handler. Returns the first
     * instance of the name, whose hash code is computed once for the event counters' keys.
     */
    private String knownQueue(String queue, Slot mine) {
        if (queue == null) {
            throw new IllegalArgumentException("no " + TaskHeaders.QUEUE + " header");
        }
        if (queue.equals(mine.lastQueue)) {
            return mine.lastQueue; // no hashing of a new string when the queue is the last one's
        }
        String known = validQueues.get(queue);
        if (known == null) {
            QueueName.of(queue);
            if (validQueues.size() >= 10_000) {
                validQueues.clear(); // bounded: a worker seeing queue after queue forgets the old ones
            }
            validQueues.put(queue, queue);
            known = queue;
        }
        mine.lastQueue = known;
        return known;
    }

    static String header(ConsumerRecord<byte[], byte[]> record, String name, String fallback) {
        Header header = record.headers().lastHeader(name);
        return header == null || header.value() == null ? fallback : new String(header.value(), StandardCharsets.UTF_8);
    }
}
