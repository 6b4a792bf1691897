package dev.sluice.worker;

import dev.sluice.core.QueueName;
import dev.sluice.core.SluiceConfig;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.Topics;
import dev.sluice.core.kafka.TopicProvisioner;
import dev.sluice.embedded.SharedServers;
import dev.sluice.embedded.TopicReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * One test's world on the shared broker: its own topic prefix with a one-partition ready topic, tasks
 * written to it as the gate would release them, and readers of what the worker committed and wrote.
 */
final class WorkerFixture implements AutoCloseable {

    final SluiceConfig sluice;
    final Topics topics;
    final Admin admin;
    final QueueName queue = QueueName.generate();
    private final KafkaProducer<byte[], byte[]> producer;
    private final List<Worker> workers = new ArrayList<>();

    WorkerFixture() {
        this(1);
    }

    WorkerFixture(int readyPartitions) {
        String prefix = "w" + UUID.randomUUID().toString().substring(0, 8);
        sluice = SluiceConfig.fromEnvironment(Map.of(
                SluiceConfig.ENV_KAFKA, SharedServers.kafkaBootstrapServers(),
                SluiceConfig.ENV_REDIS, SharedServers.redisUri(),
                SluiceConfig.ENV_TOPIC_PREFIX, prefix,
                SluiceConfig.ENV_KEY_PREFIX, prefix));
        topics = sluice.topics();
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, sluice.kafkaBootstrapServers()));
        TopicProvisioner provisioner = new TopicProvisioner(admin, topics, (short) 1);
        provisioner.ensureSharedTopics(readyPartitions);
        provisioner.ensureQueueTopic(queue);
        producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, sluice.kafkaBootstrapServers()),
                new ByteArraySerializer(), new ByteArraySerializer());
    }

    WorkerConfig config(int concurrency) {
        return WorkerConfig.of(sluice).withConcurrency(concurrency).withHandler("test");
    }

    Worker start(WorkerConfig config, dev.sluice.worker.api.TaskHandler handler) {
        Worker worker = Worker.start(config, List.of(handler));
        workers.add(worker);
        return worker;
    }

    /** A worker whose share consumers have these Kafka settings over their own. */
    Worker start(WorkerConfig config, dev.sluice.worker.api.TaskHandler handler, Map<String, Object> shareConsumerSettings) {
        Worker worker = Worker.startWithShareConsumerSettings(config, List.of(handler), shareConsumerSettings);
        workers.add(worker);
        return worker;
    }

    /** Writes {@code count} released tasks {@code t-0 … t-(count-1)} to the ready topic, in order. */
    void release(int count) throws Exception {
        release(count, Map.of());
    }

    /** Writes released tasks with these ids to the ready topic, in order. */
    void release(String... ids) throws Exception {
        for (String id : ids) {
            ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topics.ready(), 0, null, utf8(id), utf8("{}"));
            record.headers().add(TaskHeaders.ID, utf8(id));
            record.headers().add(TaskHeaders.QUEUE, utf8(queue.value()));
            record.headers().add(TaskHeaders.ATTEMPT, utf8("0"));
            producer.send(record);
        }
        producer.flush();
    }

    /** Writes a released task with this id to one partition of the ready topic. */
    void releaseTo(int partition, String id) throws Exception {
        ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topics.ready(), partition, null, utf8(id), utf8("{}"));
        record.headers().add(TaskHeaders.ID, utf8(id));
        record.headers().add(TaskHeaders.QUEUE, utf8(queue.value()));
        record.headers().add(TaskHeaders.ATTEMPT, utf8("0"));
        producer.send(record).get();
    }

    /** As {@link #release(int)}, each task carrying these extra headers. */
    void release(int count, Map<String, String> extraHeaders) throws Exception {
        for (int i = 0; i < count; i++) {
            ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topics.ready(), 0, null,
                    utf8("t-" + i), utf8("{\"n\":" + i + "}"));
            record.headers().add(TaskHeaders.ID, utf8("t-" + i));
            record.headers().add(TaskHeaders.QUEUE, utf8(queue.value()));
            record.headers().add(TaskHeaders.ATTEMPT, utf8("0"));
            extraHeaders.forEach((name, value) -> record.headers().add(name, utf8(value)));
            producer.send(record);
        }
        producer.flush();
    }

    /**
     * Writes released tasks {@code t-0 …} as the gate does: task i to start at {@code startMicros[i]} on
     * Redis's clock and no later than {@code toleranceMicros} after.
     */
    void releaseAt(long toleranceMicros, long... startMicros) throws Exception {
        for (int i = 0; i < startMicros.length; i++) {
            ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topics.ready(), 0, null,
                    utf8("t-" + i), utf8("{\"n\":" + i + "}"));
            record.headers().add(TaskHeaders.ID, utf8("t-" + i));
            record.headers().add(TaskHeaders.QUEUE, utf8(queue.value()));
            record.headers().add(TaskHeaders.ATTEMPT, utf8("1"));
            record.headers().add(TaskHeaders.RELEASED_AT, utf8(Long.toString(startMicros[i] / 1000)));
            record.headers().add(TaskHeaders.START_AT, utf8(Long.toString(startMicros[i])));
            record.headers().add(TaskHeaders.START_BY, utf8(Long.toString(startMicros[i] + toleranceMicros)));
            producer.send(record);
        }
        producer.flush();
    }

    /** Writes a record that is no task (no {@code sluice-queue} header) to the ready topic. */
    void releaseWithoutQueue(String id) throws Exception {
        ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topics.ready(), 0, null, utf8(id), utf8("{}"));
        record.headers().add(TaskHeaders.ID, utf8(id));
        producer.send(record);
        producer.flush();
    }

    /** The worker group's committed position on the ready topic, -1 if none. */
    long committed() throws Exception {
        Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(
                Worker.group(config(1))).partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
        OffsetAndMetadata offset = offsets.get(new TopicPartition(topics.ready(), 0));
        return offset == null ? -1 : offset.offset();
    }

    /** Everything on a topic (read committed), waiting up to the timeout for {@code atLeast} records. */
    List<ConsumerRecord<byte[], byte[]>> read(String topic, int atLeast, Duration timeout) {
        return TopicReader.readCommitted(sluice.kafkaBootstrapServers(), topic, atLeast, timeout);
    }

    /** The events of this fixture's queue, read committed from every partition, until their counts reach a total. */
    List<dev.sluice.core.TaskEvent> events(int totalCount, Duration timeout) {
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, sluice.kafkaBootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topics.events(), Duration.ofSeconds(10)).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            List<dev.sluice.core.TaskEvent> events = new ArrayList<>();
            long deadline = System.nanoTime() + timeout.toNanos();
            while (events.stream().mapToInt(dev.sluice.core.TaskEvent::count).sum() < totalCount
                    && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
                    if (queue.value().equals(new String(record.key(), StandardCharsets.UTF_8))) {
                        events.add(dev.sluice.core.TaskEvent.fromJson(record.value()));
                    }
                }
            }
            return events;
        }
    }

    /** A handler named "test" doing what the function says. */
    static dev.sluice.worker.api.TaskHandler handler(
            java.util.function.Function<dev.sluice.worker.api.Task, dev.sluice.worker.api.TaskResult> body) {
        return new dev.sluice.worker.api.TaskHandler() {
            @Override
            public String name() {
                return "test";
            }

            @Override
            public dev.sluice.worker.api.TaskResult handle(dev.sluice.worker.api.Task task) {
                return body.apply(task);
            }
        };
    }

    static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        var header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        for (Worker worker : workers) {
            try {
                worker.close();
            } catch (RuntimeException alreadyStopped) {
                // halted by the test
            }
        }
        producer.close();
        admin.close();
    }
}
