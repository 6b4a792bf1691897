package dev.sluice.worker;

import dev.sluice.core.QueueName;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.redis.RedisClock;
import dev.sluice.worker.api.RecordHeaderMap;
import dev.sluice.worker.api.Task;
import dev.sluice.worker.api.TaskHandler;
import dev.sluice.worker.api.TaskResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's consumer thread: takes tasks from {@code sluice.ready}, hands each to a slot thread that
 * starts it at its stamped slot (ADR 0005), sends back through its queue's limit a task that cannot
 * start within its tolerance, and commits each partition up to its first unfinished task. Retries, dead
 * letters and tasks sent back are written by {@link WriteBacks} in one transaction with the commit that
 * finishes their tasks; a commit with none of them is the consumer's own.
 *
 * <p>Tasks with a start slot wait in a {@link StartSchedule} (at most {@link #MAX_SCHEDULED}): they are
 * fetched ahead, up to the gate's lead, whatever the slots are doing. A task without one (written to
 * the ready topic by something other than a gate) may start at once, and of those the worker holds no
 * more than one round of its slots: a poll returns at most {@code concurrency} records, and the
 * partitions are paused while any of them waits for a slot.
 */
final class WorkerLoop implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(WorkerLoop.class);
    private static final Duration POLL = Duration.ofMillis(100);
    private static final Duration COMMIT_INTERVAL = Duration.ofMillis(100);
    /**
     * A slot thread gets its task up to this long before the task's slot and waits the rest itself: the
     * loop wakes only to the millisecond (Kafka's poll) and later when the machine is busy, a parked slot
     * thread more precisely (here, 3 ms ahead gave a start lateness of 0.17/2.1/4.2 ms at p50/p90/p99,
     * 20 ms ahead 0.12/1.4/3.2 ms, 50/1s with the http handler).
     */
    static final long HANDOVER_NANOS = 20_000_000;
    /** While every slot is busy, tasks with a slot are still fetched this often (one round per poll). */
    private static final long FETCH_AHEAD_NANOS = 2_000_000;
    /** The most tasks waiting for their slot: the gate releases them at most its lead and horizon ahead. */
    static final int MAX_SCHEDULED = 10_000;
    /** Starts at once: a task without a start slot. */
    private static final long NOW = Long.MIN_VALUE;

    /**
     * A task the loop no longer holds, reported from a handler thread: {@code finished} when it succeeded
     * (a task written back is finished by its {@link WriteBacks} transaction, one not started by nobody:
     * its offset stays uncommitted and it runs again after a restart or rebalance); {@code heldSlot} when
     * it had taken one of the slots. {@code tenure} is its partition's token when it was taken, so that
     * the end of a task from before a revocation is not counted in the partition's new tracker (the
     * partition's new owner, maybe this worker again, runs that task again).
     */
    private record Completion(TopicPartition partition, long offset, boolean finished, boolean heldSlot, Object tenure) {
    }

    private final WorkerConfig config;
    private final Consumer<byte[], byte[]> consumer;
    private final Map<String, TaskHandler> handlers;
    private final TaskOutcomes outcomes;
    private final HandlerThreads handlerThreads;
    /** Retries, dead letters and tasks sent back, each written with the commit that finishes its task. */
    private final WriteBacks writeBacks;
    /** Asynchronous commits not answered yet: a transaction's commit waits for them, or they could undo it. */
    private int asyncCommits;
    private final WorkerMetrics metrics;
    private final PartitionOffsets offsets = new PartitionOffsets();
    private final RedisClock clock;
    /** Tasks with a start slot, waiting for it (loop thread only). */
    private final StartSchedule schedule = new StartSchedule();
    private boolean clockMissingLogged;
    private final MissedStarts missed = new MissedStarts();
    /**
     * Slot threads holding a task until its slot. At most half the slots do: a slot waiting is a slot not
     * running a handler, and at 2000/1s every slot waiting up to the handover left none free when the
     * next task's slot came (it started late and went back).
     */
    private final java.util.concurrent.atomic.AtomicInteger waitingInSlots = new java.util.concurrent.atomic.AtomicInteger();
    private final int maxWaitingInSlots;
    /** Per handler thread, the task it runs now, for the timeout watchdog (any thread). */
    private final Set<Slot> slots = ConcurrentHashMap.newKeySet();
    private final ThreadLocal<Slot> slot;
    /** Finished tasks, from the handler threads to the loop (lock-free: one per task). */
    private final ConcurrentLinkedQueue<Completion> completions = new ConcurrentLinkedQueue<>();
    /** 1 while the loop sleeps waiting for a completion: the first to add one clears it and wakes the loop. */
    private volatile int awaiting;
    private static final AtomicIntegerFieldUpdater<WorkerLoop> AWAITING =
            AtomicIntegerFieldUpdater.newUpdater(WorkerLoop.class, "awaiting");
    private volatile Thread loopThread;
    /** Records fetched and not started yet, in fetch order (loop thread only). */
    private final java.util.ArrayDeque<ConsumerRecord<byte[], byte[]>> pending = new java.util.ArrayDeque<>();
    private final AtomicBoolean active = new AtomicBoolean(true);
    /** Opened when the consumer first joined its group (partitions assigned, maybe none). */
    private final java.util.concurrent.CountDownLatch joined = new java.util.concurrent.CountDownLatch(1);
    private volatile boolean halted;
    /** Tasks started and not finished, on any partition (loop thread only). */
    private int inFlight;
    private boolean paused;
    /**
     * The partitions this worker owns, kept by the rebalance listener (loop thread only):
     * {@code consumer.assignment()} copies the set on every call, an allocation per task this avoids.
     */
    private java.util.Set<TopicPartition> owned = java.util.Set.of();
    /**
     * A token per owned partition, new at each assignment (loop thread writes, slot threads read): a task
     * handed to a slot thread starts only if its partition's token is still the one it was handed over
     * under. A task waiting for its slot when its partition was revoked is not started: the partition's
     * next owner, which may be this worker again, runs it (started here too, it ran twice at one slot).
     */
    private final Map<TopicPartition, Object> tenures = new java.util.concurrent.ConcurrentHashMap<>();
    private long nextCommitNanos;
    /** Handlers past their timeout that have not returned yet. */
    private final java.util.concurrent.atomic.AtomicInteger stuckHandlers = new java.util.concurrent.atomic.AtomicInteger();

    /** How long before its slot a task goes to its slot thread: {@link #HANDOVER_NANOS}, longer in tests. */
    private volatile long handoverNanos = HANDOVER_NANOS;

    /** Hands tasks to their slot threads this long before their slots (tests: a window they can aim at). */
    void handOverAhead(Duration ahead) {
        handoverNanos = ahead.toNanos();
    }

    /** Slot threads holding a task until its slot (for tests). */
    int waitingInSlots() {
        return waitingInSlots.get();
    }

    /** Handlers past their timeout that have not returned yet (they ignore interruption, or are slow to). */
    int stuckHandlers() {
        return stuckHandlers.get();
    }

    /** Queue names already checked, each mapped to its first instance (any slot thread). */
    private final Map<String, String> validQueues = new java.util.concurrent.ConcurrentHashMap<>();
    /** While every slot is busy, the next time to poll for the group's sake (rebalances). */
    private long nextGroupPollNanos;

    WorkerLoop(WorkerConfig config, Consumer<byte[], byte[]> consumer, Map<String, TaskHandler> handlers,
               TaskOutcomes outcomes, WriteBacks writeBacks, HandlerThreads handlerThreads, WorkerMetrics metrics,
               RedisClock clock) {
        this.config = config;
        this.clock = clock;
        this.maxWaitingInSlots = Math.max(1, config.concurrency() / 2);
        this.consumer = consumer;
        this.handlers = handlers;
        this.outcomes = outcomes;
        this.handlerThreads = handlerThreads;
        this.writeBacks = writeBacks;
        this.metrics = metrics;
        this.slot = ThreadLocal.withInitial(() -> {
            Slot mine = new Slot(Thread.currentThread(), outcomes.newTally());
            slots.add(mine);
            return mine;
        });
    }

    /**
     * Reads a made-up task the way a slot thread reads each one, before the first real one: in a fresh
     * JVM the first reading loaded classes for 20 to 30 ms, and the first task, handed to its slot thread
     * 20 ms ahead of its slot, started past its latest start.
     */
    private void warmUp() {
        ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>(config.sluice().topics().ready(), 0, 0,
                new byte[0], new byte[0]);
        record.headers().add(TaskHeaders.ID, "warm-up".getBytes(StandardCharsets.UTF_8));
        record.headers().add(TaskHeaders.QUEUE, "warm-up".getBytes(StandardCharsets.UTF_8));
        record.headers().add(TaskHeaders.ATTEMPT, "0".getBytes(StandardCharsets.UTF_8));
        record.headers().add(TaskHeaders.START_AT, "1".getBytes(StandardCharsets.UTF_8));
        record.headers().add(TaskHeaders.START_BY, "2".getBytes(StandardCharsets.UTF_8));
        StartSchedule scratch = new StartSchedule();
        scratch.offer(new TopicPartition(record.topic(), 0), record);
        Task task = toTask(scratch.poll().record(), new Slot(Thread.currentThread(), null));
        task.headers().get(TaskHeaders.MAX_ATTEMPTS);
    }

    /** Waits until the consumer has joined its group; false when the time ran out first. */
    boolean awaitJoined(Duration timeout) throws InterruptedException {
        return joined.await(timeout.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    void stop() {
        active.set(false);
        consumer.wakeup();
        Thread thread = loopThread;
        if (thread != null) {
            LockSupport.unpark(thread);
        }
    }

    /**
     * For crash tests: return at once, committing nothing more, not even when the consumer's close
     * revokes the partitions (which a clean stop commits). The process stays, and the consumer leaves
     * its group at once: a SIGKILL of a worker process (a test in the bench module) is the crash itself.
     */
    void halt() {
        halted = true;
        stop();
    }

    @Override
    public void run() {
        loopThread = Thread.currentThread();
        warmUp();
        consumer.subscribe(List.of(config.sluice().topics().ready()), new Rebalance());
        while (active.get()) {
            try {
                step();
            } catch (WakeupException woken) {
                // stop() was called: the loop condition decides
            }
        }
        if (!halted) {
            drainAndCommit();
        }
    }

    private void step() {
        applyCompletions();
        if (System.nanoTime() >= nextCommitNanos) {
            // finished work is committed within COMMIT_INTERVAL; a crash redoes at most that much
            commit(false);
            nextCommitNanos = System.nanoTime() + COMMIT_INTERVAL.toNanos();
            missed.report(LOG, System.nanoTime());
        }
        dispatch();
        boolean slotFree = inFlight < config.concurrency();
        setPaused(shouldPause());
        long now = System.nanoTime();
        long handoverAt = handoverAtNanos();
        boolean handoverWaits = handoverAt <= now && (!slotFree || waitingInSlots.get() >= maxWaitingInSlots);
        if ((!slotFree && (schedule.isEmpty() || !pending.isEmpty())) || handoverWaits) {
            // a task waits for a slot (every slot is busy, or half of them hold tasks until their slots):
            // wait for a task to finish or start rather than for records; a task with a slot waits no
            // longer than its latest start, then goes back
            long fetchEvery = schedule.isEmpty() ? POLL.toNanos() : FETCH_AHEAD_NANOS;
            awaitCompletion(Math.min(fetchEvery, latestStartNanos() - now));
            now = System.nanoTime();
            if (now >= nextGroupPollNanos) {
                // poll(0) fetches nothing while paused but runs rebalances; not after each completion:
                // with fast handlers that doubled the polls (one per round of slots). Tasks with a slot
                // are fetched ahead meanwhile, or they would reach the schedule late
                take(consumer.poll(Duration.ZERO));
                nextGroupPollNanos = now + fetchEvery;
            }
            return;
        }
        // Kafka's poll counts whole milliseconds: round up, a handover may come a little late, not early
        long timeout = Math.max(0, Math.min(POLL.toNanos(), handoverAt - now));
        take(consumer.poll(Duration.ofMillis((timeout + 999_999) / 1_000_000)));
        nextGroupPollNanos = System.nanoTime() + POLL.toNanos();
    }

    /**
     * Holds the fetched records: each is in flight, so no commit passes it, from now until it finished.
     * A record with a start slot waits in the schedule; one without waits for a free slot.
     */
    private void take(ConsumerRecords<byte[], byte[]> records) {
        if (halted || records.isEmpty()) {
            return;
        }
        metrics.onFetched(records.count());
        long fetchedMicros = clock.known() ? clock.redisMicros(System.nanoTime()) : Long.MAX_VALUE;
        for (TopicPartition partition : records.partitions()) {
            for (ConsumerRecord<byte[], byte[]> record : records.records(partition)) {
                if (offsets.skipIfFinishedEarlier(partition, record.offset())) {
                    metrics.onSkipped();
                    continue;
                }
                offsets.started(partition, record.offset());
                if (!schedule.offer(partition, record, fetchedMicros)) {
                    pending.add(record);
                }
            }
        }
        dispatch();
        setPaused(shouldPause());
    }

    /**
     * Paused while a task without a slot waits for a slot (at most one round of them is held), while the
     * schedule is full, and while every slot is busy and no task waits for its slot.
     */
    private boolean shouldPause() {
        return !pending.isEmpty() || schedule.size() >= MAX_SCHEDULED
                || (inFlight >= config.concurrency() && schedule.isEmpty());
    }

    /**
     * Sends back the scheduled tasks past their latest start, hands those whose slot is within
     * {@link #HANDOVER_NANOS} to free slots, then starts tasks without a slot on the slots left.
     */
    private void dispatch() {
        if (!schedule.isEmpty() && clockKnown()) {
            long nowMicros = clock.redisMicros(System.nanoTime());
            for (StartSchedule.Entry next; (next = schedule.peek()) != null; ) {
                if (next.byMicros() < nowMicros) {
                    schedule.poll();
                    if (next.fetchedMicros() > next.byMicros()) {
                        missed.onArrival(nowMicros - next.byMicros());
                    } else {
                        missed.waitingForSlot(nowMicros - next.byMicros());
                    }
                    requeue(next.partition(), next.record(), false, tenures.get(next.partition()));
                } else if (next.startMicros() - nowMicros <= handoverNanos / 1_000 && inFlight < config.concurrency()
                        && waitingInSlots.get() < maxWaitingInSlots) {
                    schedule.poll();
                    waitingInSlots.incrementAndGet();
                    start(next.partition(), next.record(), clock.localNanos(next.startMicros()),
                            clock.localNanos(next.byMicros()));
                } else {
                    break;
                }
            }
        }
        startPending();
    }

    private boolean clockKnown() {
        if (clock.known()) {
            return true;
        }
        if (!clockMissingLogged) {
            clockMissingLogged = true;
            LOG.warn("Redis's clock is not known yet (Redis unreachable?): {} tasks wait for it to start at their"
                    + " slots", schedule.size());
        }
        return false;
    }

    /** When the first scheduled task is to be handed over; far ahead when there is none. */
    private long handoverAtNanos() {
        StartSchedule.Entry next = schedule.peek();
        if (next == null || !clock.known()) {
            return Long.MAX_VALUE;
        }
        return clock.localNanos(next.startMicros()) - handoverNanos;
    }

    /** Just after the first scheduled task's latest start; far ahead when there is none. */
    private long latestStartNanos() {
        StartSchedule.Entry next = schedule.peek();
        if (next == null || !clock.known()) {
            return Long.MAX_VALUE;
        }
        return clock.localNanos(next.byMicros()) + 1_000;
    }

    /**
     * Starts held records while slots are free. At most {@code max.poll.records} = concurrency records
     * are ever held, and the partitions stay paused while any are: the worker never has more waiting
     * than one round of its slots.
     */
    private void startPending() {
        TopicPartition partition = null;
        boolean owns = false;
        while (inFlight < config.concurrency() && !pending.isEmpty()) {
            ConsumerRecord<byte[], byte[]> record = pending.poll();
            if (partition == null || partition.partition() != record.partition() || !partition.topic().equals(record.topic())) {
                // a poll's records come partition by partition: one lookup per run of them
                partition = new TopicPartition(record.topic(), record.partition());
                owns = owned.contains(partition);
            }
            if (owns) {
                start(partition, record, NOW, Long.MAX_VALUE);
            }
        }
    }

    private void setPaused(boolean pause) {
        if (pause != paused) {
            if (pause) {
                consumer.pause(owned);
            } else {
                consumer.resume(owned);
            }
            paused = pause;
        }
    }

    /**
     * Takes a slot and hands the record to a slot thread, which reads it into a {@link Task}, waits for
     * its slot and runs its handler: the loop thread, which also fetches, does as little per task as it
     * can (reading headers here was a third of its time with a fast handler).
     *
     * @param startNanos when to start it ({@link #NOW}: at once)
     * @param byNanos the latest it may start; later, it goes back through its queue's limit
     */
    private void start(TopicPartition partition, ConsumerRecord<byte[], byte[]> record, long startNanos, long byNanos) {
        inFlight++;
        Object tenure = tenures.get(partition);
        handlerThreads.execute(() -> run(partition, record, tenure, startNanos, byNanos));
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
        if (startNanos != NOW) {
            boolean waited = waitUntil(startNanos);
            waitingInSlots.decrementAndGet();
            wakeLoop(); // it may be waiting to hand over the next task
            if (!waited) {
                return; // interrupted: the worker is closing without starting it, so it runs again elsewhere
            }
        }
        if (tenure == null || tenures.get(partition) != tenure) {
            // revoked while it waited: not started, not sent back, its offset not committed here
            report(new Completion(partition, record.offset(), false, true, tenure));
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
    private static boolean waitUntil(long nanos) {
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
    private void requeue(TopicPartition partition, ConsumerRecord<byte[], byte[]> record, boolean heldSlot,
                         Object tenure) {
        TaskOutcomes.WriteBack back = outcomes.requeue(record);
        writeBacks.add(partition, record.offset(), tenure, new TaskOutcomes.WriteBack(back.record(), topic -> {
            metrics.onRequeued();
            back.written().accept(topic);
        }));
        if (heldSlot) {
            report(new Completion(partition, record.offset(), false, true, tenure));
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
        /** Its partition's token when it was taken (see {@link Completion}). */
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
        report(new Completion(running.partition(), record.offset(), finished, true, running.tenure));
    }

    /** Hands a completion to the loop, waking it if it sleeps waiting for one (one wake-up per wait). */
    private void report(Completion completion) {
        completions.add(completion);
        wakeLoop();
    }

    private void wakeLoop() {
        if (awaiting == 1 && AWAITING.compareAndSet(this, 1, 0)) {
            LockSupport.unpark(loopThread);
        }
    }

    /**
     * Waits up to {@code nanos} for a completion. The loop announces that it sleeps, then looks once
     * more, so a completion added meanwhile either is seen or wakes it.
     */
    private void awaitCompletion(long nanos) {
        if (!completions.isEmpty() || nanos <= 0) {
            return;
        }
        awaiting = 1;
        try {
            // looked at again once announced: a slot thread that stopped waiting meanwhile saw no sleeper
            if (completions.isEmpty() && !(handoverAtNanos() <= System.nanoTime()
                    && inFlight < config.concurrency() && waitingInSlots.get() < maxWaitingInSlots)) {
                LockSupport.parkNanos(this, nanos);
            }
        } finally {
            awaiting = 0;
        }
    }

    private void applyCompletions() {
        for (Completion done; (done = completions.poll()) != null; ) {
            if (done.heldSlot()) {
                inFlight--;
            }
            if (done.finished() && done.tenure() != null && done.tenure() == tenures.get(done.partition())) {
                offsets.finished(done.partition(), done.offset()); // not counted if revoked meanwhile
            }
        }
    }

    private void commit(boolean sync) {
        passMarkers();
        if (writeBacks.waiting()) {
            commitWithWriteBacks();
        } else {
            commit(offsets.toCommit(), sync);
        }
    }

    /**
     * One transaction: the write-backs asked for, their tasks finished, every committable offset. After
     * the consumer's own commits still under way, which, landing after it, would take its offsets back.
     */
    private boolean commitWithWriteBacks() {
        if (asyncCommits > 0) {
            try {
                consumer.commitSync(Map.of(), Duration.ofSeconds(10)); // returns once the earlier ones are answered
            } catch (KafkaException e) {
                LOG.debug("Earlier commits not answered yet: {}", e.toString());
            }
            if (asyncCommits > 0) {
                return false; // the next commit tries again
            }
        }
        return writeBacks.commit(tenures, offsets, consumer::groupMetadata);
    }

    /**
     * Lets each owned partition be committed past the transaction markers after its last task: every
     * record before the consumer's position was taken, so once none is in flight the position is done.
     */
    private void passMarkers() {
        for (TopicPartition partition : owned) {
            try {
                offsets.passedTo(partition, consumer.position(partition, Duration.ZERO));
            } catch (org.apache.kafka.common.errors.TimeoutException | IllegalStateException notKnownYet) {
                // no position yet (just assigned): next time
            }
        }
    }

    private void commit(Collection<TopicPartition> partitions, boolean sync) {
        commit(offsets.toCommit(partitions), sync);
    }

    private void commit(Map<TopicPartition, OffsetAndMetadata> commits, boolean sync) {
        if (commits.isEmpty()) {
            return;
        }
        try {
            if (sync) {
                try {
                    consumer.commitSync(commits);
                } catch (WakeupException stopping) {
                    consumer.commitSync(commits); // the wakeup of stop() was meant for poll, not for this
                }
            } else {
                AtomicBoolean answered = new AtomicBoolean();
                asyncCommits++;
                try {
                    consumer.commitAsync(commits, (committed, error) -> {
                        if (answered.compareAndSet(false, true)) {
                            asyncCommits--; // on this thread, within a later poll or commit
                        }
                        if (error != null) {
                            offsets.commitFailed(commits.keySet());
                            LOG.warn("Committing {} failed; the next commit covers it: {}", commits, error.toString());
                        }
                    });
                } catch (KafkaException refused) {
                    if (answered.compareAndSet(false, true)) {
                        asyncCommits--;
                    }
                    offsets.commitFailed(commits.keySet());
                    throw refused;
                }
            }
        } catch (KafkaException e) {
            offsets.commitFailed(commits.keySet());
            LOG.warn("Committing offsets failed: {}", e.toString());
        }
    }

    /** Graceful stop: take nothing new, let running tasks finish within the timeout, commit, leave. */
    private void drainAndCommit() {
        setPaused(true);
        long deadline = System.nanoTime() + config.handlerTimeout().toNanos() + Duration.ofSeconds(1).toNanos();
        while (inFlight > 0 && System.nanoTime() < deadline) {
            awaitCompletion(POLL.toNanos());
            applyCompletions();
        }
        commit(true);
        missed.report(LOG, Long.MAX_VALUE); // what was missed since the last report
        if (inFlight > 0) {
            LOG.warn("Worker stopped with {} tasks still running; they run again elsewhere", inFlight);
        }
    }

    private Task toTask(ConsumerRecord<byte[], byte[]> record, Slot mine) {
        Map<String, String> headers = new RecordHeaderMap(record.headers());
        String queue = knownQueue(headers.get(TaskHeaders.QUEUE), mine);
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

    private static String header(ConsumerRecord<byte[], byte[]> record, String name, String fallback) {
        Header header = record.headers().lastHeader(name);
        return header == null || header.value() == null ? fallback : new String(header.value(), StandardCharsets.UTF_8);
    }

    /**
     * Reads, from the commits the partitions were assigned with, which tasks beyond each committed offset
     * their earlier owner finished: those are not run again (a crash re-runs only what was unfinished).
     * Kafka unreachable: they run again, as they would have without this.
     */
    private void readFinishedEarlier(Collection<TopicPartition> partitions) {
        if (partitions.isEmpty()) {
            return;
        }
        try {
            Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(new java.util.HashSet<>(partitions),
                    Duration.ofSeconds(10));
            long total = 0;
            for (TopicPartition partition : partitions) {
                OffsetAndMetadata commit = committed.get(partition);
                FinishedOffsets finished = commit == null ? FinishedOffsets.NONE
                        : FinishedOffsets.decode(commit.offset(), commit.metadata());
                offsets.finishedEarlier(partition, finished);
                total += finished.count();
            }
            if (total > 0) {
                LOG.info("Up to {} tasks beyond the committed offsets of {} partitions were finished by their earlier"
                        + " owner: they are not run again", total, partitions.size());
            }
        } catch (KafkaException e) {
            LOG.warn("Could not read which tasks the earlier owner of {} finished; they may run again: {}", partitions,
                    e.toString());
        }
    }

    private void disown(Collection<TopicPartition> partitions) {
        partitions.forEach(tenures::remove);
        java.util.Set<TopicPartition> now = new java.util.HashSet<>(owned);
        now.removeAll(partitions);
        owned = java.util.Set.copyOf(now);
    }

    /** Revoked partitions commit what is complete; tasks still running on them are not counted later. */
    private final class Rebalance implements ConsumerRebalanceListener {

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            if (halted) {
                // closing after halt(): a killed process commits nothing on its way out, nor does this
                disown(partitions);
                offsets.revoke(partitions);
                return;
            }
            applyCompletions(); // while the partitions are still this worker's: what finished is committed
            if (writeBacks.waiting()) {
                commitWithWriteBacks();
            }
            // a partition with a write-back still unwritten is not committed: its next owner does the task again
            java.util.Set<TopicPartition> committable = new java.util.HashSet<>(partitions);
            committable.removeAll(writeBacks.unwrittenPartitions());
            disown(partitions);
            pending.removeIf(r -> partitions.contains(new TopicPartition(r.topic(), r.partition())));
            schedule.forget(partitions);
            commit(committable, true);
            offsets.revoke(partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            disown(partitions);
            pending.removeIf(r -> partitions.contains(new TopicPartition(r.topic(), r.partition())));
            schedule.forget(partitions);
            offsets.revoke(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            java.util.Set<TopicPartition> now = new java.util.HashSet<>(owned);
            now.addAll(partitions);
            owned = java.util.Set.copyOf(now);
            partitions.forEach(p -> tenures.put(p, new Object()));
            readFinishedEarlier(partitions);
            if (paused) {
                consumer.pause(partitions);
            }
            joined.countDown();
        }
    }
}
