package dev.sluice.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/** The broker of sluice up: fixed port, and a restart on the same directory keeps topics and records. */
class LocalKafkaIT {

    @Test
    void aRestartOnTheSameDirectoryKeepsTopicsAndRecords() throws Exception {
        Path data = Files.createTempDirectory("sluice-localkafka");
        int port = RedisServerProcess.freePort();

        try (LocalKafka kafka = LocalKafka.start(port, data)) {
            assertThat(kafka.bootstrapServers()).isEqualTo("localhost:" + port);
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic("kept", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(
                    Map.of("bootstrap.servers", kafka.bootstrapServers()), new ByteArraySerializer(), new ByteArraySerializer())) {
                producer.send(new ProducerRecord<>("kept", "still here".getBytes())).get(30, TimeUnit.SECONDS);
            }
        }

        try (LocalKafka again = LocalKafka.start(port, data)) {
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", again.bootstrapServers()))) {
                Set<String> topics = admin.listTopics().names().get(30, TimeUnit.SECONDS);
                assertThat(topics).contains("kept");
            }
            List<ConsumerRecord<byte[], byte[]>> records =
                    TopicReader.readCommitted(again.bootstrapServers(), "kept", 1, Duration.ofSeconds(20));
            assertThat(records).extracting(r -> new String(r.value())).containsExactly("still here");
        }
    }
}
