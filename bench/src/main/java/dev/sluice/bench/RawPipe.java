package dev.sluice.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The gate benchmark's baseline (a): a bare transactional consume-and-produce copy, read committed,
 * one transaction per poll with the consumed offsets, the consumer and producer settings the gate
 * uses. Run as its own process, as the gate is. Prints {@code records/s <rate>}, timed after the
 * warm-up.
 *
 * <p>Arguments: bootstrap servers, group and transactional id prefix, a file listing the topics, output topic,
 * records to copy, warm-up records.
 */
public final class RawPipe {

    private RawPipe() {
    }

    public static void main(String[] args) {
        String bootstrap = args[0];
        String prefix = args[1];
        List<String> topics;
        try {
            topics = Files.readAllLines(Path.of(args[2]));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String out = args[3];
        int total = Integer.parseInt(args[4]);
        int warmUp = Integer.parseInt(args[5]);
        Map<String, Object> consumerProps = new HashMap<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, prefix + "-pipe",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000,
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 100));
        Map<String, Object> producerProps = Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, prefix + "-pipe",
                ProducerConfig.LINGER_MS_CONFIG, 5,
                ProducerConfig.BATCH_SIZE_CONFIG, 128 * 1024,
                ProducerConfig.RETRY_BACKOFF_MS_CONFIG, 5);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProps,
                new ByteArrayDeserializer(), new ByteArrayDeserializer());
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps,
                     new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.initTransactions();
            consumer.subscribe(topics);
            int copied = 0;
            int timedFrom = 0;
            long first = 0;
            long last = 0;
            long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
            while (copied < total && System.nanoTime() < deadline) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(100));
                if (records.isEmpty()) {
                    continue;
                }
                producer.beginTransaction();
                Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
                for (ConsumerRecord<byte[], byte[]> record : records) {
                    producer.send(new ProducerRecord<>(out, null, record.key(), record.value(), record.headers()));
                    offsets.put(new TopicPartition(record.topic(), record.partition()),
                            new OffsetAndMetadata(record.offset() + 1));
                }
                producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
                producer.commitTransaction();
                copied += records.count();
                if (first == 0 && copied >= warmUp) {
                    first = System.nanoTime();
                    timedFrom = copied;
                }
                last = System.nanoTime();
            }
            if (copied < total) {
                System.out.println("copied only " + copied + " of " + total + " records in 5 minutes");
                System.exit(1);
            }
            System.out.printf(Locale.ROOT, "records/s %.1f%n", (copied - timedFrom) * 1e9 / (last - first));
        }
    }
}
