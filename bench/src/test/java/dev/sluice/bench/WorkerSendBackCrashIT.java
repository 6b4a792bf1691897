package dev.sluice.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.QueueName;
import dev.sluice.core.SluiceConfig;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.kafka.TopicProvisioner;
import dev.sluice.embedded.SharedServers;
import dev.sluice.embedded.TopicReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * A worker killed with SIGKILL while it sends tasks back through their queue's limit (each reached it
 * past its latest start): every task is in its queue topic exactly once afterwards. A task sent back
 * and not yet committed as done was sent back a second time by the next owner of its partition: a
 * second release, over the limit (issue 13, "released twice must be 0").
 */
class WorkerSendBackCrashIT {

    private static final int TASKS = 20_000;

    @Test
    void aWorkerKilledWhileSendingTasksBackLeavesEachInItsQueueOnce() throws Exception {
        String prefix = "sendback" + UUID.randomUUID().toString().substring(0, 8);
        String bootstrap = SharedServers.kafkaBootstrapServers();
        Map<String, String> env = Map.of(SluiceConfig.ENV_KAFKA, bootstrap, SluiceConfig.ENV_REDIS,
                SharedServers.redisUri(), SluiceConfig.ENV_TOPIC_PREFIX, prefix, SluiceConfig.ENV_KEY_PREFIX, prefix,
                "SLUICE_WORKER_CONCURRENCY", "4");
        SluiceConfig sluice = SluiceConfig.fromEnvironment(env);
        QueueName queue = QueueName.generate();
        String queueTopic = sluice.topics().queue(queue);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            TopicProvisioner provisioner = new TopicProvisioner(admin, sluice.topics(), (short) 1);
            provisioner.ensureSharedTopics(8);
            provisioner.ensureQueueTopic(queue);
            produceLateTasks(bootstrap, sluice, queue);

            ChildJvm first = ChildJvm.start("worker-1", "dev.sluice.worker.WorkerMain", env, List.of("-Xmx256m"));
            try {
                first.awaitLine("Worker started", Duration.ofSeconds(60));
                // mid-stream: tasks are being sent back, thousands a second
                await().atMost(Duration.ofSeconds(120)).until(() -> endOffset(admin, queueTopic) >= TASKS / 4);
                first.kill();
            } finally {
                first.close();
            }
            long atKill = endOffset(admin, queueTopic);
            assertThat(atKill).as("killed before it sent everything back").isLessThan(TASKS);

            ChildJvm second = ChildJvm.start("worker-2", "dev.sluice.worker.WorkerMain", env, List.of("-Xmx256m"));
            try {
                second.awaitLine("Worker started", Duration.ofSeconds(60));
                await().atMost(Duration.ofSeconds(120)).until(() -> everythingCommitted(admin, sluice));
            } finally {
                second.close();
            }

            List<ConsumerRecord<byte[], byte[]>> sentBack = TopicReader.readCommitted(bootstrap, queueTopic, TASKS,
                    Duration.ofSeconds(60), Duration.ofSeconds(2));
            Map<String, Long> times = sentBack.stream().collect(Collectors.groupingBy(
                    r -> new String(r.headers().lastHeader(TaskHeaders.ID).value(), StandardCharsets.UTF_8),
                    Collectors.counting()));
            List<String> twice = times.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey)
                    .sorted().toList();
            assertThat(twice).as("tasks sent back twice (the kill came with %d of %d sent back)", atKill, TASKS)
                    .isEmpty();
            assertThat(times).as("every task sent back").hasSize(TASKS);
        }
    }

    /** Tasks whose latest start passed a minute ago: the worker sends each back for a new slot. */
    private static void produceLateTasks(String bootstrap, SluiceConfig sluice, QueueName queue) throws Exception {
        List<java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata>> sent = new java.util.ArrayList<>();
        long startMicros = (System.currentTimeMillis() - 60_000) * 1_000;
        // one request in flight: on a loaded machine a batch whose answer came too late was sent again
        // after five later ones had landed, and the broker, which remembers five, refused it for good
        // (OutOfOrderSequenceException, once in CI)
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.LINGER_MS_CONFIG, 20,
                ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < TASKS; i++) {
                String id = "t-" + i;
                ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(sluice.topics().ready(), i % 8,
                        utf8(id), utf8("{}"));
                record.headers().add(TaskHeaders.ID, utf8(id));
                record.headers().add(TaskHeaders.QUEUE, utf8(queue.value()));
                record.headers().add(TaskHeaders.ATTEMPT, utf8("0"));
                record.headers().add(TaskHeaders.START_AT, utf8(Long.toString(startMicros)));
                record.headers().add(TaskHeaders.START_BY, utf8(Long.toString(startMicros + 100_000)));
                sent.add(producer.send(record));
            }
            for (var each : sent) {
                each.get(120, TimeUnit.SECONDS); // the input is all there, or the test says so here
            }
        }
    }

    private static long endOffset(Admin admin, String topic) throws Exception {
        TopicPartition partition = new TopicPartition(topic, 0);
        return admin.listOffsets(Map.of(partition, OffsetSpec.latest())).partitionResult(partition)
                .get(10, TimeUnit.SECONDS).offset();
    }

    /** The worker group's commits reached the end of every partition of the ready topic. */
    private static boolean everythingCommitted(Admin admin, SluiceConfig sluice) throws Exception {
        Map<TopicPartition, OffsetSpec> ends = new HashMap<>();
        for (int p = 0; p < 8; p++) {
            ends.put(new TopicPartition(sluice.topics().ready(), p), OffsetSpec.latest());
        }
        var latest = admin.listOffsets(ends).all().get(10, TimeUnit.SECONDS);
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(sluice.topics().workerGroup())
                .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
        return latest.entrySet().stream().allMatch(e -> committed.get(e.getKey()) != null
                && committed.get(e.getKey()).offset() >= e.getValue().offset());
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
