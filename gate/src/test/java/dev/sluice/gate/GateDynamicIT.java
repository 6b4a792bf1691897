package dev.sluice.gate;

import static dev.sluice.gate.GateFixture.timestamps;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.QueueName;
import dev.sluice.core.QueueState;
import dev.sluice.core.RateLimit;
import dev.sluice.core.Windows;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/** Queue changes while the gate runs take effect within a second. */
class GateDynamicIT {

    @Test
    void aQueueCreatedWhileTheGateRunsIsServedWithinASecond() {
        try (GateFixture world = new GateFixture()) {
            world.createQueue("1/1s", 1); // the gate has something to follow already
            world.startGate();
            GateFixture.sleep(Duration.ofSeconds(2));

            long createdAt = System.currentTimeMillis();
            QueueName fresh = world.createQueue("5/1s", 1);
            world.submit(fresh, 1);
            try (GateFixture.ReadyReader ready = world.readyReader()) {
                ready.readUntil(1, Duration.ofSeconds(10));

                assertThat(ready.of(fresh)).hasSize(1);
                assertThat(ready.of(fresh).get(0).timestamp() - createdAt).isLessThan(1000);
            }
        }
    }

    @Test
    void aGateWithoutAnyQueueWaitsForTheFirstAndOutlivesTheLast() {
        try (GateFixture world = new GateFixture()) {
            world.startGate();
            GateFixture.sleep(Duration.ofSeconds(1));

            QueueName first = world.createQueue("5/1s", 1);
            world.submit(first, 1);
            try (GateFixture.ReadyReader ready = world.readyReader()) {
                ready.readUntil(1, Duration.ofSeconds(10));
                assertThat(ready.of(first)).hasSize(1);

                world.registry.remove(first);
                world.provisioner.deleteQueueTopic(first);
                GateFixture.sleep(Duration.ofSeconds(1));
                QueueName second = world.createQueue("5/1s", 1);
                world.submit(second, 1);
                ready.readUntil(2, Duration.ofSeconds(10));
                assertThat(ready.of(second)).hasSize(1);
            }
        }
    }

    @Test
    void aQueueWrittenInTransactionsEndsWithNothingLeftToCommit() throws Exception {
        try (GateFixture world = new GateFixture();
             org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]> producer =
                     new org.apache.kafka.clients.producer.KafkaProducer<>(Map.of(
                             "bootstrap.servers", world.sluice.kafkaBootstrapServers(),
                             "transactional.id", "router-like-" + java.util.UUID.randomUUID()),
                             new org.apache.kafka.common.serialization.ByteArraySerializer(),
                             new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            QueueName queue = world.createQueue("50/1s", 1);
            producer.initTransactions();
            for (int t = 0; t < 3; t++) { // as the router writes: records, then a commit marker
                producer.beginTransaction();
                producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(world.topics.queue(queue),
                        GateFixture.utf8("task-" + t)));
                producer.commitTransaction();
            }
            world.startGate();
            try (GateFixture.ReadyReader ready = world.readyReader()) {
                ready.readUntil(3, Duration.ofSeconds(10));
            }
            TopicPartition partition = new TopicPartition(world.topics.queue(queue), 0);
            long end = world.admin.listOffsets(Map.of(partition, org.apache.kafka.clients.admin.OffsetSpec.latest()))
                    .partitionResult(partition).get().offset();

            // 3 records and 3 markers: the gate's offset reaches the end, not the last record + 1
            assertThat(end).isEqualTo(6);
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            long committed = -1;
            while (committed != end && System.nanoTime() < deadline) {
                var offset = world.admin.listConsumerGroupOffsets(world.topics.gateGroup())
                        .partitionsToOffsetAndMetadata().get().get(partition);
                committed = offset == null ? -1 : offset.offset();
                GateFixture.sleep(Duration.ofMillis(100));
            }
            assertThat(committed).isEqualTo(end);
        }
    }

    @Test
    void deactivateStopsReleasesAndActivateResumesThem() {
        try (GateFixture world = new GateFixture()) {
            QueueName queue = world.createQueue("20/1s", 1);
            world.startGate();
            world.submit(queue, 2);
            try (GateFixture.ReadyReader ready = world.readyReader()) {
                ready.readUntil(2, Duration.ofSeconds(10));

                world.registry.setState(queue, QueueState.INACTIVE);
                GateFixture.sleep(Duration.ofMillis(300));
                world.submit(queue, 5);
                ready.readFor(Duration.ofSeconds(2));
                assertThat(ready.of(queue)).hasSize(2);

                long activatedAt = System.currentTimeMillis();
                world.registry.setState(queue, QueueState.ACTIVE);
                ready.readUntil(7, Duration.ofSeconds(10));
                assertThat(ready.of(queue)).hasSize(7);
                assertThat(ready.of(queue).get(2).timestamp() - activatedAt).isLessThan(1000);
            }
        }
    }

    @Test
    void aRateUpdateShowsInTheNextReleases() {
        try (GateFixture world = new GateFixture()) {
            QueueName queue = world.createQueue("2/1s", 1);
            world.submit(queue, 30);
            world.startGate();
            try (GateFixture.ReadyReader ready = world.readyReader()) {
                ready.readUntil(3, Duration.ofSeconds(10));
                world.registry.updateRateLimit(queue, RateLimit.parse("20/1s"));
                ready.readUntil(30, Duration.ofSeconds(10));

                long[] times = timestamps(ready.of(queue));
                assertThat(times).hasSize(30);
                // on the guarded schedule (ADR 0005): one per 505 ms, then ten intervals of 50.5 ms
                assertThat(times[1] - times[0]).isEqualTo(505);
                assertThat(times[29] - times[19]).isEqualTo(505);
                assertThat(Windows.maxInAnyWindow(times, 1000)).isLessThanOrEqualTo(20);
            }
        }
    }

    @Test
    void aRemovedQueueIsDroppedAndTheOthersGoOn() {
        try (GateFixture world = new GateFixture()) {
            QueueName removed = world.createQueue("2/1s", 1);
            QueueName other = world.createQueue("2/1s", 1);
            world.submit(removed, 10);
            world.submit(other, 10);
            world.startGate();
            try (GateFixture.ReadyReader ready = world.readyReader()) {
                ready.readUntil(4, Duration.ofSeconds(10));
                world.registry.remove(removed);
                world.provisioner.deleteQueueTopic(removed);
                int releasedAtRemoval = ready.of(removed).size();
                ready.readFor(Duration.ofSeconds(3));

                List<ConsumerRecord<byte[], byte[]>> afterwards = ready.of(removed);
                assertThat(afterwards.size()).isLessThanOrEqualTo(releasedAtRemoval + 1);
                assertThat(ready.of(other).size()).isGreaterThanOrEqualTo(7);
            }
        }
    }
}
