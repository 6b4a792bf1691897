package dev.sluice.worker;

import dev.sluice.core.TaskHeaders;
import dev.sluice.core.redis.RedisClock;
import dev.sluice.worker.api.Task;
import dev.sluice.worker.api.TaskHandler;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
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
    static final long NOW = Long.MIN_VALUE;

    private final WorkerConfig config;
    private final Consumer<byte[], byte[]> consumer;
    private final WorkerMetrics metrics;
    private final PartitionOffsets offsets = new PartitionOffsets();
    private final Committer committer;
    private final TaskRunner runner;
    private final RedisClock clock;
    /** Tasks with a start slot, waiting for it (loop thread only). */
    private final StartSchedule schedule = new StartSchedule();
    private boolean clockMissingLogged;
    private final MissedStarts missed = new MissedStarts();
    /**
     * The most slot threads holding a task until its slot: half the slots. A slot waiting is a slot not
     * running a handler, and at 2000/1s every slot waiting up to the handover left none free when the
     * next task's slot came (it started late and went back).
     */
    private final int maxWaitingInSlots;
    /** Tasks that ended, from the handler threads to the loop. */
    private final Completions completions = new Completions();
    /** Records fetched and not started yet, in fetch order (loop thread only). */
    private final java.util.ArrayDeque<ConsumerRecord<byte[], byte[]>> pending = new java.util.ArrayDeque<>();
    private final AtomicBoolean active = new AtomicBoolean(true);
    /** Opened when the consumer first joined its group (partitions assigned, maybe none). */
    private final java.util.concurrent.CountDownLatch joined = new java.util.concurrent.CountDownLatch(1);
    private volatile boolean halted;
    private volatile Thread loopThread;
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

    /** How long before its slot a task goes to its slot thread: {@link #HANDOVER_NANOS}, longer in tests. */
    private volatile long handoverNanos = HANDOVER_NANOS;

    /** Hands tasks to their slot threads this long before their slots (tests: a window they can aim at). */
    void handOverAhead(Duration ahead) {
        handoverNanos = ahead.toNanos();
    }

    /** Slot threads holding a task until its slot (for tests). */
    int waitingInSlots() {
        return runner.waitingInSlots();
    }

    /** Handlers past their timeout that have not returned yet (they ignore interruption, or are slow to). */
    int stuckHandlers() {
        return runner.stuckHandlers();
    }

    /** Fails the attempts that ran past the handler timeout (called every 50 ms by the worker's watchdog). */
    void timeOutOverdue() {
        runner.timeOutOverdue();
    }

    /** While every slot is busy, the next time to poll for the group's sake (rebalances). */
    private long nextGroupPollNanos;

    WorkerLoop(WorkerConfig config, Consumer<byte[], byte[]> consumer, Map<String, TaskHandler> handlers,
               TaskOutcomes outcomes, WriteBacks writeBacks, HandlerThreads handlerThreads, WorkerMetrics metrics,
               RedisClock clock) {
        this.config = config;
        this.clock = clock;
        this.maxWaitingInSlots = Math.max(1, config.concurrency() / 2);
        this.consumer = consumer;
        this.metrics = metrics;
        this.committer = new Committer(consumer, offsets, writeBacks);
        this.runner = new TaskRunner(config, handlers, outcomes, writeBacks, handlerThreads, metrics, missed,
                completions, tenures);
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
        runner.warmUp(scratch.poll().record());
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
        completions.loopThread(loopThread);
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
        boolean handoverWaits = handoverAt <= now && (!slotFree || runner.waitingInSlots() >= maxWaitingInSlots);
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
                    runner.requeue(next.partition(), next.record(), false, tenures.get(next.partition()));
                } else if (next.startMicros() - nowMicros <= handoverNanos / 1_000 && inFlight < config.concurrency()
                        && runner.waitingInSlots() < maxWaitingInSlots) {
                    schedule.poll();
                    runner.waitsInSlot();
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
        runner.start(partition, record, tenures.get(partition), startNanos, byNanos);
    }

    /**
     * Waits up to {@code nanos} for a task to end, or for a slot thread that stopped waiting for its slot
     * when the next scheduled task is due for handover.
     */
    private void awaitCompletion(long nanos) {
        completions.await(nanos, () -> !(handoverAtNanos() <= System.nanoTime() && inFlight < config.concurrency()
                && runner.waitingInSlots() < maxWaitingInSlots));
    }

    private void commit(boolean sync) {
        committer.commit(owned, tenures, sync);
    }

    private void applyCompletions() {
        for (Completions.Completion done; (done = completions.poll()) != null; ) {
            if (done.heldSlot()) {
                inFlight--;
            }
            if (done.finished() && done.tenure() != null && done.tenure() == tenures.get(done.partition())) {
                offsets.finished(done.partition(), done.offset()); // not counted if revoked meanwhile
            }
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
            committer.commitRevoked(partitions, tenures);
            disown(partitions);
            pending.removeIf(r -> partitions.contains(new TopicPartition(r.topic(), r.partition())));
            schedule.forget(partitions);
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
            committer.readFinishedEarlier(partitions);
            if (paused) {
                consumer.pause(partitions);
            }
            joined.countDown();
        }
    }
}
