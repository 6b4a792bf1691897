package dev.sluice.ingest;

import dev.sluice.core.QueueName;
import dev.sluice.core.TaskEvent;

/** Where the statistics topology writes its results: absolute values, so a replay rewrites the same. */
public interface StatsSink {

    /** The queue's total of {@code type} events so far. */
    void total(QueueName queue, TaskEvent.Type type, long total);

    /** Releases of the queue in the second starting at {@code secondStartMillis}. */
    void releasedInSecond(QueueName queue, long secondStartMillis, long count);

    /**
     * The queue's first releases so far: of tasks on their first attempt never sent back through the
     * limit (so a task released again for a retry or after missing its start is not counted twice).
     */
    void firstReleases(QueueName queue, long total);
}
