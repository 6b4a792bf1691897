package dev.sluice.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.SluiceConfig;
import dev.sluice.core.kafka.TopicProvisioner;
import dev.sluice.embedded.SharedServers;
import dev.sluice.embedded.TopicReader;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.junit.jupiter.api.Test;

/** Every input partition has a committed offset before a Streams application of Sluice's starts. */
class SourceOffsetsIT {

    private final Map<String, Object> kafka = Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
            SharedServers.kafkaBootstrapServers());

    @Test
    void aNewGroupStartsEveryPartitionAtItsEarliestRecordAndAnExpiredOffsetMovesToTheLogStart() throws Exception {
        String topic = "offsets-" + UUID.randomUUID();
        String group = "group-" + UUID.randomUUID();
        try (Admin admin = Admin.create(kafka)) {
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get();
            produce(topic, 0, 5);
            produce(topic, 1, 4);
            admin.deleteRecords(Map.of(new TopicPartition(topic, 1), RecordsToDelete.beforeOffset(2))).all().get();

            Map<TopicPartition, Long> seeded = SourceOffsets.seed(admin, group, List.of(topic));

            assertThat(seeded).isEqualTo(Map.of(new TopicPartition(topic, 0), 0L,
                    new TopicPartition(topic, 1), 2L, new TopicPartition(topic, 2), 0L));
            assertThat(committed(admin, group)).isEqualTo(seeded);
            assertThat(SourceOffsets.seed(admin, group, List.of(topic))).as("a second start changes nothing").isEmpty();

            // the group processed partition 0 up to 3; then partition 0's records up to 4 expire unprocessed
            admin.alterConsumerGroupOffsets(group, Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(3)))
                    .all().get();
            admin.deleteRecords(Map.of(new TopicPartition(topic, 0), RecordsToDelete.beforeOffset(4))).all().get();
            assertThat(SourceOffsets.seed(admin, group, List.of(topic))).isEqualTo(Map.of(new TopicPartition(topic, 0), 4L));
            assertThat(committed(admin, group).get(new TopicPartition(topic, 1))).as("left as it was").isEqualTo(2L);
        }
    }

    @Test
    void aGroupWithMembersIsLeftAsItIs() throws Exception {
        String topic = "offsets-" + UUID.randomUUID();
        String group = "group-" + UUID.randomUUID();
        try (Admin admin = Admin.create(kafka);
             KafkaConsumer<byte[], byte[]> member = new KafkaConsumer<>(Map.of(
                     ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedServers.kafkaBootstrapServers(),
                     ConsumerConfig.GROUP_ID_CONFIG, group,
                     ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                     ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
                     new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
            member.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (member.assignment().size() < 2 && System.nanoTime() < deadline) {
                member.poll(Duration.ofMillis(100));
            }
            assertThat(member.assignment()).hasSize(2);

            assertThat(SourceOffsets.seed(admin, group, List.of(topic))).isEmpty();
            assertThat(committed(admin, group)).isEmpty();
        }
    }

    @Test
    void withoutACommittedOffsetTheRouterRoutesNothingRatherThanStartThePartitionOver() throws Exception {
        String prefix = "o" + UUID.randomUUID().toString().substring(0, 8);
        SluiceConfig config = SluiceConfig.fromEnvironment(Map.of(
                SluiceConfig.ENV_KAFKA, SharedServers.kafkaBootstrapServers(), SluiceConfig.ENV_REDIS, SharedServers.redisUri(),
                SluiceConfig.ENV_TOPIC_PREFIX, prefix, SluiceConfig.ENV_KEY_PREFIX, prefix));
        TopicProvisioner.ensureSharedTopics(config, 1);
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        try (TaskSubmitter submitter = TaskSubmitter.unchecked(config);
             RegistryQueueDirectory directory = new RegistryQueueDirectory(config)) {
            submitter.submit("no-such-queue", "a", new byte[] {1});
            submitter.flush();
            // the router's own topology and settings, started without SourceOffsets.seed
            KafkaStreams streams = new KafkaStreams(RouterTopology.build(config.topics(), directory, 1024),
                    Router.properties(config));
            streams.setUncaughtExceptionHandler(error -> {
                failures.add(error);
                return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
            });
            streams.start();
            try {
                await().atMost(Duration.ofSeconds(60)).until(() -> !failures.isEmpty());
            } finally {
                streams.close(Duration.ofSeconds(20));
            }
        }
        assertThat(failures.get(0)).hasMessageContaining("No valid committed offset found for input")
                .hasMessageContaining(config.topics().tasks());
        assertThat(TopicReader.readCommitted(SharedServers.kafkaBootstrapServers(), config.topics().rejected(), 0,
                Duration.ofSeconds(5), Duration.ofSeconds(1))).as("nothing routed or rejected").isEmpty();
    }

    private void produce(String topic, int partition, int records) {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedServers.kafkaBootstrapServers()),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < records; i++) {
                producer.send(new ProducerRecord<>(topic, partition, null, new byte[] {(byte) i}));
            }
        }
    }

    private static Map<TopicPartition, Long> committed(Admin admin, String group) throws Exception {
        Map<TopicPartition, Long> offsets = new java.util.HashMap<>();
        admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get()
                .forEach((partition, offset) -> {
                    if (offset != null) {
                        offsets.put(partition, offset.offset());
                    }
                });
        return offsets;
    }
}
