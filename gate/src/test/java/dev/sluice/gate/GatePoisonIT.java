package dev.sluice.gate;

import static dev.sluice.gate.GateFixture.header;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.QueueName;
import dev.sluice.core.TaskHeaders;
import dev.sluice.embedded.TopicReader;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/** A record Kafka refuses goes to the dead-letter topic and stops nobody. */
class GatePoisonIT {

    @Test
    void aRecordTooLargeForTheReadyTopicIsDeadLetteredAndTheQueuesGoOn() throws Exception {
        try (GateFixture world = new GateFixture()) {
            ConfigResource ready = new ConfigResource(ConfigResource.Type.TOPIC, world.topics.ready());
            world.admin.incrementalAlterConfigs(Map.of(ready, List.of(new AlterConfigOp(
                    new ConfigEntry("max.message.bytes", "4096"), AlterConfigOp.OpType.SET))))
                    .all().get(30, TimeUnit.SECONDS);
            QueueName withPoison = world.createQueue("20/1s", 1);
            QueueName neighbour = world.createQueue("20/1s", 1);
            world.submit(withPoison, 3);
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, world.sluice.kafkaBootstrapServers()),
                    new ByteArraySerializer(), new ByteArraySerializer())) {
                ProducerRecord<byte[], byte[]> big = new ProducerRecord<>(world.topics.queue(withPoison),
                        GateFixture.utf8("big"), new byte[20_000]);
                big.headers().add(TaskHeaders.ID, GateFixture.utf8("big"));
                producer.send(big).get();
            }
            world.submit(withPoison, 3);
            world.submit(neighbour, 6);

            world.startGate();
            try (GateFixture.ReadyReader readyReader = world.readyReader()) {
                readyReader.readUntil(12, Duration.ofSeconds(30));

                assertThat(readyReader.of(withPoison)).hasSize(6);
                assertThat(readyReader.of(neighbour)).hasSize(6);
            }
            List<ConsumerRecord<byte[], byte[]>> dead = readAll(world, world.topics.dead(), 1);
            assertThat(dead).hasSize(1);
            assertThat(header(dead.get(0), TaskHeaders.ID)).isEqualTo("big");
            assertThat(header(dead.get(0), Forwarder.ERROR_HEADER)).contains("RecordTooLarge");
        }
    }

    private static List<ConsumerRecord<byte[], byte[]>> readAll(GateFixture world, String topic, int atLeast) {
        return TopicReader.readCommitted(world.sluice.kafkaBootstrapServers(), topic, atLeast, Duration.ofSeconds(10),
                Duration.ofMillis(300));
    }
}
