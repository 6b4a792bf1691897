package dev.sluice.admin;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Tells which queues have been idle for their TTL. A queue is idle when nothing waits in it and its
 * activity mark (anything that changes when a task is submitted, released or processed) has not
 * changed for the TTL. Marks are remembered from one look to the next, so after a restart a queue
 * counts as active from the first look: the reaper removes late rather than early. Not thread-safe.
 */
final class IdleTracker {

    /** What a look at one queue saw. */
    record Look(String queue, Duration ttl, long waiting, Object activityMark) {
    }

    private record Seen(Object mark, Instant since) {
    }

    private final Map<String, Seen> seen = new HashMap<>();

    /** @return whether the queue has been idle for its TTL at {@code now}; never for TTL 0 */
    boolean idle(Look look, Instant now) {
        Seen last = seen.get(look.queue());
        if (last == null || !last.mark().equals(look.activityMark()) || look.waiting() > 0) {
            seen.put(look.queue(), new Seen(look.activityMark(), now));
            return false;
        }
        return !look.ttl().isZero() && !now.isBefore(last.since().plus(look.ttl()));
    }

    /** Forgets the queues not in {@code present} (removed). */
    void retain(Set<String> present) {
        seen.keySet().retainAll(present);
    }
}
