package dev.sluice.gate;

import dev.sluice.core.QueueName;
import dev.sluice.core.redis.Acquisition;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * One queue's partition as the gate holds it: the records fetched but not yet granted a token, the
 * records granted a token and not yet forwarded, and when the bucket may be asked again.
 *
 * <p>A granted record is forwarded at once with its start slot: the bucket puts every slot at least
 * the gate's start lead ahead of now, and the worker starts the task at its slot (ADR 0005).
 *
 * <p>Records stay in offset order through both stages, so the offsets released are always a prefix
 * of what was fetched and the committed offset is simply the last released one plus one. The number
 * of records held is bounded by {@link #capacity()}: at capacity the loop pauses the partition, so a
 * queue that waits an hour holds a handful of records, not its backlog. Not thread-safe: the gate's
 * loop thread owns it.
 */
final class Lane {

    /** What the bucket last said of the queue. */
    enum Status { ACTIVE, INACTIVE, UNKNOWN }

    /**
     * A record granted a token: its task starts at {@code slotMicros} (Redis time), and goes back
     * through its queue's limit if it cannot start by {@code slotMicros + toleranceMicros}.
     */
    record Grant(ConsumerRecord<byte[], byte[]> record, long slotMicros, long toleranceMicros) {
    }

    private final TopicPartition partition;
    private final QueueName queue;
    private final int capacity;
    private final ArrayDeque<ConsumerRecord<byte[], byte[]>> waiting = new ArrayDeque<>();
    private final ArrayDeque<Grant> granted = new ArrayDeque<>();
    private Status status = Status.ACTIVE;
    private long acquireAtNanos = Long.MIN_VALUE;
    private boolean paused;

    Lane(TopicPartition partition, QueueName queue, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
        }
        this.partition = partition;
        this.queue = queue;
        this.capacity = capacity;
    }

    TopicPartition partition() {
        return partition;
    }

    QueueName queue() {
        return queue;
    }

    /** The offset this gate last committed for the partition, -1 before its first commit. Gate thread only. */
    private long committed = -1;

    long committed() {
        return committed;
    }

    void committedUpTo(long offset) {
        committed = Math.max(committed, offset);
    }

    int capacity() {
        return capacity;
    }

    Status status() {
        return status;
    }

    void add(ConsumerRecord<byte[], byte[]> record) {
        waiting.addLast(record);
    }

    int held() {
        return waiting.size() + granted.size();
    }

    int waitingForTokens() {
        return waiting.size();
    }

    /** Whether the bucket should be asked now: active, records without tokens, and its time has come. */
    boolean wantsTokens(long nowNanos) {
        return status == Status.ACTIVE && !waiting.isEmpty() && nowNanos >= acquireAtNanos;
    }

    /**
     * Takes the bucket's answer: the first {@code granted} waiting records get its slots.
     *
     * @param clock maps the reply's Redis times onto local time
     * @param leadNanos how far after now the bucket puts the first possible slot
     * @param horizonNanos how far beyond the lead the bucket reserves slots. The next call is made when
     *     the next token is a lead and a whole horizon away, so that a slow step in the loop does not
     *     make the gate late for it; for a fast queue (this call got several tokens) a lead and half a
     *     horizon away, so that each call still reserves about half a horizon's worth of tokens
     */
    void onAcquired(Acquisition acquisition, ClockSync clock, long nowNanos, long leadNanos, long horizonNanos) {
        switch (acquisition.outcome()) {
            case INACTIVE -> {
                status = Status.INACTIVE;
                acquireAtNanos = Long.MAX_VALUE;
            }
            case UNKNOWN_QUEUE -> {
                status = Status.UNKNOWN;
                acquireAtNanos = Long.MAX_VALUE;
            }
            case OK -> {
                status = Status.ACTIVE;
                for (int i = 0; i < acquisition.granted(); i++) {
                    granted.addLast(new Grant(waiting.removeFirst(), acquisition.slotMicros(i),
                            acquisition.toleranceMicros()));
                }
                long next = clock.localNanos(acquisition.nextTokenMicros());
                long ahead = leadNanos + (acquisition.granted() > 1 ? horizonNanos / 2 : horizonNanos);
                acquireAtNanos = Math.max(nowNanos, next - ahead);
            }
            default -> throw new IllegalStateException("unexpected outcome " + acquisition.outcome());
        }
    }

    /** Asks the bucket again at {@code atNanos} (Redis was unreachable, or the queue changed). */
    void retryAt(long atNanos) {
        acquireAtNanos = atNanos;
    }

    /** The queue was changed (activated, its rate updated): ask the bucket at once. */
    void reconsider(long nowNanos) {
        status = Status.ACTIVE;
        acquireAtNanos = nowNanos;
    }

    boolean hasGrants() {
        return !granted.isEmpty();
    }

    /** Removes and returns the granted records, in offset order: they are forwarded now. */
    List<Grant> takeGranted() {
        List<Grant> due = new ArrayList<>(granted);
        granted.clear();
        return due;
    }

    /** The next local time at which this lane has something to do, if any: at once while it holds grants. */
    OptionalLong nextDeadlineNanos(long nowNanos) {
        long deadline = Long.MAX_VALUE;
        if (!granted.isEmpty()) {
            deadline = nowNanos;
        }
        if (status == Status.ACTIVE && !waiting.isEmpty()) {
            deadline = Math.min(deadline, acquireAtNanos);
        }
        return deadline == Long.MAX_VALUE ? OptionalLong.empty() : OptionalLong.of(deadline);
    }

    boolean shouldPause() {
        return !paused && held() >= capacity;
    }

    boolean shouldResume() {
        return paused && held() <= capacity / 2;
    }

    void setPaused(boolean value) {
        paused = value;
    }

    boolean paused() {
        return paused;
    }

    /**
     * Forgets every record held (their transaction failed, or the partition is leaving) and returns
     * the offset to fetch again from: the first record held, if any. Their tokens are lost, never
     * reused: the limit can be under-used, not exceeded.
     */
    OptionalLong rewind() {
        OptionalLong first = OptionalLong.empty();
        if (!granted.isEmpty()) {
            first = OptionalLong.of(granted.peekFirst().record().offset());
        } else if (!waiting.isEmpty()) {
            first = OptionalLong.of(waiting.peekFirst().offset());
        }
        granted.clear();
        waiting.clear();
        acquireAtNanos = Long.MIN_VALUE;
        return first;
    }
}
