package dev.sluice.worker;

import dev.sluice.core.QueueName;
import dev.sluice.core.TaskHeaders;
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
import java.util.concurrent.ExecutorService;
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
 * The worker's consumer thread: takes from {@code sluice.ready} no more than one round of its slots
 * (a poll returns at most {@code concurrency} records, and the partitions are paused while any fetched
 * record waits for a slot), hands tasks to their handlers, and commits each partition up to its first
 * unfinished task.
 */
final class WorkerLoop implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(WorkerLoop.class);
    private static final Duration POLL = Duration.ofMillis(100);
    private static final Duration COMMIT_INTERVAL = Duration.ofMillis(100);

    /** A finished task, reported from a handler thread to the loop thread. */
    private record Completion(TopicPartition partition, long offset) {
    }

    private final WorkerConfig config;
    private final Consumer<byte[], byte[]> consumer;
    private final Map<String, TaskHandler> handlers;
    private final TaskOutcomes outcomes;
    private final HandlerThreads handlerThreads;
    private final ExecutorService finisherThreads;
    private final WorkerMetrics metrics;
    private final PartitionOffsets offsets = new PartitionOffsets();
    /** Per handler thread, the task it runs now, for the timeout watchdog (any thread). */
    private final Set<Slot> slots = ConcurrentHashMap.newKeySet();
    private final ThreadLocal<Slot> slot;
    /** Finished tasks, from the handler and finisher threads to the loop (lock-free: one per task). */
    private final ConcurrentLinkedQueue<Completion> completions = new ConcurrentLinkedQueue<>();
    /** 1 while the loop sleeps waiting for a completion: the first to add one clears it and wakes the loop. */
    private volatile int awaiting;
    private static final AtomicIntegerFieldUpdater<WorkerLoop> AWAITING =
            AtomicIntegerFieldUpdater.newUpdater(WorkerLoop.class, "awaiting");
    private volatile Thread loopThread;
    /** Records fetched and not started yet, in fetch order (loop thread only). */
    private final java.util.ArrayDeque<ConsumerRecord<byte[], byte[]>> pending = new java.util.ArrayDeque<>();
    private final AtomicBoolean active = new AtomicBoolean(true);
    private volatile boolean halted;
    /** Tasks started and not finished, on any partition (loop thread only). */
    private int inFlight;
    private boolean paused;
    /**
     * The partitions this worker owns, kept by the rebalance listener (loop thread only):
     * {@code consumer.assignment()} copies the set on every call, an allocation per task this avoids.
     */
    private java.util.Set<TopicPartition> owned = java.util.Set.of();
    private long nextCommitNanos;
    /** Queue names already checked, each mapped to its first instance (any slot thread). */
    private final Map<String, String> validQueues = new java.util.concurrent.ConcurrentHashMap<>();
    /** While every slot is busy, the next time to poll for the group's sake (rebalances). */
    private long nextGroupPollNanos;

    WorkerLoop(WorkerConfig config, Consumer<byte[], byte[]> consumer, Map<String, TaskHandler> handlers,
               TaskOutcomes outcomes, HandlerThreads handlerThreads, ExecutorService finisherThreads,
               WorkerMetrics metrics) {
        this.config = config;
        this.consumer = consumer;
        this.handlers = handlers;
        this.outcomes = outcomes;
        this.handlerThreads = handlerThreads;
        this.finisherThreads = finisherThreads;
        this.metrics = metrics;
        this.slot = ThreadLocal.withInitial(() -> {
            Slot mine = new Slot(Thread.currentThread(), outcomes.newTally());
            slots.add(mine);
            return mine;
        });
    }

    void stop() {
        active.set(false);
        consumer.wakeup();
        Thread thread = loopThread;
        if (thread != null) {
            LockSupport.unpark(thread);
        }
    }

    /** For crash tests: return at once, committing nothing more. */
    void halt() {
        halted = true;
        stop();
    }

    @Override
    public void run() {
        loopThread = Thread.currentThread();
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
        }
        startPending();
        int free = config.concurrency() - inFlight;
        setPaused(free == 0 || !pending.isEmpty());
        if (free == 0) {
            // every slot is busy: wait for a task to finish rather than for records we would not take
            awaitCompletion();
            long now = System.nanoTime();
            if (now >= nextGroupPollNanos) {
                // poll(0), every partition paused, fetches nothing but runs rebalances; not after each
                // completion: with fast handlers that doubled the polls (one per round of slots)
                consumer.poll(Duration.ZERO);
                nextGroupPollNanos = now + POLL.toNanos();
            }
            return;
        }
        ConsumerRecords<byte[], byte[]> records = consumer.poll(POLL);
        nextGroupPollNanos = System.nanoTime() + POLL.toNanos();
        if (halted || records.isEmpty()) {
            return;
        }
        metrics.onFetched(records.count());
        for (ConsumerRecord<byte[], byte[]> record : records) {
            pending.add(record);
        }
        startPending();
        setPaused(config.concurrency() - inFlight == 0 || !pending.isEmpty());
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
                start(partition, record);
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
     * Counts the task as started and hands the record to a slot thread, which reads it into a
     * {@link Task} and runs its handler: the loop thread, which also fetches, does as little per task
     * as it can (reading headers here was a third of its time with a fast handler).
     */
    private void start(TopicPartition partition, ConsumerRecord<byte[], byte[]> record) {
        offsets.started(partition, record.offset());
        inFlight++;
        metrics.onStarted();
        handlerThreads.execute(() -> run(partition, record));
    }

    /** On a slot thread: reads the task, runs its handler, reports the result. */
    private void run(TopicPartition partition, ConsumerRecord<byte[], byte[]> record) {
        Slot mine = slot.get();
        Task task;
        try {
            task = toTask(record, mine);
        } catch (IllegalArgumentException malformed) {
            Task unknown = new Task(header(record, TaskHeaders.ID, "unknown"), "unknown", 0, record.value(),
                    Map.of(), Instant.now());
            complete(new Running(partition, record, unknown, System.nanoTime(), mine.tally),
                    TaskResult.fail("malformed task: " + malformed.getMessage()));
            return;
        }
        TaskHandler handler = handlers.get(config.queueHandlers().getOrDefault(task.queue(), config.handler()));
        Running running = new Running(partition, record, task, System.nanoTime(), mine.tally);
        mine.running = running;
        outcomes.started(task, mine.tally);
        TaskResult result;
        try {
            result = handler.handle(task);
        } catch (Exception e) {
            result = TaskResult.retry(e.toString());
        } finally {
            mine.running = null;
        }
        if (running.end()) {
            complete(running, result);
        } else { // the watchdog timed it out and gave this thread a stand-in meanwhile
            handlerThreads.standInDone();
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
        private final TopicPartition partition;
        private final ConsumerRecord<byte[], byte[]> record;
        private final Task task;
        private final long startedNanos;
        /** The event tally of the handler thread that started it. */
        private final EventBatcher.Tally tally;

        Running(TopicPartition partition, ConsumerRecord<byte[], byte[]> record, Task task, long startedNanos,
                EventBatcher.Tally tally) {
            this.tally = tally;
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
        if (result instanceof TaskResult.Failure) {
            // writing a retry or dead letter waits for Kafka: not on the handler's thread
            finisherThreads.execute(() -> finish(task, result));
        } else {
            finish(task, result);
        }
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
                handlerThreads.standIn();
                complete(task, TaskResult.retry("timed out after " + config.handlerTimeout().toMillis() + " ms"));
            }
        }
    }

    /**
     * Writes the outcome, then reports the task finished: a success on its handler thread, a failure on
     * a finisher thread.
     */
    private void finish(Running running, TaskResult result) {
        ConsumerRecord<byte[], byte[]> record = running.record();
        Task task = running.task();
        try {
            if (result instanceof TaskResult.Failure failure) {
                long backoff = 1_000L << Math.min(10, task.attempt());
                outcomes.failed(task, record, failure, backoff);
                metrics.onFailed();
            } else {
                outcomes.completed(task, running.tally); // on the handler thread that started it
                metrics.onCompleted();
            }
            completions.add(new Completion(running.partition(), record.offset()));
            if (awaiting == 1 && AWAITING.compareAndSet(this, 1, 0)) { // one wake-up per wait, not one per task
                LockSupport.unpark(loopThread);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // its retry or dead letter was not written: not finished, so its offset is not committed and
            // the task runs again after a restart or rebalance
            LOG.error("Task {} of queue {} could not be recorded as finished: {}", task.id(), task.queue(), e.toString());
        }
    }

    /**
     * Waits up to {@link #POLL} for a completion. The loop announces that it sleeps, then looks once
     * more, so a completion added meanwhile either is seen or wakes it.
     */
    private void awaitCompletion() {
        if (!completions.isEmpty()) {
            return;
        }
        awaiting = 1;
        try {
            if (completions.isEmpty()) {
                LockSupport.parkNanos(this, POLL.toNanos());
            }
        } finally {
            awaiting = 0;
        }
    }

    private void applyCompletions() {
        for (Completion done; (done = completions.poll()) != null; ) {
            inFlight--;
            offsets.finished(done.partition(), done.offset()); // not counted if revoked meanwhile
        }
    }

    private void commit(boolean sync) {
        commit(offsets.toCommit(), sync);
    }

    private void commit(Collection<TopicPartition> partitions, boolean sync) {
        commit(offsets.toCommit(partitions), sync);
    }

    private void commit(Map<TopicPartition, Long> positions, boolean sync) {
        Map<TopicPartition, OffsetAndMetadata> commits = new HashMap<>();
        positions.forEach((partition, position) -> commits.put(partition, new OffsetAndMetadata(position)));
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
                consumer.commitAsync(commits, (committed, error) -> {
                    if (error != null) {
                        LOG.warn("Committing {} failed; the next commit covers it: {}", committed, error.toString());
                    }
                });
            }
        } catch (KafkaException e) {
            LOG.warn("Committing offsets failed: {}", e.toString());
        }
    }

    /** Graceful stop: take nothing new, let running tasks finish within the timeout, commit, leave. */
    private void drainAndCommit() {
        setPaused(true);
        long deadline = System.nanoTime() + config.handlerTimeout().toNanos() + Duration.ofSeconds(1).toNanos();
        while (inFlight > 0 && System.nanoTime() < deadline) {
            awaitCompletion();
            applyCompletions();
        }
        commit(true);
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

    private void disown(Collection<TopicPartition> partitions) {
        java.util.Set<TopicPartition> now = new java.util.HashSet<>(owned);
        now.removeAll(partitions);
        owned = java.util.Set.copyOf(now);
    }

    /** Revoked partitions commit what is complete; tasks still running on them are not committed later. */
    private final class Rebalance implements ConsumerRebalanceListener {

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            disown(partitions);
            pending.removeIf(r -> partitions.contains(new TopicPartition(r.topic(), r.partition())));
            applyCompletions();
            commit(partitions, true);
            offsets.revoke(partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            disown(partitions);
            pending.removeIf(r -> partitions.contains(new TopicPartition(r.topic(), r.partition())));
            offsets.revoke(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            java.util.Set<TopicPartition> now = new java.util.HashSet<>(owned);
            now.addAll(partitions);
            owned = java.util.Set.copyOf(now);
            if (paused) {
                consumer.pause(partitions);
            }
        }
    }
}
