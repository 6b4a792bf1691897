package dev.sluice.ingest;

import dev.sluice.core.QueueName;
import dev.sluice.core.TaskEvent;

/** Where the statistics topology writes its results: absolute values, so a replay rewrites the same. */
public interface StatsSink {

    /** The queue's total of {@code type} events so far. */
    void total(QueueName queue, TaskEvent.Type type, long total);

    /** Releases of the queue in the second starting at {@code secondStartMillis}. */
    void releasedInSecond(QueueName queue, long secondStartMillis, long count);
}
