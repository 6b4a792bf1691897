package dev.sluice.gate;

import static dev.sluice.gate.GateFixture.header;
import static dev.sluice.gate.GateFixture.timestamps;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.QueueName;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.Windows;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/** More than one gate on the same queues: the limit is Redis's, so it holds across them, and they hand queues over cleanly. */
class GateScaleOutIT {

    private static final int QUEUES = 6;
    private static final int TASKS = 240;
    private static final int LIMIT = 20;

    @Test
    void aGateJoiningAndLeavingMidRunLosesNothingReleasesNothingTwiceAndKeepsEveryLimit() {
        try (GateFixture world = new GateFixture()) {
            Map<QueueName, List<String>> submitted = new LinkedHashMap<>();
            for (int q = 0; q < QUEUES; q++) {
                QueueName queue = world.createQueue(LIMIT + "/1s", 1);
                submitted.put(queue, world.submit(queue, TASKS));
            }
            world.startGate();
            try (GateFixture.ReadyReader ready = world.readyReader()) {
                ready.readUntil(QUEUES * LIMIT, Duration.ofSeconds(30));

                Gate joining = world.startGate(); // the queues are shared out again between two gates
                ready.readUntil(QUEUES * TASKS / 2, Duration.ofSeconds(30));
                long releasedByJoining = joining.metrics().released();
                joining.close(); // and back to one
                ready.readUntil(QUEUES * TASKS, Duration.ofSeconds(60));
                ready.readFor(Duration.ofSeconds(1)); // a task released twice would show now

                assertThat(releasedByJoining).as("tasks the joining gate released").isPositive();
                List<String> everyId = new ArrayList<>();
                submitted.forEach((queue, ids) -> {
                    List<ConsumerRecord<byte[], byte[]>> released = ready.of(queue);
                    assertThat(released).extracting(r -> header(r, TaskHeaders.ID))
                            .as("released tasks of " + queue.value())
                            .containsExactlyInAnyOrderElementsOf(ids);
                    assertThat(Windows.maxInAnyWindow(timestamps(released), 1000))
                            .as("most releases of " + queue.value() + " in any second")
                            .isLessThanOrEqualTo(LIMIT);
                    everyId.addAll(ids);
                });
                assertThat(ready.records).hasSize(everyId.size());
            }
        }
    }
}
