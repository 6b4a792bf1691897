package dev.sluice.gate;

import static dev.sluice.gate.GateFixture.header;
import static dev.sluice.gate.GateFixture.timestamps;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.QueueName;
import dev.sluice.core.TaskEvent;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.Windows;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import dev.sluice.embedded.RedisClusterProcesses;
import org.junit.jupiter.api.Test;

/** The gate against the real broker and Redis: limits hold, and are used. */
class GateStrictnessIT {

    /** Checks one queue's releases: no window over the limit, and at least 95% of the limit used. */
    private static void assertStrictAndFull(List<ConsumerRecord<byte[], byte[]>> released, int permits,
                                            long periodMillis, int burst, int expected) {
        long[] times = timestamps(released);
        assertThat(released).hasSize(expected);
        assertThat(Windows.maxInAnyWindow(times, periodMillis)).isLessThanOrEqualTo(permits + burst - 1);
        double achievedPerMilli = (double) (times.length - burst) / (times[times.length - 1] - times[0]);
        assertThat(achievedPerMilli).isGreaterThanOrEqualTo(0.95 * permits / periodMillis);
    }

    @Test
    void releasesEachQueueAtItsLimitAndNoFaster() {
        try (GateFixture world = new GateFixture()) {
            releasesEachQueueAtItsLimitAndNoFaster(world);
        }
    }

    @Test
    void onARedisClusterReleasesEachQueueAtItsLimitAndNoFaster() {
        try (RedisClusterProcesses cluster = RedisClusterProcesses.start(3);
             GateFixture world = GateFixture.onRedisCluster(cluster.seeds())) {
            releasesEachQueueAtItsLimitAndNoFaster(world);
        }
    }

    private static void releasesEachQueueAtItsLimitAndNoFaster(GateFixture world) {
        {
            QueueName tenPerSecond = world.createQueue("10/1s", 1);
            QueueName fourPerTwoSeconds = world.createQueue("4/2s", 1);
            QueueName burstOfFive = world.createQueue("25/1s", 5);
            world.submit(tenPerSecond, 30);
            world.submit(fourPerTwoSeconds, 12);
            world.submit(burstOfFive, 75);

            world.startGate();
            try (GateFixture.ReadyReader ready = world.readyReader()) {
                ready.readUntil(117, Duration.ofSeconds(30));

                assertStrictAndFull(ready.of(tenPerSecond), 10, 1000, 1, 30);
                assertStrictAndFull(ready.of(fourPerTwoSeconds), 4, 2000, 1, 12);
                assertStrictAndFull(ready.of(burstOfFive), 25, 1000, 5, 75);
            }
        }
    }

    @Test
    void forwardsPayloadAndHeadersUntouchedAndStampsTheStartSlot() {
        try (GateFixture world = new GateFixture()) {
            QueueName queue = world.createQueue("100/1s", 1);
            List<String> ids = world.submit(queue, 3);

            world.startGate();
            try (GateFixture.ReadyReader ready = world.readyReader()) {
                List<ConsumerRecord<byte[], byte[]>> released = ready.readUntil(3, Duration.ofSeconds(15));

                assertThat(released).extracting(r -> header(r, TaskHeaders.ID)).containsExactlyInAnyOrderElementsOf(ids);
                for (ConsumerRecord<byte[], byte[]> record : released) {
                    String id = header(record, TaskHeaders.ID);
                    int n = Integer.parseInt(id.substring(id.lastIndexOf('-') + 1));
                    assertThat(new String(record.value())).isEqualTo("{\"n\":" + n + "}");
                    assertThat(header(record, TaskHeaders.QUEUE)).isEqualTo(queue.value());
                    assertThat(header(record, TaskHeaders.RELEASED_AT)).isEqualTo(Long.toString(record.timestamp()));
                    assertThat(header(record, TaskHeaders.MAX_ATTEMPTS)).isEqualTo("3");
                    long startAt = Long.parseLong(header(record, TaskHeaders.START_AT));
                    assertThat(startAt / 1_000).isEqualTo(record.timestamp());
                    // 100/1s: half the guard (5 ms), less than half an interval (5.05 ms)
                    assertThat(Long.parseLong(header(record, TaskHeaders.START_BY)) - startAt).isEqualTo(5_000);
                }
            }
        }
    }

    @Test
    void twoGatesTogetherStayWithinEachLimit() {
        try (GateFixture world = new GateFixture()) {
            List<QueueName> queues = List.of(world.createQueue("5/1s", 1), world.createQueue("5/1s", 1),
                    world.createQueue("5/1s", 1), world.createQueue("5/1s", 1));
            for (QueueName queue : queues) {
                world.submit(queue, 15);
            }

            Gate first = world.startGate();
            Gate second = world.startGate();
            try (GateFixture.ReadyReader ready = world.readyReader()) {
                ready.readUntil(60, Duration.ofSeconds(30));

                for (QueueName queue : queues) {
                    assertThat(Windows.maxInAnyWindow(timestamps(ready.of(queue)), 1000)).isLessThanOrEqualTo(5);
                    assertThat(ready.of(queue)).hasSize(15);
                }
                assertThat(first.metrics().released()).isPositive();
                assertThat(second.metrics().released()).isPositive();
            }
        }
    }

    @Test
    void releasedEventsCountEveryReleaseInItsSecond() {
        try (GateFixture world = new GateFixture()) {
            QueueName queue = world.createQueue("2000/1s", 1);
            world.submit(queue, 3000);
            world.startGate();
            try (GateFixture.ReadyReader ready = world.readyReader()) {
                ready.readUntil(3000, Duration.ofSeconds(30));
                List<TaskEvent> events = world.readEvents(queue, 3000, Duration.ofSeconds(10));

                assertThat(events).allMatch(e -> e.type() == TaskEvent.Type.released);
                assertThat(events.stream().mapToInt(TaskEvent::count).sum()).isEqualTo(3000);
                Map<Long, Integer> perSecondFromEvents = new TreeMap<>();
                events.forEach(e -> perSecondFromEvents.merge(e.at() / 1000, e.count(), Integer::sum));
                Map<Long, Integer> perSecondFromTasks = new TreeMap<>();
                ready.of(queue).forEach(r -> perSecondFromTasks.merge(r.timestamp() / 1000, 1, Integer::sum));
                assertThat(perSecondFromEvents).isEqualTo(perSecondFromTasks);
                // one event per second, not per release: counts are published every 250 ms
                assertThat(events.size()).isLessThan(3000 / 2);
            }
        }
    }

    @Test
    void aGateStoppedGracefullyPublishesTheCountsItHadNotPublishedYet() {
        try (GateFixture world = new GateFixture()) {
            QueueName queue = world.createQueue("200/1s", 1);
            world.submit(queue, 100);
            Gate gate = world.startGate();
            try (GateFixture.ReadyReader ready = world.readyReader()) {
                ready.readUntil(100, Duration.ofSeconds(30));
                // counts wait up to 250 ms to be published; closing must not drop the last of them
                gate.close();
                List<TaskEvent> events = world.readEvents(queue, 100, Duration.ofSeconds(10));

                assertThat(events.stream().mapToInt(TaskEvent::count).sum()).isEqualTo(100);
            }
        }
    }
}
