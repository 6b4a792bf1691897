package dev.sluice.worker;

import java.util.concurrent.atomic.LongAdder;

/** Counters a worker keeps about itself, readable from any thread. */
public final class WorkerMetrics {

    private final LongAdder started = new LongAdder();
    private final LongAdder completed = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final LongAdder fetched = new LongAdder();
    private final LongAdder requeued = new LongAdder();
    private final LongAdder skipped = new LongAdder();

    void onStarted() {
        started.increment();
    }

    void onCompleted() {
        completed.increment();
    }

    void onFailed() {
        failed.increment();
    }

    void onFetched(int count) {
        fetched.add(count);
    }

    void onRequeued() {
        requeued.increment();
    }

    void onSkipped() {
        skipped.increment();
    }

    /**
     * Tasks fetched and not run because the partition's earlier owner had finished them (its commit
     * said so): what a crash or rebalance did not run twice.
     */
    public long skipped() {
        return skipped.sum();
    }

    /** Tasks that could not start within their tolerance and went back through their queue's limit. */
    public long requeued() {
        return requeued.sum();
    }

    /** Tasks handed to a handler (a task run again after a rebalance counts again). */
    public long started() {
        return started.sum();
    }

    public long completed() {
        return completed.sum();
    }

    /** Attempts that failed (retried or dead). */
    public long failed() {
        return failed.sum();
    }

    /** Records returned by the consumer, including those sought back for lack of a free slot. */
    public long fetched() {
        return fetched.sum();
    }
}
