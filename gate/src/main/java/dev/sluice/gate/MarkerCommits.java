package dev.sluice.gate;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.Consumer;

/**
 * Which partitions' offsets to commit past the transaction markers after their last records. A queue
 * topic written in transactions (by the router, the delay forwarder, a requeue) ends with a marker the
 * gate's consumer steps over without a record to release; until the offset past it is committed, the
 * group shows lag 1 for good. A partition qualifies when the gate holds none of its records and the
 * consumer's position is beyond what was committed.
 */
final class MarkerCommits {

    private MarkerCommits() {
    }

    /** The lanes to commit and the offset for each: the consumer's position. */
    static Map<Lane, Long> due(Collection<Lane> lanes, Consumer<?, ?> consumer) {
        Map<Lane, Long> due = new HashMap<>();
        for (Lane lane : lanes) {
            if (lane.held() > 0) {
                continue; // its held records are committed when released
            }
            long position;
            try {
                position = consumer.position(lane.partition(), Duration.ZERO);
            } catch (org.apache.kafka.common.errors.TimeoutException | IllegalStateException | IllegalArgumentException notOwned) {
                // no position yet, or the partition is no longer assigned (the real consumer says so with the
                // first, MockConsumer with the second)
                continue;
            }
            if (position > Math.max(0, lane.committed())) {
                due.put(lane, position);
            }
        }
        return due;
    }
}
