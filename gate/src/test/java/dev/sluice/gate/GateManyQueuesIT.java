package dev.sluice.gate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.QueueName;
import dev.sluice.core.QueueSpec;
import dev.sluice.core.RateLimit;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;

/** A thousand waiting queues cost Redis calls in proportion to what they release, not to time. */
class GateManyQueuesIT {

    private static long evalshaCalls(GateFixture world) {
        String stats = world.redis.info("commandstats");
        return stats.lines().filter(l -> l.startsWith("cmdstat_evalsha:")).findFirst()
                .map(l -> Long.parseLong(l.substring(l.indexOf("calls=") + 6, l.indexOf(','))))
                .orElse(0L);
    }

    @Test
    void aThousandQueuesAreAllReleasedWithRedisCallsProportionalToReleases() throws Exception {
        try (GateFixture world = new GateFixture()) {
            List<QueueName> queues = new ArrayList<>();
            List<NewTopic> topics = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                QueueName queue = QueueName.generate();
                queues.add(queue);
                topics.add(new NewTopic(world.topics.queue(queue), 1, (short) 1));
            }
            world.admin.createTopics(topics).all().get(120, TimeUnit.SECONDS);
            for (QueueName queue : queues) {
                world.registry.create(queue, QueueSpec.of(RateLimit.parse("1/1s")));
                world.submit(queue, 5);
            }
            long callsBefore = evalshaCalls(world);

            Gate gate = world.startGate();
            try (GateFixture.ReadyReader ready = world.readyReader()) {
                ready.readUntil(5000, Duration.ofSeconds(90));
                long calls = evalshaCalls(world) - callsBefore;

                assertThat(ready.records).hasSize(5000);
                for (QueueName queue : queues.subList(0, 20)) {
                    assertThat(ready.of(queue)).hasSize(5);
                }
                // each release needs about one call; a gate that polled every queue every 10 ms for
                // the 4+ seconds the last tokens take would have made 400,000
                assertThat(calls).isLessThan(3 * 5000);
                assertThat(gate.metrics().bucketCalls()).isLessThan(3 * 5000);
                System.out.printf("1000 queues x 5 tasks: %d releases, %d bucket calls (%.2f per release)%n",
                        ready.records.size(), calls, (double) calls / ready.records.size());
            }
        }
    }
}
