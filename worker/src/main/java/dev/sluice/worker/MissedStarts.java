package dev.sluice.worker;

import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;

/**
 * Counts the tasks sent back because they could not start by their latest start, and says so in one
 * line at most every {@value #REPORT_INTERVAL_NANOS} ns: how many, why (they came late: a worker that
 * was away, a slow pipeline; no slot was free: too few slots for the rate and the handler's time; the
 * slot thread woke late: a starved machine), and how late the latest was. Thread-safe.
 */
final class MissedStarts {

    static final long REPORT_INTERVAL_NANOS = 10_000_000_000L;

    private final LongAdder missedOnArrival = new LongAdder();
    private final LongAdder missedWaitingForSlot = new LongAdder();
    private final LongAdder missedAtSlot = new LongAdder();
    private final LongAccumulator latestMicros = new LongAccumulator(Math::max, 0);
    private long nextReportNanos;

    /** A task whose latest start had passed when it reached this worker. */
    void onArrival(long lateMicros) {
        missedOnArrival.increment();
        latestMicros.accumulate(lateMicros);
    }

    /** A task whose latest start passed while it waited here for a free slot. */
    void waitingForSlot(long lateMicros) {
        missedWaitingForSlot.increment();
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
        long waiting = missedWaitingForSlot.sumThenReset();
        long atSlot = missedAtSlot.sumThenReset();
        long latest = latestMicros.getThenReset();
        if (onArrival + waiting + atSlot > 0) {
            log.warn("{} tasks missed their start slot and went back through their queue's limit ({} reached this"
                    + " worker past their latest start, {} waited for a free slot past it, {} were not started in"
                    + " time by their slot thread); the latest by {} ms", onArrival + waiting + atSlot, onArrival,
                    waiting, atSlot, latest / 1_000);
            nextReportNanos = nowNanos + REPORT_INTERVAL_NANOS;
        }
    }
}
