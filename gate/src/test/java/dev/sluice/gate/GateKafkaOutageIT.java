package dev.sluice.gate;

import static dev.sluice.gate.GateFixture.header;
import static dev.sluice.gate.GateFixture.timestamps;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.QueueName;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.Windows;
import dev.sluice.embedded.EmbeddedKafka;
import dev.sluice.embedded.SharedServers;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * Kafka away for longer than every client timeout (the producer gives up a commit after 60 s): the gate
 * rides it out and goes on where it left off. Its own broker, not the shared one.
 */
class GateKafkaOutageIT {

    @Test
    void aNinetySecondKafkaOutageLosesNothingReleasesNothingTwiceAndTheGateGoesOn() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start();
             GateFixture world = new GateFixture(kafka.bootstrapServers(), SharedServers.redisUri())) {
            QueueName queue = world.createQueue("20/1s", 1);
            List<String> ids = world.submit(queue, 200);
            Gate gate = world.startGate();
            try (GateFixture.ReadyReader ready = world.readyReader()) {
                ready.readUntil(40, Duration.ofSeconds(30));

                kafka.restartBroker(Duration.ofSeconds(90));
                ready.readUntil(200, Duration.ofSeconds(120));
                ready.readFor(Duration.ofSeconds(2));

                List<ConsumerRecord<byte[], byte[]>> released = ready.of(queue);
                assertThat(released).extracting(r -> header(r, TaskHeaders.ID))
                        .containsExactlyInAnyOrderElementsOf(ids)
                        .doesNotHaveDuplicates();
                assertThat(Windows.maxInAnyWindow(timestamps(released), 1000)).isLessThanOrEqualTo(20);
                assertThat(gate.isRunning()).isTrue();
            }
        }
    }
}
