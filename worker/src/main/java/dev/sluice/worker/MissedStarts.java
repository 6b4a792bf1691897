package dev.sluice.worker;

import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;

/**
 * Counts the tasks sent back because they could not start by their latest start, and says so in one
 * line at most every {@value #REPORT_INTERVAL_NANOS} ns: how many, and how late the latest was, which
 * tells a worker that was away (seconds) from one that is too busy (milliseconds). Thread-safe.
 */
final class MissedStarts {

    static final long REPORT_INTERVAL_NANOS = 10_000_000_000L;

    private final LongAdder missedOnArrival = new LongAdder();
    private final LongAdder missedAtSlot = new LongAdder();
    private final LongAccumulator latestMicros = new LongAccumulator(Math::max, 0);
    private long nextReportNanos;

    /** A task whose latest start had passed when the worker came to hand it to a slot. */
    void onArrival(long lateMicros) {
        missedOnArrival.increment();
        latestMicros.accumulate(lateMicros);
    }

    /** A task whose slot thread woke past its latest start. */
    void atSlot(long lateMicros) {
        missedAtSlot.increment();
        latestMicros.accumulate(lateMicros);
    }

    /** Logs what was missed since the last report, if anything and if the interval has passed. */
    void report(Logger log, long nowNanos) {
        if (nowNanos < nextReportNanos) {
            return;
        }
        long onArrival = missedOnArrival.sumThenReset();
        long atSlot = missedAtSlot.sumThenReset();
        long latest = latestMicros.getThenReset();
        if (onArrival + atSlot > 0) {
            log.warn("{} tasks missed their start slot and went back through their queue's limit ({} reached this"
                    + " worker past their latest start, {} were not started in time here); the latest by {} ms",
                    onArrival + atSlot, onArrival, atSlot, latest / 1_000);
            nextReportNanos = nowNanos + REPORT_INTERVAL_NANOS;
        }
    }
}
