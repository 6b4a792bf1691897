package dev.sluice.gate;

import static dev.sluice.gate.GateFixture.header;
import static dev.sluice.gate.GateFixture.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.QueueName;
import dev.sluice.core.RecordLimits;
import dev.sluice.core.TaskHeaders;
import dev.sluice.embedded.TopicReader;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * Records written straight to a queue topic, not through the router: the gate trusts nothing in them
 * that the system decides. The queue is the topic's, and the size limits hold there too.
 */
class GateUntrustedRecordsIT {

    @Test
    void aRecordClaimingAnotherQueueIsReleasedAsTheQueueOfItsTopic() throws Exception {
        try (GateFixture world = new GateFixture()) {
            QueueName written = world.createQueue("50/1s", 1);
            QueueName claimed = world.createQueue("50/1s", 1);
            try (KafkaProducer<byte[], byte[]> producer = producer(world)) {
                for (int i = 0; i < 3; i++) {
                    ProducerRecord<byte[], byte[]> forged = new ProducerRecord<>(world.topics.queue(written),
                            utf8("f" + i), utf8("{}"));
                    forged.headers().add(TaskHeaders.ID, utf8("forged-" + i));
                    forged.headers().add(TaskHeaders.QUEUE, utf8(claimed.value()));
                    forged.headers().add(TaskHeaders.QUEUE, utf8(claimed.value()));
                    producer.send(forged).get();
                }
            }

            world.startGate();
            try (GateFixture.ReadyReader ready = world.readyReader()) {
                List<ConsumerRecord<byte[], byte[]>> released = ready.readUntil(3, Duration.ofSeconds(30));

                assertThat(released).hasSize(3);
                assertThat(released).allSatisfy(record -> {
                    assertThat(header(record, TaskHeaders.QUEUE)).isEqualTo(written.value());
                    assertThat(record.headers().headers(TaskHeaders.QUEUE)).hasSize(1);
                });
                assertThat(ready.of(claimed)).isEmpty();
            }
        }
    }

    @Test
    void recordsOverThePayloadOrHeaderLimitAreDeadLetteredWithTheReasonAndTheQueueGoesOn() throws Exception {
        try (GateFixture world = new GateFixture()) {
            QueueName queue = world.createQueue("50/1s", 1);
            world.submit(queue, 2);
            try (KafkaProducer<byte[], byte[]> producer = producer(world)) {
                ProducerRecord<byte[], byte[]> bigPayload = new ProducerRecord<>(world.topics.queue(queue),
                        utf8("p"), new byte[2_000]);
                bigPayload.headers().add(TaskHeaders.ID, utf8("big-payload"));
                producer.send(bigPayload).get();
                ProducerRecord<byte[], byte[]> bigHeaders = new ProducerRecord<>(world.topics.queue(queue),
                        utf8("h"), utf8("{}"));
                bigHeaders.headers().add(TaskHeaders.ID, utf8("big-headers"));
                bigHeaders.headers().add("x-padding", new byte[2_000]);
                producer.send(bigHeaders).get();
            }
            world.submit(queue, 2);

            world.startGate(world.gateConfig().withLimits(new RecordLimits(1_000, 1_024)));
            try (GateFixture.ReadyReader ready = world.readyReader()) {
                assertThat(ready.readUntil(4, Duration.ofSeconds(30))).hasSize(4);
                assertThat(ready.readFor(Duration.ofMillis(500))).hasSize(4);
            }
            List<ConsumerRecord<byte[], byte[]>> dead = TopicReader.readCommitted(world.sluice.kafkaBootstrapServers(),
                    world.topics.dead(), 2, Duration.ofSeconds(10), Duration.ofMillis(300));
            assertThat(dead).hasSize(2);
            assertThat(dead).extracting(record -> header(record, TaskHeaders.ID)).containsExactly("big-payload", "big-headers");
            assertThat(header(dead.get(0), Forwarder.ERROR_HEADER))
                    .contains("payload of 2000 bytes").contains("SLUICE_MAX_PAYLOAD_BYTES");
            assertThat(header(dead.get(1), Forwarder.ERROR_HEADER)).contains("SLUICE_MAX_HEADER_BYTES");
            assertThat(dead.get(1).headers().lastHeader("x-padding")).isNull();
            assertThat(header(dead.get(1), TaskHeaders.QUEUE)).isEqualTo(queue.value());
        }
    }

    private static KafkaProducer<byte[], byte[]> producer(GateFixture world) {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, world.sluice.kafkaBootstrapServers()),
                new ByteArraySerializer(), new ByteArraySerializer());
    }
}
