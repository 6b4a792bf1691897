package dev.sluice.worker;

import dev.sluice.core.DelayTiers;
import dev.sluice.core.QueueName;
import dev.sluice.core.TaskEvent;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.Topics;
import dev.sluice.worker.api.Task;
import dev.sluice.worker.api.TaskResult;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * What became of a task: its events, written here, and for a failure the retry (through a delay tier
 * back to its queue topic, so it passes the queue's limit again) or the dead letter, and for a task that
 * missed its start the record that sends it back through its queue's limit. Those are made here and
 * written by {@link WriteBacks}, in one transaction with the commit that finishes their task.
 * Thread-safe (Kafka's producer is).
 */
final class TaskOutcomes {

    static final String ERROR_HEADER = TaskHeaders.ERROR;
    static final String NOT_BEFORE_HEADER = "sluice-not-before";

    private final Producer<byte[], byte[]> producer;
    private final Topics topics;
    private final int maxAttempts;
    private final EventBatcher batcher;
    /** Requeues are counted once written, on the worker's loop thread, in a tally of its own. */
    private final ThreadLocal<EventBatcher.Tally> requeueTally;

    /** The longest a retry waits, whatever its handler asked for. */
    static final java.time.Duration MAX_RETRY_DELAY = java.time.Duration.ofDays(1);

    TaskOutcomes(Producer<byte[], byte[]> producer, Topics topics, int maxAttempts, EventBatcher batcher) {
        this.producer = producer;
        this.topics = topics;
        this.maxAttempts = maxAttempts;
        this.batcher = batcher;
        this.requeueTally = ThreadLocal.withInitial(batcher::newTally);
    }

    /** Counts the task started, in the calling thread's tally ({@link #newTally()}). */
    void started(Task task, EventBatcher.Tally tally) {
        tally.count(TaskEvent.Type.started, task.queue(), System.currentTimeMillis());
    }

    /** Counts the task completed, in the calling thread's tally ({@link #newTally()}). */
    void completed(Task task, EventBatcher.Tally tally) {
        tally.count(TaskEvent.Type.completed, task.queue(), System.currentTimeMillis());
    }

    /** A new event tally for the calling thread (one per thread). */
    EventBatcher.Tally newTally() {
        return batcher.newTally();
    }

    /**
     * A record to write back in place of finishing a task.
     *
     * @param written what to count once it is written, told the topic it went to
     */
    record WriteBack(ProducerRecord<byte[], byte[]> record, java.util.function.Consumer<String> written) {
    }

    /**
     * Records a failed attempt (its {@code failed} event) and makes its write-back: a retry while attempts
     * remain and the failure is retryable, else a dead letter, counted {@code retried} or {@code dead}
     * once written.
     */
    WriteBack failed(Task task, ConsumerRecord<byte[], byte[]> record, TaskResult.Failure failure,
                     long backoffMillis) {
        event(task, TaskEvent.Type.failed, failure.reason());
        long failedAt = System.currentTimeMillis();
        boolean retry = failure.retryable() && task.attempt() + 1 < maxAttempts(task);
        Headers headers = new RecordHeaders(record.headers().toArray());
        headers.remove(ERROR_HEADER);
        headers.add(ERROR_HEADER, utf8(abbreviate(failure.reason())));
        String topic;
        if (retry) {
            long delay = failure.retryAfterDelay().map(TaskOutcomes::retryDelayMillis).orElse(backoffMillis);
            replace(headers, TaskHeaders.ATTEMPT, Integer.toString(task.attempt() + 1));
            replace(headers, NOT_BEFORE_HEADER, Long.toString(failedAt + delay));
            headers.remove(TaskHeaders.RELEASED_AT);
            // not straight back to the queue topic, where it would wait in line before newer tasks: a
            // delay tier, which DelayForwarder empties into the queue topic when the time has come
            topic = topics.delay(DelayTiers.tierFor(java.time.Duration.ofMillis(delay)));
        } else {
            topic = topics.dead();
        }
        TaskEvent.Type type = retry ? TaskEvent.Type.retried : TaskEvent.Type.dead;
        // stamped with the time of the failure, not of the transaction that writes it a little later: a
        // delay tier holds a record for its tier's time from its timestamp
        return new WriteBack(new ProducerRecord<>(topic, null, failedAt, record.key(), record.value(), headers),
                written -> event(task, type, failure.reason()));
    }

    /**
     * The write-back of a task that could not start within its tolerance: back to its queue topic, where
     * it passes the queue's limit again for a new slot, with the same payload and headers, the same
     * attempt, without the slot it missed (a record naming no valid queue goes to the dead letters
     * instead). Counted as {@code requeued} once written to its queue.
     */
    WriteBack requeue(ConsumerRecord<byte[], byte[]> record) {
        Headers headers = new RecordHeaders(record.headers().toArray());
        headers.remove(TaskHeaders.START_AT);
        headers.remove(TaskHeaders.START_BY);
        headers.remove(TaskHeaders.RELEASED_AT);
        var requeues = headers.lastHeader(TaskHeaders.REQUEUES);
        int before = 0;
        try {
            before = requeues == null || requeues.value() == null ? 0
                    : Integer.parseInt(new String(requeues.value(), StandardCharsets.UTF_8).strip());
        } catch (NumberFormatException notOurs) {
            // a producer's own value: counted from 0
        }
        replace(headers, TaskHeaders.REQUEUES, Integer.toString(before + 1));
        var queueHeader = headers.lastHeader(TaskHeaders.QUEUE);
        String queue = queueHeader == null || queueHeader.value() == null ? null
                : new String(queueHeader.value(), StandardCharsets.UTF_8);
        String topic;
        try {
            topic = topics.queue(QueueName.of(queue == null ? "" : queue));
        } catch (IllegalArgumentException malformed) {
            replace(headers, ERROR_HEADER, "malformed task: " + malformed.getMessage());
            queue = null;
            topic = topics.dead();
        }
        String counted = queue;
        String queueTopic = topic;
        return new WriteBack(new ProducerRecord<>(topic, null, record.key(), record.value(), headers), written -> {
            if (counted != null && written.equals(queueTopic)) {
                requeueTally.get().count(TaskEvent.Type.requeued, counted, System.currentTimeMillis());
            }
        });
    }

    /**
     * The wait a handler asked for, at most {@link #MAX_RETRY_DELAY}: a server's {@code Retry-After} of
     * years overflowed the milliseconds, the retry was never written, and the task stayed unfinished.
     */
    static long retryDelayMillis(java.time.Duration asked) {
        if (asked.isNegative()) {
            return 0;
        }
        return asked.compareTo(MAX_RETRY_DELAY) > 0 ? MAX_RETRY_DELAY.toMillis() : asked.toMillis();
    }

    /** The queue's max attempts as the gate stamped it on the task, else the worker's. */
    private int maxAttempts(Task task) {
        String stamped = task.headers().get(TaskHeaders.MAX_ATTEMPTS);
        if (stamped != null) {
            try {
                int value = Integer.parseInt(stamped.strip());
                if (value >= 1) {
                    return value;
                }
            } catch (NumberFormatException ignored) {
                // a header we did not write: the worker's setting applies
            }
        }
        return maxAttempts;
    }

    private void event(Task task, TaskEvent.Type type, String detail) {
        TaskEvent event = TaskEvent.of(type, QueueName.of(task.queue()), task.id(), task.attempt(),
                System.currentTimeMillis(), detail == null ? null : abbreviate(detail));
        producer.send(new ProducerRecord<>(topics.events(), null, event.at(), utf8(task.queue()), event.toJson()));
    }

    private static void replace(Headers headers, String name, String value) {
        headers.remove(name);
        headers.add(name, utf8(value));
    }

    private static String abbreviate(String text) {
        return text.length() <= 1000 ? text : text.substring(0, 1000) + "…";
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
