package dev.sluice.gate;

import dev.sluice.core.QueueName;
import dev.sluice.core.RecordLimits;
import dev.sluice.core.TaskEvent;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.Topics;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.CorruptRecordException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forwards granted records in one Kafka transaction with the consumed offsets: each to the ready
 * topic (payload and headers untouched, plus its start slot in {@code sluice-start-at-us}, the latest
 * start in {@code sluice-start-by-us}, the slot in milliseconds in {@code sluice-released-at} and as its
 * timestamp, and the queue's {@code sluice-max-attempts}), and now and then the {@code released}
 * events of earlier transactions.
 *
 * <p>A record Kafka refuses for what it is (too large, invalid) would fail every retry and hold up
 * every queue in the transaction: it is remembered, and on the retry it goes to the dead-letter topic
 * with the error in {@code sluice-error} instead, so the other queues go on.
 */
final class Forwarder {

    private static final Logger LOG = LoggerFactory.getLogger(Forwarder.class);
    static final String ERROR_HEADER = "sluice-error";

    private final Producer<byte[], byte[]> producer;
    private final Topics topics;
    /** The queue's current max attempts, or null when the gate does not know the queue. */
    private final java.util.function.Function<QueueName, Integer> maxAttempts;
    private final RecordLimits limits;
    /**
     * Releases of committed transactions whose {@code released} events are not published yet. Events
     * ride in a transaction at most every {@link #EVENTS_INTERVAL_NANOS}, not in each: every transaction
     * carrying events also writes to and marks the events topic's partitions (with 1,000 queues, b/a
     * 0.69-0.76 with events in every transaction, 0.84-0.91 without: ADR 0002). Published when next due with the next transaction (or
     * one of their own), and on a graceful stop; lost if the gate dies first (the tasks are not: only the
     * {@code released} statistics undercount). Loop thread only.
     */
    private ReleaseTally unpublished = new ReleaseTally();
    private long nextEventsNanos;
    static final long EVENTS_INTERVAL_NANOS = 250_000_000L;
    /** Records refused by Kafka, by partition and offset; they are dead-lettered when next forwarded. */
    private final Map<TopicPartition, Map<Long, String>> poison = new HashMap<>();
    private volatile boolean stopping;

    Forwarder(Producer<byte[], byte[]> producer, Topics topics,
              java.util.function.Function<QueueName, Integer> maxAttempts) {
        this(producer, topics, maxAttempts, RecordLimits.DEFAULTS);
    }

    Forwarder(Producer<byte[], byte[]> producer, Topics topics,
              java.util.function.Function<QueueName, Integer> maxAttempts, RecordLimits limits) {
        this.producer = producer;
        this.topics = topics;
        this.maxAttempts = maxAttempts;
        this.limits = limits;
    }

    /** A transaction whose records and offsets are sent and not yet committed. */
    static final class Open {
        private final List<Sent> sent = new ArrayList<>();
        /** The releases this transaction forwards. */
        private final ReleaseTally released = new ReleaseTally();
        /** Releases of earlier transactions whose events this one carries, or null. */
        private ReleaseTally events;

        int records() {
            return sent.size();
        }
    }

    /**
     * Forwards and commits, in the calling thread.
     *
     * @param openOnly for crash tests: send everything, then leave the transaction open
     * @return how many records were forwarded, or -1 when the transaction failed and was aborted (the
     *     caller rewinds those queues; their tokens are spent)
     * @throws ProducerFencedException when another gate with this instance id took over
     */
    int forward(Map<Lane, List<Lane.Grant>> due, ConsumerGroupMetadata group, boolean openOnly) {
        Open open = send(due, group);
        if (open == null) {
            return -1;
        }
        if (openOnly) {
            return open.records();
        }
        int forwarded = commit(open);
        settled(open, forwarded >= 0);
        return forwarded;
    }

    /**
     * Begins a transaction and sends the records, their released events and the consumed offsets;
     * {@link #commit} finishes it, from any thread (the producer is thread-safe).
     *
     * @return the open transaction, or null when sending failed and the transaction was aborted (the
     *     caller rewinds those queues; their tokens are spent)
     * @throws ProducerFencedException when another gate with this instance id took over
     */
    Open send(Map<Lane, List<Lane.Grant>> due, ConsumerGroupMetadata group) {
        return open(open -> {
            Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
            for (Map.Entry<Lane, List<Lane.Grant>> entry : due.entrySet()) {
                QueueName queue = entry.getKey().queue();
                TopicPartition source = entry.getKey().partition();
                for (Lane.Grant grant : entry.getValue()) {
                    Sent one = send(queue, source, grant);
                    open.sent.add(one);
                    if (one.future() != null) {
                        open.released.add(queue, grant.slotMicros() / 1_000);
                    }
                }
                long last = entry.getValue().get(entry.getValue().size() - 1).record().offset();
                offsets.put(source, new OffsetAndMetadata(last + 1));
            }
            if (eventsDue(System.nanoTime())) {
                carryEvents(open);
            }
            producer.sendOffsetsToTransaction(offsets, group);
        });
    }

    /**
     * Begins a transaction carrying only the {@code released} events of committed transactions, for
     * when no records are forwarded while they are due.
     *
     * @return the open transaction, or null when sending failed and was aborted (the events are kept)
     */
    Open sendEvents() {
        return open(this::carryEvents);
    }

    /**
     * Begins a transaction and lets {@code sends} fill it. On failure it is aborted and the events it
     * had taken wait again for the next transaction.
     */
    private Open open(java.util.function.Consumer<Open> sends) {
        Open open = new Open();
        try {
            producer.beginTransaction();
            sends.accept(open);
            return open;
        } catch (ProducerFencedException e) {
            throw e;
        } catch (KafkaException e) {
            failed(open, e);
            settled(open, false);
            return null;
        }
    }

    /** Whether released events wait and their time to be published has come. */
    boolean eventsDue(long nowNanos) {
        return !unpublished.isEmpty() && nowNanos >= nextEventsNanos;
    }

    /** When the released events waiting are due, if any wait. */
    java.util.OptionalLong eventsDueAtNanos() {
        return unpublished.isEmpty() ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(nextEventsNanos);
    }

    private void carryEvents(Open open) {
        open.events = unpublished;
        unpublished = new ReleaseTally();
        nextEventsNanos = System.nanoTime() + EVENTS_INTERVAL_NANOS;
        for (TaskEvent event : open.events.events()) {
            publish(QueueName.of(event.queue()), event);
        }
    }

    /**
     * Called on the loop thread once the commit of {@code open} is known: the releases of a committed
     * transaction wait for their events; the events an aborted one carried wait again.
     */
    void settled(Open open, boolean committed) {
        if (committed) {
            unpublished.addAll(open.released);
        } else if (open.events != null) {
            unpublished.addAll(open.events);
        }
    }

    /**
     * Commits a transaction {@link #send} opened. A commit that times out (Kafka unreachable for longer
     * than {@code max.block.ms}) is tried again until Kafka answers or the gate stops: it may already be
     * completing at the broker, and the producer allows nothing but its retry (an abort then threw an
     * {@code IllegalStateException} that stopped the gate for good during a 90 s outage).
     *
     * @return how many records were forwarded, or -1 when the commit failed and the transaction was aborted
     * @throws ProducerFencedException when another gate with this instance id took over
     */
    int commit(Open open) {
        for (int attempt = 1; ; attempt++) {
            try {
                producer.commitTransaction();
                if (attempt > 1) {
                    LOG.info("Committed a transaction of {} records on attempt {}: Kafka answers again",
                            open.sent.size(), attempt);
                }
                return open.records();
            } catch (org.apache.kafka.common.errors.TimeoutException timedOut) {
                if (stopping) {
                    // nothing but the commit's retry is allowed: closing the producer aborts it at the broker
                    LOG.warn("Stopping with a transaction of {} records whose commit timed out; the broker aborts"
                            + " it unless it completed", open.sent.size());
                    return -1;
                }
                if (attempt == 1) {
                    LOG.warn("Committing a transaction of {} records timed out (is Kafka reachable?); trying again"
                            + " until it answers: {}", open.sent.size(), timedOut.getMessage());
                }
            } catch (ProducerFencedException e) {
                throw e;
            } catch (KafkaException e) {
                failed(open, e);
                return -1;
            }
        }
    }

    /** The gate is stopping: a commit that times out is not tried again. */
    void stopping() {
        stopping = true;
    }

    /** Runs on the thread that found the failure; the loop thread settles the events after. */
    private void failed(Open open, KafkaException e) {
        LOG.warn("Forwarding {} records failed; their queues are rewound and retried: {}", open.sent.size(), e.toString());
        rememberRefused(open.sent);
        abort();
    }

    /**
     * Commits offsets alone, in a transaction of their own: those of queues whose last records were
     * released and whose consumer moved past the transaction markers after them.
     *
     * @return whether the offsets were committed
     */
    boolean commitOffsets(Map<TopicPartition, OffsetAndMetadata> offsets, ConsumerGroupMetadata group) {
        try {
            producer.beginTransaction();
            producer.sendOffsetsToTransaction(offsets, group);
            producer.commitTransaction();
            return true;
        } catch (ProducerFencedException e) {
            throw e;
        } catch (KafkaException e) {
            LOG.debug("Committing the offsets past {} queues' markers failed; tried again later: {}", offsets.size(),
                    e.toString());
            abort();
            return false;
        }
    }

    private Sent send(QueueName queue, TopicPartition source, Lane.Grant grant) {
        ConsumerRecord<byte[], byte[]> record = grant.record();
        long releasedAt = grant.slotMicros() / 1_000;
        Headers headers = new RecordHeaders(record.headers().toArray());
        // presence only: the values are read on the dead-letter path alone (a string per header per task)
        if (headers.lastHeader(TaskHeaders.ID) == null) {
            headers.add(TaskHeaders.ID, utf8(UUID.randomUUID().toString()));
        }
        // the queue is the topic's, whatever a producer writing to it directly claimed: the worker runs a task
        // with its queue's handler and sends its retries back through that queue's limit
        byte[] queueName = utf8(queue.value());
        Header named = headers.lastHeader(TaskHeaders.QUEUE);
        if (named == null || !Arrays.equals(named.value(), queueName)) {
            headers.remove(TaskHeaders.QUEUE);
            headers.add(TaskHeaders.QUEUE, queueName);
        }
        String refusal = poison.isEmpty() ? null : poison.getOrDefault(source, Map.of()).get(record.offset());
        String overLimit = refusal == null ? limits.violation(record.value(), record.headers()) : null;
        if (overLimit != null) {
            return deadOverLimit(queue, source, record, headers, releasedAt, overLimit);
        }
        if (refusal == null) {
            // set here whatever the record carried: only the gate decides when a task may start
            replace(headers, TaskHeaders.RELEASED_AT, Long.toString(releasedAt));
            replace(headers, TaskHeaders.START_AT, Long.toString(grant.slotMicros()));
            replace(headers, TaskHeaders.START_BY, Long.toString(grant.slotMicros() + grant.toleranceMicros()));
            Integer attempts = maxAttempts.apply(queue);
            if (attempts != null) {
                replace(headers, TaskHeaders.MAX_ATTEMPTS, Integer.toString(attempts));
            }
            try {
                Future<RecordMetadata> future = producer.send(new ProducerRecord<>(topics.ready(), null, releasedAt,
                        record.key(), record.value(), headers));
                return new Sent(source, record.offset(), future);
            } catch (RecordTooLargeException | SerializationException | InvalidRecordException e) {
                refusal = e.toString(); // refused before it left: dead-letter it in this transaction
            }
        }
        Map<Long, String> refused = poison.get(source);
        if (refused != null && refused.remove(record.offset()) != null && refused.isEmpty()) {
            poison.remove(source); // keeps the map empty, and its per-record lookup skipped, again
        }
        String id = header(headers, TaskHeaders.ID);
        int attempt = parseAttempt(header(headers, TaskHeaders.ATTEMPT));
        headers.add(ERROR_HEADER, utf8("refused by Kafka: " + refusal));
        // the payload itself may be what Kafka refused: the dead letter keeps headers and key only
        producer.send(new ProducerRecord<>(topics.dead(), null, releasedAt, record.key(), null, headers));
        publish(queue, TaskEvent.of(TaskEvent.Type.dead, queue, id, attempt, releasedAt, "refused by Kafka: " + refusal));
        LOG.warn("Task {} of queue {} (offset {}) was refused by Kafka and went to {}: {}", id, queue,
                record.offset(), topics.dead(), refusal);
        return new Sent(source, record.offset(), null);
    }

    /**
     * A record over the size limits, written to the queue topic without the router: to the dead letters
     * with the reason, with its key and Sluice's own headers, without the payload or the other headers
     * (either may be what is too large).
     */
    private Sent deadOverLimit(QueueName queue, TopicPartition source, ConsumerRecord<byte[], byte[]> record,
                               Headers headers, long releasedAt, String reason) {
        Headers kept = new RecordHeaders();
        for (String name : new String[] {TaskHeaders.ID, TaskHeaders.QUEUE, TaskHeaders.ATTEMPT, TaskHeaders.SUBMITTED_AT}) {
            Header header = headers.lastHeader(name);
            if (header != null && header.value() != null && header.value().length <= 200) {
                kept.add(name, header.value());
            }
        }
        if (kept.lastHeader(TaskHeaders.ID) == null) {
            kept.add(TaskHeaders.ID, utf8(UUID.randomUUID().toString()));
        }
        String id = header(kept, TaskHeaders.ID);
        String error = "refused by the gate: " + reason + "; the payload and other headers are not kept";
        kept.add(ERROR_HEADER, utf8(error));
        producer.send(new ProducerRecord<>(topics.dead(), null, releasedAt, record.key(), null, kept));
        publish(queue, TaskEvent.of(TaskEvent.Type.dead, queue, id, parseAttempt(header(kept, TaskHeaders.ATTEMPT)),
                releasedAt, error));
        LOG.warn("Task {} of queue {} (offset {}) went to {}: {}", id, queue, record.offset(), topics.dead(), error);
        return new Sent(source, record.offset(), null);
    }

    private void publish(QueueName queue, TaskEvent event) {
        producer.send(new ProducerRecord<>(topics.events(), null, event.at(), utf8(queue.value()), event.toJson()));
    }

    /** Finds the sends Kafka refused for the record itself, so that the retry dead-letters them. */
    private void rememberRefused(List<Sent> sent) {
        Set<TopicPartition> found = new HashSet<>();
        for (Sent s : sent) {
            if (s.future() == null || !s.future().isDone()) {
                continue;
            }
            try {
                s.future().get();
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof RecordTooLargeException || cause instanceof InvalidRecordException
                        || cause instanceof CorruptRecordException) {
                    poison.computeIfAbsent(s.source(), p -> new HashMap<>()).put(s.offset(), cause.toString());
                    found.add(s.source());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (!found.isEmpty()) {
            LOG.warn("Kafka refused records of {}; they go to {} on the retry", found, topics.dead());
        }
    }

    private void abort() {
        try {
            producer.abortTransaction();
        } catch (ProducerFencedException e) {
            throw e;
        } catch (KafkaException | IllegalStateException e) {
            // IllegalStateException: the producer allows no abort now; the broker aborts the transaction
            // when it times out, and the next begin says whether this producer can go on
            LOG.warn("Aborting the transaction failed too: {}", e.toString());
        }
    }

    /** Forgets what was remembered of a partition this gate no longer owns. */
    void forget(TopicPartition partition) {
        poison.remove(partition);
    }

    private record Sent(TopicPartition source, long offset, Future<RecordMetadata> future) {
    }

    private static String header(Headers headers, String name) {
        var header = headers.lastHeader(name);
        return header == null || header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static int parseAttempt(String text) {
        if (text == null) {
            return 0;
        }
        try {
            return Integer.parseInt(text.strip());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static void replace(Headers headers, String name, String value) {
        headers.remove(name);
        headers.add(name, utf8(value));
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
