package dev.sluice.worker;

import dev.sluice.core.QueueName;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.redis.RedisClock;
import dev.sluice.worker.api.RecordHeaderMap;
import dev.sluice.worker.api.Task;
import dev.sluice.worker.api.TaskHandler;
import dev.sluice.worker.api.TaskResult;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.ShareConsumer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker in share mode ({@code SLUICE_WORKER_MODE=share}): Kafka's share group (KIP-932) hands
 * {@code sluice.ready}'s records out one by one to any number of workers, so workers scale past the
 * partition count. ADR 0003 says what it costs against the consumer group.
 *
 * <p>A few share consumers per worker, each on a thread of its own, each taking at most its share of the
 * slots per poll. Kafka's explicit acknowledgement lets a consumer poll again only once every record of
 * its last poll is acknowledged, so each consumer runs its batch on the slot threads (each task at its
 * start slot, as in the consumer-group mode), waits for all of them, acknowledges each and commits the
 * acknowledgements; the other consumers keep fetching meanwhile. A task still waiting or running after
 * a third of the record lock has its lock renewed ({@link ShareBatch}), so that Kafka does not hand it to
 * another worker however long its handler or its wait for a slot thread takes. A task's ending decides its
 * acknowledgement: done, or its retry, dead letter or send-back written: {@code ACCEPT}; that write
 * failed: {@code RELEASE}, so that Kafka hands the task out again. Nothing is acknowledged before its
 * task ended or its write-back was written, so a crash loses nothing: Kafka hands the crashed worker's
 * tasks out again when their acquisition locks run out, and, their slots gone by then, they go back
 * through their queue's limit. At least once: a task that ended but whose acknowledgement a crash lost
 * runs again (through the limit), and write-backs are not in a transaction with the acknowledgement.
 */
final class ShareLoop {

    private static final Logger LOG = LoggerFactory.getLogger(ShareLoop.class);
    /** Share consumers per worker at most: each polls while the others' batches run. */
    static final int MAX_CONSUMERS = 4;
    private static final Duration POLL = Duration.ofMillis(100);
    private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(30);
    /** How long past the handler timeout a consumer waits for a handler that ignores its interruption. */
    private static final long STUCK_GRACE_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** A deadline that never comes. */
    private static final long NEVER = Long.MAX_VALUE;

    private final WorkerConfig config;
    private final Map<String, TaskHandler> handlers;
    private final TaskOutcomes outcomes;
    private final Producer<byte[], byte[]> producer;
    private final RedisClock clock;
    private final WorkerMetrics metrics;
    private final Predicate<String> topicExists;
    /** Each consumer thread's consumer now: one closed while every slot is stuck is replaced after. */
    private final List<ShareConsumer<byte[], byte[]>> consumers;
    private final java.util.function.BiFunction<Integer, String, ShareConsumer<byte[], byte[]>> newConsumer;
    private final int perPoll;
    private final List<Thread> threads = new ArrayList<>();
    private final ExecutorService slots;
    private final ScheduledExecutorService alarms;
    private final ThreadLocal<EventBatcher.Tally> tallies;
    private final CountDownLatch polled;
    private final List<String> clientIds = new ArrayList<>();
    private final java.util.function.Supplier<java.util.Set<String>> assigned;
    private final AtomicInteger stuckHandlers = new AtomicInteger();
    /** Whether the worker said it takes no task because every slot is stuck (said once per such spell). */
    private final AtomicBoolean sayStuck = new AtomicBoolean();
    /** Whether the broker lets this group renew record locks (KIP-1222). */
    private final boolean renews;
    private volatile boolean stopping;
    private volatile boolean halted;

    /**
     * @param topicExists whether a topic exists (a queue removed while its task ran has none)
     * @param consumers makes a share consumer: at most so many records per poll, this client id
     * @param assigned the client ids of the share group's members that have partitions now
     * @param renews whether the broker lets the group renew record locks
     */
    ShareLoop(WorkerConfig config, Map<String, TaskHandler> handlers, TaskOutcomes outcomes,
              Producer<byte[], byte[]> producer, RedisClock clock, WorkerMetrics metrics,
              Predicate<String> topicExists,
              java.util.function.BiFunction<Integer, String, ShareConsumer<byte[], byte[]>> consumers,
              java.util.function.Supplier<java.util.Set<String>> assigned, boolean renews) {
        this.config = config;
        this.renews = renews;
        this.handlers = handlers;
        this.outcomes = outcomes;
        this.producer = producer;
        this.clock = clock;
        this.metrics = metrics;
        this.topicExists = topicExists;
        int count = consumerCount(config.concurrency());
        // each consumer may take a round of slots: its batch waits for its slots (ADR 0005's lead, 200 ms)
        // before it can poll again, and the others poll meanwhile
        this.perPoll = config.concurrency();
        this.newConsumer = consumers;
        this.consumers = new java.util.concurrent.CopyOnWriteArrayList<>();
        String instance = config.sluice().topics().workerShareGroup() + "-" + java.util.UUID.randomUUID().toString()
                .substring(0, 8);
        for (int i = 1; i <= count; i++) {
            clientIds.add(instance + "-" + i);
            this.consumers.add(consumers.apply(perPoll, instance + "-" + i));
        }
        this.assigned = assigned;
        this.slots = Executors.newFixedThreadPool(config.concurrency(), Worker.daemon("sluice-task-" + instance + "-"));
        this.alarms = Executors.newSingleThreadScheduledExecutor(Worker.daemon("sluice-timeouts-"));
        this.tallies = ThreadLocal.withInitial(outcomes::newTally);
        this.polled = new CountDownLatch(count);
    }

    /** Share consumers for {@code concurrency} slots: up to {@link #MAX_CONSUMERS}, each with its share of them. */
    static int consumerCount(int concurrency) {
        return Math.min(MAX_CONSUMERS, concurrency);
    }

    void start() {
        for (int i = 0; i < consumers.size(); i++) {
            int index = i;
            // named by its client id: the broker's logs and this worker's say the same consumer
            Thread thread = new Thread(() -> consume(index), "sluice-share-" + clientIds.get(i));
            threads.add(thread);
            thread.start();
        }
    }

    /** Whether every consumer of this worker has joined the share group and been given its partitions. */
    boolean awaitJoined(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        if (!polled.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            return false;
        }
        while (!assigned.get().containsAll(clientIds)) {
            if (System.nanoTime() >= deadline) {
                return false;
            }
            Thread.sleep(100);
        }
        return true;
    }

    /** Handlers past their timeout that have not returned yet. */
    int stuckHandlers() {
        return stuckHandlers.get();
    }

    /** Stops polling; each consumer finishes its batch, acknowledges it and stops. */
    void stop() {
        stopping = true;
        consumers.forEach(ShareLoop::wakeUp);
    }

    /** Wakes a consumer's poll; one closed while every slot was stuck has no poll to wake. */
    private static void wakeUp(ShareConsumer<byte[], byte[]> consumer) {
        try {
            consumer.wakeup();
        } catch (IllegalStateException closed) {
            // closed while every slot was stuck: its thread sees stopping by itself
        }
    }

    /** Waits for the consumers' threads to end. */
    void join(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Thread thread : threads) {
            try {
                thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** After {@link #stop()} and {@link #join}: closes the consumers, which leave the group. */
    void close() {
        slots.shutdownNow();
        alarms.shutdownNow();
        for (ShareConsumer<byte[], byte[]> consumer : consumers) {
            try {
                consumer.close(Duration.ofSeconds(10));
            } catch (IllegalStateException closedAlready) {
                // closed while every slot was stuck
            } catch (KafkaException e) {
                LOG.warn("A share consumer did not close cleanly: {}", e.toString());
            }
        }
    }

    /**
     * Stops without acknowledging anything more, running tasks abandoned. Not a crash: closing its
     * consumers gives their unacknowledged records back to the group at once, where a killed process's
     * wait for their locks to run out. For tests.
     */
    void halt() {
        halted = true;
        stopping = true;
        slots.shutdownNow();
        alarms.shutdownNow();
        consumers.forEach(ShareLoop::wakeUp);
        join(Duration.ofSeconds(10));
        consumers.forEach(consumer -> {
            try {
                consumer.close(Duration.ZERO);
            } catch (IllegalStateException closedAlready) {
                // closed while every slot was stuck
            }
        });
    }

    /** Whether every slot thread is held by a handler past its timeout: the worker can start nothing. */
    private boolean allSlotsStuck() {
        return stuckHandlers.get() >= config.concurrency();
    }

    private void consume(int index) {
        ShareConsumer<byte[], byte[]> consumer = consumers.get(index);
        boolean closed = false;
        boolean counted = false;
        long lastPollStarted = System.nanoTime();
        while (!stopping) {
            if (allSlotsStuck()) {
                // taking tasks now would hold them from other workers until a stuck handler returns; and the
                // consumer may hold some already, taken by a fetch it made before its last poll returned:
                // closed, it gives them back to the group at once (a consumer that only stopped polling kept
                // one from the other workers until its lock ran out)
                if (sayStuck.compareAndSet(false, true)) {
                    LOG.error("All {} slots are held by handlers past their timeout that ignore their interruption;"
                            + " this worker takes no task until one returns", config.concurrency());
                }
                if (!closed) {
                    closed = true;
                    try {
                        consumer.close(Duration.ofSeconds(10));
                    } catch (KafkaException e) {
                        LOG.warn("A share consumer did not close cleanly: {}", e.toString());
                    }
                }
                sleep(100);
                continue;
            }
            if (closed) {
                closed = false;
                consumer = newConsumer.apply(perPoll, clientIds.get(index));
                consumers.set(index, consumer);
                lastPollStarted = System.nanoTime();
                if (stopping) {
                    break;
                }
            }
            if (sayStuck.compareAndSet(true, false)) {
                LOG.info("A stuck handler returned; the worker takes tasks again");
            }
            ConsumerRecords<byte[], byte[]> records;
            long pollStarted = System.nanoTime();
            // tasks of this poll may have been taken for this consumer as early as its last poll: a long batch
            // since then may have outlasted their locks
            long sincePreviousPoll = pollStarted - lastPollStarted;
            long lock = lockNanos(consumer);
            PrefetchAge.Verdict verdict = PrefetchAge.judge(sincePreviousPoll, lock);
            if (verdict == PrefetchAge.Verdict.REOPEN) {
                LOG.info("Share mode: a consumer's batch ran {} ms against a record lock of {} ms; what it took in the"
                                + " background meanwhile may be another worker's now: it is closed (giving back what is"
                                + " still its own) and a new one opened", TimeUnit.NANOSECONDS.toMillis(sincePreviousPoll),
                        TimeUnit.NANOSECONDS.toMillis(lock));
                try {
                    consumer.close(Duration.ofSeconds(10));
                } catch (KafkaException e) {
                    LOG.warn("A share consumer did not close cleanly: {}", e.toString());
                }
                consumer = newConsumer.apply(perPoll, clientIds.get(index));
                consumers.set(index, consumer);
                lastPollStarted = System.nanoTime();
                continue;
            }
            lastPollStarted = pollStarted;
            try {
                records = consumer.poll(POLL);
            } catch (WakeupException stopped) {
                break;
            } catch (KafkaException e) {
                LOG.warn("A share consumer's poll failed; it polls again: {}", e.toString());
                sleep(1_000);
                continue;
            }
            if (!counted) {
                counted = true;
                polled.countDown();
            }
            if (records.isEmpty()) {
                continue;
            }
            metrics.onFetched(records.count());
            if (LOG.isDebugEnabled()) {
                LOG.debug("{} polled {} ({} ms after its last poll)", Thread.currentThread().getName(),
                        ShareBatch.describe(records), TimeUnit.NANOSECONDS.toMillis(sincePreviousPoll));
            }
            ShareBatch batch = new ShareBatch(consumer);
            records.forEach(batch::add);
            List<ShareJob> ours = batch.jobs();
            if (verdict == PrefetchAge.Verdict.RENEW_FIRST && renews) {
                ours = batch.verify();
            } else if (verdict == PrefetchAge.Verdict.RENEW_FIRST) {
                batch.releaseAll(); // which are still ours cannot be told without renewals: all go back
                consumer.commitAsync();
                continue;
            }
            try {
                for (ShareJob job : ours) {
                    dispatch(job);
                }
                if (!settle(consumer, batch)) {
                    return; // a crash acknowledges nothing: Kafka hands the tasks out again
                }
            } catch (java.util.concurrent.RejectedExecutionException halting) {
                return;
            }
            batch.acknowledgeEnded();
            // sent now, without waiting for the answer: the next poll goes out at once (a commitSync here
            // cost a round trip per batch); a failure is logged by the callback
            consumer.commitAsync();
        }
        if (!counted) {
            polled.countDown();
        }
    }

    /**
     * Hands a task to a slot thread {@link WorkerLoop#HANDOVER_NANOS} before its slot (at once when it has
     * none, or its slot is that near): a slot thread is not held for the lead the gate gives every slot.
     */
    private void dispatch(ShareJob job) {
        Runnable runs = () -> {
            try {
                job.ending.complete(run(job));
            } catch (RuntimeException | Error e) {
                job.ending.completeExceptionally(e);
            }
        };
        long[] slot = StartSchedule.slotOf(job.record);
        long handover = slot == null || !clock.known() ? 0
                : clock.localNanos(slot[0]) - WorkerLoop.HANDOVER_NANOS - System.nanoTime();
        if (handover <= 0) {
            slots.execute(runs);
        } else {
            alarms.schedule(() -> {
                try {
                    slots.execute(runs);
                } catch (java.util.concurrent.RejectedExecutionException halting) {
                    job.ending.complete(AcknowledgeType.RELEASE);
                }
            }, handover, TimeUnit.NANOSECONDS);
        }
    }

    /**
     * Waits until every task of the batch has ended, renewing the locks of those still held every half lock
     * (when the broker allows renewals); tasks that a renewal's polls hand out join the batch.
     *
     * @return false when the worker was halted: nothing is to be acknowledged
     */
    private boolean settle(ShareConsumer<byte[], byte[]> consumer, ShareBatch batch) {
        long renewAt = System.nanoTime() + renewEveryNanos(consumer);
        while (true) {
            boolean all = true;
            for (ShareJob job : batch.jobs()) {
                if (job.outcome == null && job.open()) {
                    job.outcome = await(job, renews ? renewAt : NEVER);
                    if (job.outcome == null) {
                        all = false;
                        break;
                    }
                }
            }
            if (halted) {
                return false;
            }
            if (all) {
                return true;
            }
            List<ShareJob> fresh = batch.renew();
            metrics.onFetched(fresh.size());
            fresh.forEach(this::dispatch);
            renewAt = System.nanoTime() + renewEveryNanos(consumer);
        }
    }

    private long renewEveryNanos(ShareConsumer<byte[], byte[]> consumer) {
        return ShareBatch.renewEveryNanos(Duration.ofNanos(lockNanos(consumer)));
    }

    /** The share group's record lock, as Kafka last told this consumer, or as the workers set it. */
    private long lockNanos(ShareConsumer<byte[], byte[]> consumer) {
        return consumer.acquisitionLockTimeoutMs().map(Duration::ofMillis)
                .orElse(ShareGroups.lockFor(config.handlerTimeout())).toNanos();
    }

    /**
     * How a task ended, or null if it has not by {@code deadline} (System.nanoTime). A task waits for its
     * slot and then for a free slot thread as long as it takes (late, it goes back unrun); a handler running
     * past its timeout and a grace ignores its interruption: its attempt fails here (retried), and it keeps
     * its thread until it returns.
     */
    private AcknowledgeType await(ShareJob job, long deadline) {
        while (true) {
            long left = deadline == NEVER ? Long.MAX_VALUE : deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            try {
                return job.ending.get(Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return AcknowledgeType.RELEASE;
            } catch (ExecutionException e) {
                LOG.error("A task failed in Sluice's own code; Kafka hands it out again", e.getCause());
                return AcknowledgeType.RELEASE;
            } catch (TimeoutException notYet) {
                if (halted) {
                    return AcknowledgeType.RELEASE;
                }
                if (allSlotsStuck() && job.state.compareAndSet(ShareJob.WAITING, ShareJob.ABANDONED)) {
                    return AcknowledgeType.RELEASE; // no slot thread for it: Kafka hands it to another worker
                }
                long overdue = System.nanoTime() - job.startedNanos - config.handlerTimeout().toNanos() - STUCK_GRACE_NANOS;
                if (job.state.get() == ShareJob.RUNNING && overdue > 0 && job.state.compareAndSet(ShareJob.RUNNING, ShareJob.ABANDONED)) {
                    stuckHandlers.incrementAndGet();
                    LOG.error("A handler of queue {} runs {} ms past its timeout and ignores its interruption; its"
                                    + " attempt fails, and its thread stays taken until it returns ({} such now)",
                            job.task.queue(), TimeUnit.NANOSECONDS.toMillis(STUCK_GRACE_NANOS), stuckHandlers.get());
                    metrics.onFailed();
                    return write(outcomes.failed(job.task, job.record, (TaskResult.Failure) TaskResult.retry(
                            "timed out after " + config.handlerTimeout().toMillis() + " ms"), backoff(job.task)));
                }
            }
        }
    }

    private static long backoff(Task task) {
        return 1_000L << Math.min(10, task.attempt());
    }

    /** On a slot thread: reads the task, waits for its slot, runs its handler, writes what its end asks for. */
    private AcknowledgeType run(ShareJob job) {
        if (!job.state.compareAndSet(ShareJob.WAITING, ShareJob.CLAIMED)) {
            return AcknowledgeType.RELEASE; // the consumer gave it back unrun meanwhile
        }
        ConsumerRecord<byte[], byte[]> record = job.record;
        Map<String, String> headers = new RecordHeaderMap(record.headers());
        Task task;
        try {
            String queue = headers.get(TaskHeaders.QUEUE);
            if (queue == null) {
                throw new IllegalArgumentException("no " + TaskHeaders.QUEUE + " header");
            }
            task = TaskRunner.read(record, headers, QueueName.of(queue).value());
        } catch (IllegalArgumentException malformed) {
            Task unknown = new Task(TaskRunner.header(record, TaskHeaders.ID, "unknown"), "unknown", 0,
                    record.value(), Map.of(), Instant.now());
            return write(outcomes.failed(unknown, record,
                    (TaskResult.Failure) TaskResult.fail("malformed task: " + malformed.getMessage()), 0));
        }
        job.task = task;
        long[] slot = StartSchedule.slotOf(record);
        if (slot != null) {
            while (!clock.known()) { // Redis's clock not read yet: a task with a slot waits for it
                if (!sleep(10)) {
                    return AcknowledgeType.RELEASE;
                }
            }
            if (!TaskRunner.waitUntil(clock.localNanos(slot[0]))) {
                return AcknowledgeType.RELEASE; // closing without starting it: handed out again
            }
            if (System.nanoTime() > clock.localNanos(slot[1])) {
                // reached this worker too late (or Kafka handed it out again): a new slot, not a late start
                TaskOutcomes.WriteBack back = outcomes.requeue(record);
                AcknowledgeType written = write(back);
                if (written == AcknowledgeType.ACCEPT) {
                    metrics.onRequeued();
                }
                return written;
            }
        }
        job.startedNanos = System.nanoTime();
        job.state.set(ShareJob.RUNNING);
        TaskHandler handler = handlers.get(config.queueHandlers().getOrDefault(task.queue(), config.handler()));
        metrics.onStarted();
        outcomes.started(task, tallies.get());
        Thread me = Thread.currentThread();
        AtomicBoolean timedOut = new AtomicBoolean();
        ScheduledFuture<?> alarm = alarms.schedule(() -> {
            timedOut.set(true);
            me.interrupt();
        }, config.handlerTimeout().toNanos(), TimeUnit.NANOSECONDS);
        TaskResult result;
        try {
            result = handler.handle(task);
        } catch (Exception | Error e) {
            result = TaskResult.retry(e.toString());
        } finally {
            alarm.cancel(false);
        }
        if (timedOut.get()) {
            Thread.interrupted(); // meant for the handler that timed out, not the next task
            result = TaskResult.retry("timed out after " + config.handlerTimeout().toMillis() + " ms");
        }
        if (!job.state.compareAndSet(ShareJob.RUNNING, ShareJob.ENDED)) {
            stuckHandlers.decrementAndGet(); // the consumer failed its attempt long ago
            return AcknowledgeType.ACCEPT;
        }
        if (result instanceof TaskResult.Failure failure) {
            metrics.onFailed();
            return write(outcomes.failed(task, record, failure, backoff(task)));
        }
        outcomes.completed(task, tallies.get());
        metrics.onCompleted();
        return AcknowledgeType.ACCEPT;
    }

    /**
     * Writes a retry, dead letter or send-back and waits for Kafka to have it: then the task may be
     * acknowledged; if Kafka did not take it, the task is released, to be handed out again.
     */
    private AcknowledgeType write(TaskOutcomes.WriteBack back) {
        ProducerRecord<byte[], byte[]> record = WriteBacks.deadIfRemoved(back.record(), topicExists,
                topic -> config.sluice().topics().queueOf(topic).isPresent(), config.sluice().topics().dead());
        try {
            producer.send(record).get(WRITE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return AcknowledgeType.RELEASE;
        } catch (ExecutionException | TimeoutException | KafkaException e) {
            LOG.warn("Writing a retry, dead letter or sent-back task to {} failed; Kafka hands its task out again: {}",
                    record.topic(), e.toString());
            return AcknowledgeType.RELEASE;
        }
        back.written().accept(record.topic());
        return AcknowledgeType.ACCEPT;
    }

    private static boolean sleep(long millis) {
        try {
            Thread.sleep(millis);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
