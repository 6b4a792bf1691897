package dev.sluice.gate;

import dev.sluice.core.Queue;
import dev.sluice.core.QueueName;
import dev.sluice.core.Topics;
import dev.sluice.core.redis.QueueChangeWatcher;
import dev.sluice.core.redis.QueueRegistry;
import dev.sluice.core.redis.TokenBucket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gate's single thread: fetch queue records, ask each queue's bucket for tokens when its time
 * has come, and forward granted records at their slots inside Kafka transactions that also commit
 * the consumed offsets.
 *
 * <p>Nothing here polls Redis on a schedule: a queue's bucket is asked when the queue has records
 * and its next token is (half a horizon) away, as the previous answer said; in between, the thread
 * sleeps in {@code poll} until the earliest such time, new records, or a registry change.
 */
final class GateLoop implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(GateLoop.class);
    private static final long MAX_SLEEP_NANOS = Duration.ofSeconds(1).toNanos();

    private final GateConfig config;
    private final Topics topics;
    private final Consumer<byte[], byte[]> consumer;
    private final Producer<byte[], byte[]> producer;
    private final Registry registry;
    /** The configured horizon: the least the gate reserves ahead, beyond the start lead. */
    private final long horizonNanos;
    /** How far after now the first possible start slot of a task is put: the time it has to reach a worker. */
    private final long leadNanos;
    /**
     * How long a step's work (asking buckets, committing a transaction) takes, smoothed. The gate
     * reserves slots at least four of these ahead, so that a slow commit never makes it late for a slot
     * and a fast queue never loses tokens to a busy step.
     */
    private double busyNanos;
    private final TokenSource tokens;
    private final Forwarder forwarder;
    /** Commits each transaction while the loop goes on; one at a time. */
    private final java.util.concurrent.ExecutorService committer = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "sluice-gate-commit");
        thread.setDaemon(true);
        return thread;
    });
    /** The transaction being committed, what it sent and the grants it forwards, or null (loop thread only). */
    private java.util.concurrent.Future<Integer> committing;
    private Forwarder.Open committingOpen;
    private Map<Lane, List<Lane.Grant>> committingDue;
    private final Map<TopicPartition, Lane> lanes = new HashMap<>();
    private static final long MARKER_COMMIT_INTERVAL_NANOS = 1_000_000_000L;
    private long nextMarkerCommitNanos;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private Set<String> subscribed = Set.of();
    private final QueueCatalog catalog;
    private volatile boolean halted;
    private final GateMetrics metrics;

    /** The queue registry as the loop reads it: all queues, or one. */
    interface Registry {
        List<Queue> list();

        Optional<Queue> find(QueueName name);
    }

    GateLoop(GateConfig config, Consumer<byte[], byte[]> consumer, Producer<byte[], byte[]> producer,
             TokenBucket bucket, QueueRegistry registry, GateMetrics metrics) {
        this(config, consumer, producer, bucket::acquireAll, new Registry() {
            @Override
            public List<Queue> list() {
                return registry.list();
            }

            @Override
            public Optional<Queue> find(QueueName name) {
                return registry.find(name);
            }
        }, metrics);
    }

    /** With the buckets and the registry given apart: a unit test's fakes, say. */
    GateLoop(GateConfig config, Consumer<byte[], byte[]> consumer, Producer<byte[], byte[]> producer,
             TokenSource.Buckets buckets, Registry registry, GateMetrics metrics) {
        this.config = config;
        this.topics = config.sluice().topics();
        this.consumer = consumer;
        this.producer = producer;
        this.registry = registry;
        this.metrics = metrics;
        this.horizonNanos = config.sluice().bucketHorizon().toNanos();
        this.leadNanos = config.startLead().toNanos();
        this.tokens = new TokenSource(buckets, config.failOpen(), config.startLead(), horizonNanos,
                config.maxBatch(), metrics, this::resyncSoon);
        this.catalog = new QueueCatalog(registry, config.resyncInterval(), tokens::registryFailed);
        this.forwarder = new Forwarder(producer, topics, queue -> {
            Queue known = this.catalog.get(queue);
            return known == null ? null : known.spec().maxAttempts();
        }, config.limits());
    }

    /** Redis answers again: the registry is read whole at the next step (changes may have been missed). */
    private void resyncSoon() {
        catalog.notice(QueueChangeWatcher.RESYNC);
    }

    /** Called from the registry watcher's thread: a queue changed, or {@code ""} to re-read all. */
    void queueChanged(String queue) {
        catalog.notice(queue);
        consumer.wakeup();
    }

    /** Asks the loop to finish its current step, commit, and return. */
    void stop() {
        running.set(false);
        forwarder.stopping();
        catalog.wake();
        consumer.wakeup();
    }

    /** For crash tests: return at once from the loop, committing nothing more. */
    void halt() {
        halted = true;
        stop();
    }

    @Override
    public void run() {
        try {
            producer.initTransactions();
            catalog.notice(QueueChangeWatcher.RESYNC);
            applyChanges();
            while (running.get()) {
                try {
                    step();
                } catch (WakeupException woken) {
                    // a change or a stop: the next step looks
                } catch (ProducerFencedException fenced) {
                    LOG.error("Another gate with this instance id took over; stopping: {}", fenced.getMessage());
                    return;
                }
            }
            if (!halted) {
                settleCommit(); // the transaction in flight completes before the producer closes
                publishRemainingEvents();
                LOG.info("Gate stopping: {} records held are left for the next owner of their partitions", held());
            }
        } catch (ProducerFencedException fenced) {
            LOG.error("Another gate with this instance id took over while stopping: {}", fenced.getMessage());
        } finally {
            committer.shutdown();
        }
    }

    private void step() {
        long started = System.nanoTime();
        applyChanges();
        long timeout = sleepNanos();
        if (subscribed.isEmpty()) {
            // no queue at all: a consumer without topics cannot poll; wait for a change instead
            awaitChange(timeout);
            return;
        }
        ConsumerRecords<byte[], byte[]> polled = consumer.poll(Duration.ofNanos(timeout));
        ConsumerRecordsSink.drain(polled, lanes);
        if (halted) {
            return;
        }
        long busyFrom = System.nanoTime();
        long callsBefore = metrics.bucketCalls();
        long releasedBefore = metrics.released();
        tokens.acquire(lanes.values(), busyFrom, effectiveHorizonNanos(), queue -> {
            Queue known = this.catalog.get(queue);
            return known == null ? null : known.spec();
        });
        long acquired = System.nanoTime();
        if (committing != null && committing.isDone()) {
            settleCommit(); // at once, not at the next forward: its releases' events wait for this
        }
        forwardDue();
        publishDueEvents();
        commitPastMarkers();
        pauseOrResume();
        long busy = System.nanoTime() - busyFrom;
        busyNanos = 0.8 * busyNanos + 0.2 * busy;
        if (LOG.isDebugEnabled() && polled.count() + metrics.released() - releasedBefore > 0) {
            LOG.debug("step: polled {} records in {} ms (timeout {} ms); {} bucket calls in {} ms; {} released in {} ms",
                    polled.count(), (busyFrom - started) / 1_000_000, timeout / 1_000_000,
                    metrics.bucketCalls() - callsBefore, (acquired - busyFrom) / 1_000_000,
                    metrics.released() - releasedBefore, (busyFrom + busy - acquired) / 1_000_000);
        }
    }


    private void awaitChange(long timeoutNanos) {
        try {
            catalog.awaitNotice(timeoutNanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running.set(false);
        }
    }

    /**
     * Applies the registry's changes: subscriptions follow the queue list; a lane whose queue changed
     * asks its bucket again (the bucket says what the change means), and after a full read so does
     * every lane whose queue is active while the lane thinks otherwise.
     */
    private void applyChanges() {
        QueueCatalog.Update update = catalog.apply(System.nanoTime());
        if (update.isEmpty()) {
            return;
        }
        long now = System.nanoTime();
        for (Lane lane : lanes.values()) {
            if (update.resynced()) {
                Queue queue = catalog.get(lane.queue());
                if (queue != null && queue.isActive() && lane.status() != Lane.Status.ACTIVE) {
                    lane.reconsider(now);
                }
            } else if (update.changed().contains(lane.queue())) {
                lane.reconsider(now);
            }
        }
        resubscribe();
    }

    private void resubscribe() {
        Set<String> wanted = new HashSet<>();
        for (QueueName name : catalog.names()) {
            wanted.add(topics.queue(name));
        }
        if (wanted.equals(subscribed)) {
            return;
        }
        if (wanted.isEmpty()) {
            consumer.unsubscribe();
        } else {
            consumer.subscribe(wanted, new Rebalance());
        }
        LOG.info("Gate now follows {} queue topics", wanted.size());
        subscribed = wanted;
    }

    private long sleepNanos() {
        long now = System.nanoTime();
        long until = now + MAX_SLEEP_NANOS;
        for (Lane lane : lanes.values()) {
            OptionalLong deadline = lane.nextDeadlineNanos(now);
            if (deadline.isPresent()) {
                until = Math.min(until, deadline.getAsLong());
            }
        }
        if (committing != null) {
            // its releases' events wait for it to be settled
            until = Math.min(until, now + Forwarder.EVENTS_INTERVAL_NANOS);
        }
        OptionalLong events = forwarder.eventsDueAtNanos();
        if (events.isPresent()) {
            until = Math.min(until, events.getAsLong());
        }
        return Math.max(0, until - now);
    }

    private long effectiveHorizonNanos() {
        return Math.min(TokenBucket.MAX_HORIZON.toNanos(), Math.max(horizonNanos, (long) (4 * busyNanos)));
    }

    /**
     * Sends the granted records in one transaction, each with its start slot (at least the start lead
     * ahead), and hands its commit to the committer thread: while Kafka completes it, the loop polls the
     * next records and asks Redis for their tokens. A transaction begins only after the previous one is
     * settled.
     */
    private void forwardDue() {
        if (lanes.values().stream().noneMatch(Lane::hasGrants)) {
            return;
        }
        if (!halted) {
            // first: if the transaction before failed, its lanes are rewound and their later grants
            // dropped with them, to be fetched again; taken now, those grants would be forwarded and their
            // offsets committed while the records before them are fetched again (a duplicate each)
            settleCommit();
        }
        Map<Lane, List<Lane.Grant>> due = new HashMap<>();
        for (Lane lane : lanes.values()) {
            List<Lane.Grant> grants = lane.takeGranted();
            if (!grants.isEmpty()) {
                due.put(lane, grants);
            }
        }
        if (due.isEmpty()) {
            return;
        }
        if (halted) {
            // crash tests: a commit under way goes on or not; what is due now is sent and left uncommitted
            if (committing == null && forwarder.forward(due, consumer.groupMetadata(), true) < 0) {
                rewind(due);
            }
            return;
        }
        Forwarder.Open open = forwarder.send(due, consumer.groupMetadata());
        if (open == null) {
            rewind(due);
            return;
        }
        commitInBackground(open, due);
    }

    private void commitInBackground(Forwarder.Open open, Map<Lane, List<Lane.Grant>> due) {
        committingOpen = open;
        committingDue = due;
        committing = committer.submit(() -> forwarder.commit(open));
    }

    /** Released events due while nothing was forwarded go out in a transaction of their own. */
    private void publishDueEvents() {
        if (halted || !forwarder.eventsDue(System.nanoTime())) {
            return;
        }
        settleCommit();
        if (forwarder.eventsDue(System.nanoTime())) {
            Forwarder.Open open = forwarder.sendEvents();
            if (open != null) {
                commitInBackground(open, Map.of());
            }
        }
    }

    /** On a graceful stop: the released events not yet published, in a last transaction. */
    private void publishRemainingEvents() {
        if (forwarder.eventsDueAtNanos().isEmpty()) {
            return;
        }
        Forwarder.Open open = forwarder.sendEvents();
        if (open != null) {
            forwarder.settled(open, forwarder.commit(open) >= 0);
        }
    }

    /**
     * Waits for the transaction being committed, if any: counts its records released and their offsets
     * committed, or rewinds their queues when it was aborted.
     *
     * @throws ProducerFencedException when another gate with this instance id took over
     */
    private void settleCommit() {
        if (committing == null) {
            return;
        }
        int forwarded;
        try {
            forwarded = committing.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new org.apache.kafka.common.errors.InterruptException(e);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof ProducerFencedException fenced) {
                throw fenced;
            }
            throw new IllegalStateException("committing a transaction failed unexpectedly", e.getCause());
        }
        Map<Lane, List<Lane.Grant>> due = committingDue;
        forwarder.settled(committingOpen, forwarded >= 0);
        forgetCommit();
        if (forwarded >= 0) {
            metrics.released(forwarded);
            due.forEach((lane, grants) -> lane.committedUpTo(grants.get(grants.size() - 1).record().offset() + 1));
        } else {
            rewind(due);
        }
    }

    private void forgetCommit() {
        committing = null;
        committingOpen = null;
        committingDue = null;
    }

    /**
     * The transaction of these records was aborted: their queues fetch again from the first of them
     * (records held since are dropped too; every token they had is lost, never reused).
     */
    private void rewind(Map<Lane, List<Lane.Grant>> due) {
        for (Map.Entry<Lane, List<Lane.Grant>> entry : due.entrySet()) {
            Lane lane = entry.getKey();
            if (lanes.get(lane.partition()) != lane) {
                continue; // no longer this gate's: the next owner starts from the committed offset
            }
            lane.rewind();
            consumer.seek(lane.partition(), entry.getValue().get(0).record().offset());
        }
    }

    /**
     * A queue topic written in transactions (the router's) ends with a commit marker after its last
     * record: the offset committed after releasing that record stays one short of the end, and the
     * queue would look one task behind forever (and never idle to the reaper). Once a second, the
     * queues that hold nothing and whose consumer position moved past their committed offset (it only
     * skipped markers or aborted records) get that position committed.
     */
    private void commitPastMarkers() {
        long now = System.nanoTime();
        if (halted || now < nextMarkerCommitNanos) {
            return;
        }
        nextMarkerCommitNanos = now + MARKER_COMMIT_INTERVAL_NANOS;
        settleCommit(); // its own transaction comes after the one being committed, and sees its offsets
        Map<Lane, Long> positions = MarkerCommits.due(lanes.values(), consumer);
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        positions.forEach((lane, position) -> offsets.put(lane.partition(), new OffsetAndMetadata(position)));
        if (!offsets.isEmpty() && forwarder.commitOffsets(offsets, consumer.groupMetadata())) {
            positions.forEach(Lane::committedUpTo);
        }
    }

    private void pauseOrResume() {
        List<TopicPartition> pause = new ArrayList<>();
        List<TopicPartition> resume = new ArrayList<>();
        for (Lane lane : lanes.values()) {
            if (lane.shouldPause()) {
                pause.add(lane.partition());
                lane.setPaused(true);
            } else if (lane.shouldResume()) {
                resume.add(lane.partition());
                lane.setPaused(false);
            }
        }
        if (!pause.isEmpty()) {
            consumer.pause(pause);
        }
        if (!resume.isEmpty()) {
            consumer.resume(resume);
        }
    }

    private int held() {
        return lanes.values().stream().mapToInt(Lane::held).sum();
    }

    /** Lanes follow the partitions this instance owns; held records of a lost partition are dropped. */
    private final class Rebalance implements ConsumerRebalanceListener {

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            // the next owner must find the offsets of the transaction being committed
            settleCommitWhileRebalancing();
            drop(partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            settleCommitWhileRebalancing();
            drop(partitions);
        }

        private void settleCommitWhileRebalancing() {
            try {
                settleCommit();
            } catch (ProducerFencedException fenced) {
                LOG.error("Another gate with this instance id took over; stopping: {}", fenced.getMessage());
                running.set(false);
                forgetCommit();
            }
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            for (TopicPartition partition : partitions) {
                Optional<QueueName> queue = topics.queueOf(partition.topic());
                if (queue.isEmpty()) {
                    continue;
                }
                lanes.put(partition, new Lane(partition, queue.get(), capacityFor(queue.get())));
            }
            if (!partitions.isEmpty()) {
                LOG.info("Gate took {} queue partitions; it now owns {}", partitions.size(), lanes.size());
            }
        }

        private void drop(Collection<TopicPartition> partitions) {
            for (TopicPartition partition : partitions) {
                Lane lane = lanes.remove(partition);
                if (lane != null) {
                    lane.rewind();
                }
                forwarder.forget(partition);
            }
        }
    }

    /**
     * Records held per queue: what a quarter of a second releases at the queue's rate, twice over, at
     * least 16, at most the max batch. A slow queue holds a few records; a fast one enough to fill the
     * slots of a horizon stretched by busy steps.
     */
    private int capacityFor(QueueName queue) {
        Queue known = catalog.get(queue);
        if (known == null) {
            return 16;
        }
        double perHorizon = known.spec().rateLimit().perSecond() * 0.25 + known.spec().burst();
        return (int) Math.max(16, Math.min(config.maxBatch(), Math.ceil(2 * perHorizon)));
    }
}
