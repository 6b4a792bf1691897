package dev.sluice.admin;

import dev.sluice.core.TaskEvent;
import io.micronaut.serde.annotation.Serdeable;
import java.util.Map;

/**
 * A queue's figures. {@code waiting} is read from Kafka ({@code null} when Kafka did not answer); the
 * others are the statistics' totals of the events: every attempt a worker starts ends completed or
 * failed, so {@code processing} = started − completed − failed.
 *
 * @param waiting tasks in the queue topic not yet released by the gate
 * @param released tasks the gate released (retries and requeued tasks count again)
 * @param processing attempts running now
 * @param completed attempts that succeeded
 * @param failed attempts that failed (each then retried or dead)
 * @param dead tasks given up after their last attempt
 * @param requeued released tasks that could not start by their latest start and went back through the
 *     limit for a new slot (ADR 0005); not attempts
 */
@Serdeable
public record QueueStats(Long waiting, long released, long processing, long completed, long failed, long dead,
                         long requeued) {

    static QueueStats of(Long waiting, Map<String, String> totals) {
        long started = total(totals, TaskEvent.Type.started);
        long completed = total(totals, TaskEvent.Type.completed);
        long failed = total(totals, TaskEvent.Type.failed);
        return new QueueStats(waiting, total(totals, TaskEvent.Type.released), Math.max(0, started - completed - failed),
                completed, failed, total(totals, TaskEvent.Type.dead), total(totals, TaskEvent.Type.requeued));
    }

    private static long total(Map<String, String> totals, TaskEvent.Type type) {
        String value = totals.get(type.name());
        return value == null ? 0 : Long.parseLong(value);
    }

    /**
     * Whether the queue's work is done: nothing waits in its topic, nothing runs, and every task released
     * on its first attempt completed or died (a retry waiting out its backoff keeps it open); at least one
     * task was released. Unknown (false) when the backlog is.
     */
    static boolean done(Long waiting, Map<String, String> totals) {
        long tasks = firstReleases(totals);
        long started = total(totals, TaskEvent.Type.started);
        long completed = total(totals, TaskEvent.Type.completed);
        long failed = total(totals, TaskEvent.Type.failed);
        return waiting != null && waiting == 0 && tasks > 0 && started - completed - failed <= 0
                && completed + total(totals, TaskEvent.Type.dead) >= tasks;
    }

    /** Releases of tasks' first attempts: the queue's tasks (see {@code RedisStatsSink}). */
    static long firstReleases(Map<String, String> totals) {
        String value = totals.get(dev.sluice.ingest.RedisStatsSink.FIRST_RELEASES);
        return value == null ? 0 : Long.parseLong(value);
    }

    /** Every event of the queue so far, whatever its type; the reaper reads a change as activity. */
    static long activity(Map<String, String> totals) {
        return totals.values().stream().mapToLong(Long::parseLong).sum();
    }
}
