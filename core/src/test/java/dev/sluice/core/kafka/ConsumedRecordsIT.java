package dev.sluice.core.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.QueueName;
import dev.sluice.core.Topics;
import dev.sluice.embedded.SharedServers;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/** The log is the queue: what the owning group committed is deleted, nothing else. */
class ConsumedRecordsIT {

    private static long earliest(Admin admin, TopicPartition partition) throws Exception {
        return admin.listOffsets(Map.of(partition, OffsetSpec.earliest())).partitionResult(partition)
                .get(30, TimeUnit.SECONDS).offset();
    }

    @Test
    void recordsBelowTheOwningGroupsCommittedOffsetAreDeletedAndDeadLettersAreKept() throws Exception {
        Topics topics = new Topics("c" + UUID.randomUUID().toString().substring(0, 8));
        QueueName queue = QueueName.generate();
        TopicPartition queueTopic = new TopicPartition(topics.queue(queue), 0);
        TopicPartition ready = new TopicPartition(topics.ready(), 0);
        TopicPartition dead = new TopicPartition(topics.dead(), 0);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                SharedServers.kafkaBootstrapServers()));
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                     ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedServers.kafkaBootstrapServers()),
                     new ByteArraySerializer(), new ByteArraySerializer())) {
            TopicProvisioner provisioner = new TopicProvisioner(admin, topics, (short) 1);
            provisioner.ensureSharedTopics(1);
            provisioner.ensureQueueTopic(queue);
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>(queueTopic.topic(), new byte[] {(byte) i})).get();
                producer.send(new ProducerRecord<>(ready.topic(), new byte[] {(byte) i})).get();
                producer.send(new ProducerRecord<>(dead.topic(), new byte[] {(byte) i})).get();
            }
            // the gate released six, the workers finished four, the statistics counted eight
            admin.alterConsumerGroupOffsets(topics.gateGroup(), Map.of(queueTopic, new OffsetAndMetadata(6)))
                    .all().get(30, TimeUnit.SECONDS);
            admin.alterConsumerGroupOffsets(topics.workerGroup(), Map.of(ready, new OffsetAndMetadata(4)))
                    .all().get(30, TimeUnit.SECONDS);
            admin.alterConsumerGroupOffsets(topics.statsGroup(), Map.of(ready, new OffsetAndMetadata(8)))
                    .all().get(30, TimeUnit.SECONDS);
            ConsumedRecords consumed = new ConsumedRecords(admin, topics);

            int first = consumed.deleteConsumed();
            int second = consumed.deleteConsumed();

            assertThat(earliest(admin, queueTopic)).isEqualTo(6);
            assertThat(earliest(admin, ready)).isEqualTo(4);
            assertThat(earliest(admin, dead)).isZero();
            assertThat(first).isEqualTo(2);
            assertThat(second).isZero(); // nothing moved since: nothing asked

            // the workers are done with all ten: the statistics, with eight, hold the last two
            admin.alterConsumerGroupOffsets(topics.workerGroup(), Map.of(ready, new OffsetAndMetadata(10)))
                    .all().get(30, TimeUnit.SECONDS);
            assertThat(consumed.deleteConsumed()).isEqualTo(1);
            assertThat(earliest(admin, ready)).isEqualTo(8);
            admin.alterConsumerGroupOffsets(topics.statsGroup(), Map.of(ready, new OffsetAndMetadata(10)))
                    .all().get(30, TimeUnit.SECONDS);
            assertThat(consumed.deleteConsumed()).isEqualTo(1);
            assertThat(earliest(admin, ready)).isEqualTo(10);
        }
    }
}
