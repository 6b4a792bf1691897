package dev.sluice.worker;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * How far a share consumer can trust the tasks its next poll hands out, judged by when it polled before.
 *
 * <p>A share consumer fetches in the background: the answer to a fetch sent while a poll waited may come
 * after that poll returned, and its tasks are acquired for this consumer then and wait in its buffer (so
 * may a fetch's tasks of other partitions than the one a poll hands out). The consumer hands them out only
 * after its batch is acknowledged (it cannot poll past the batch's own records), so they wait as long as
 * the batch runs, and their locks may run out meanwhile; Kafka then gives them to another worker. A
 * renewal does not tell whether such a task is still ours: Kafka renews an offset another worker already
 * acknowledged, without an error, once its share partition's start offset has moved past it (4.3's
 * {@code SharePartition} skips offsets below the start offset), and the consumer then hands the task back
 * as if renewed. Nor does the time a poll takes tell a buffered task from a new one: the next fetch's
 * answer is often in before the poll. So:
 * <ul>
 * <li>a poll soon after the one before it: whatever it hands out was acquired since, and its lock holds;</li>
 * <li>a third of the lock or more later: the locks still hold, but run low: renewed first;</li>
 * <li>the lock less {@link #MARGIN_NANOS} or more later: the consumer is closed, which gives back what it
 *     still holds (Kafka hands it out again) and drops the rest unrun, and a new one is opened.</li>
 * </ul>
 */
final class PrefetchAge {

    /** What to do before or with the next poll. */
    enum Verdict { RUN, RENEW_FIRST, REOPEN }

    /** Room left for a renewal's round trip and clocks: a task this near the end of its lock is not trusted. */
    static final long MARGIN_NANOS = TimeUnit.SECONDS.toNanos(2);

    private PrefetchAge() {
    }

    /**
     * @param sincePreviousPoll from the start of the consumer's previous poll to now
     * @param lockNanos the share group's record lock
     */
    static Verdict judge(long sincePreviousPoll, long lockNanos) {
        if (sincePreviousPoll >= lockNanos - MARGIN_NANOS) {
            return Verdict.REOPEN;
        }
        return sincePreviousPoll >= ShareBatch.renewEveryNanos(Duration.ofNanos(lockNanos))
                ? Verdict.RENEW_FIRST : Verdict.RUN;
    }
}
