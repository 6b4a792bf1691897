package dev.sluice.worker;

import dev.sluice.core.StartGuard;
import dev.sluice.core.TaskHeaders;
import java.util.Collection;
import java.util.Comparator;
import java.util.PriorityQueue;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;

/**
 * Fetched tasks that carry a start slot, waiting for it, earliest slot first. The gate releases each
 * task up to its start lead and a horizon ahead of its slot (ADR 0005); the loop hands it to a slot
 * thread shortly before its slot, or sends it back through its queue's limit once its latest start
 * has passed. Not thread-safe: the worker's loop thread owns it.
 */
final class StartSchedule {

    /** A record's start header is missing. */
    static final long NONE = -1;

    /** One task waiting for its slot; times are microseconds on Redis's clock. */
    record Entry(TopicPartition partition, ConsumerRecord<byte[], byte[]> record, long startMicros, long byMicros,
                 long fetchedMicros, long sequence) {
    }

    private static final Comparator<Entry> BY_SLOT =
            Comparator.comparingLong(Entry::startMicros).thenComparingLong(Entry::sequence);

    private final PriorityQueue<Entry> entries = new PriorityQueue<>(BY_SLOT);
    private long sequence;

    /**
     * Adds the record if it carries a start slot.
     *
     * @return false when it carries none (written to the ready topic by something other than a gate):
     *     it may start at once
     */
    boolean offer(TopicPartition partition, ConsumerRecord<byte[], byte[]> record) {
        return offer(partition, record, Long.MAX_VALUE);
    }

    /** As {@link #offer(TopicPartition, ConsumerRecord)}, noting when it was fetched (Redis micros). */
    boolean offer(TopicPartition partition, ConsumerRecord<byte[], byte[]> record, long fetchedMicros) {
        long[] slot = slotOf(record);
        if (slot == null) {
            return false;
        }
        long startMicros = slot[0];
        long byMicros = slot[1];
        entries.add(new Entry(partition, record, startMicros, byMicros, fetchedMicros, sequence++));
        return true;
    }

    /** The task with the earliest slot, or null. */
    Entry peek() {
        return entries.peek();
    }

    Entry poll() {
        return entries.poll();
    }

    int size() {
        return entries.size();
    }

    boolean isEmpty() {
        return entries.isEmpty();
    }

    /** Drops the tasks of partitions this worker no longer owns: their next owner runs them. */
    void forget(Collection<TopicPartition> partitions) {
        entries.removeIf(entry -> partitions.contains(entry.partition()));
    }

    /**
     * A record's start slot and latest start ({@code {startMicros, byMicros}}, Redis microseconds), or
     * null when it has none. A stamp Sluice did not write counts as missed ({@code {0, 0}}), so the gate
     * stamps it anew.
     */
    static long[] slotOf(ConsumerRecord<byte[], byte[]> record) {
        Header start = record.headers().lastHeader(TaskHeaders.START_AT);
        if (start == null) {
            return null;
        }
        long startMicros = parse(start.value());
        if (startMicros == NONE) {
            return new long[] {0, 0};
        }
        Header by = record.headers().lastHeader(TaskHeaders.START_BY);
        long parsed = by == null ? NONE : parse(by.value());
        return new long[] {startMicros,
                parsed == NONE || parsed < startMicros ? startMicros + StartGuard.MIN_TOLERANCE_MICROS : parsed};
    }

    /** A non-negative decimal number, or {@link #NONE}. */
    static long parse(byte[] digits) {
        if (digits == null || digits.length == 0 || digits.length > 18) {
            return NONE;
        }
        long value = 0;
        for (byte b : digits) {
            if (b < '0' || b > '9') {
                return NONE;
            }
            value = value * 10 + (b - '0');
        }
        return value;
    }
}
