package dev.sluice.admin;

import dev.sluice.core.QueueName;
import dev.sluice.core.SluiceConfig;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.redis.DeadLetterIndex;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Requires;
import jakarta.annotation.PreDestroy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the dead-letter topic as it grows and lists each record under its queue in
 * {@link DeadLetterIndex}; where it got to is kept in Redis too, so a restart goes on from there (and a
 * Redis that lost its data is indexed again from the topic's start). Records of queues that no longer
 * exist are skipped. Several admin services may run it at once: indexing is idempotent, and an offset
 * replayed or purged is never listed again.
 */
@Context
@Requires(property = "sluice.dead-letters.indexer.enabled", notEquals = "false")
final class DeadLetterIndexer implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterIndexer.class);
    private static final Duration POLL = Duration.ofMillis(500);

    private final SluiceConfig config;
    private final DeadLetterIndex index;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile KafkaConsumer<byte[], byte[]> consumer;

    /** @param topics asked for so that the shared topics are made, the dead-letter topic among them, first */
    DeadLetterIndexer(SluiceConfig config, DeadLetterIndex index, dev.sluice.core.kafka.TopicProvisioner topics) {
        this.config = config;
        this.index = index;
        this.thread = new Thread(this, "dead-letter-indexer");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void run() {
        TopicPartition partition = new TopicPartition(config.topics().dead(), 0);
        long failures = 0;
        while (running) {
            try (KafkaConsumer<byte[], byte[]> reader = newConsumer()) {
                consumer = reader;
                reader.assign(List.of(partition));
                // from where the index got to; from the start when Redis has no record of it
                index.indexedUpTo(0).ifPresentOrElse(next -> reader.seek(partition, next),
                        () -> reader.seekToBeginning(List.of(partition)));
                while (running) {
                    var records = reader.poll(POLL);
                    if (!records.isEmpty()) {
                        indexAll(records.records(partition));
                    }
                    long next = reader.position(partition);
                    index.indexedUpTo(0, next);
                    failures = 0;
                }
            } catch (org.apache.kafka.common.errors.WakeupException | org.apache.kafka.common.errors.InterruptException stopping) {
                return;
            } catch (RuntimeException e) {
                // Redis or Kafka away: start again from what Redis recorded, after a pause
                if (failures++ % 60 == 0) {
                    LOG.warn("Indexing the dead letters paused: {}; trying again every second", e.toString());
                }
                sleep(Duration.ofSeconds(1));
            }
        }
    }

    /** Lists each record under the queue its header names; one Redis call per queue in the batch. */
    private void indexAll(List<ConsumerRecord<byte[], byte[]>> records) {
        Map<QueueName, List<Long>> byQueue = new LinkedHashMap<>();
        for (ConsumerRecord<byte[], byte[]> record : records) {
            Header header = record.headers().lastHeader(TaskHeaders.QUEUE);
            if (header == null || header.value() == null) {
                continue;
            }
            try {
                QueueName queue = QueueName.of(new String(header.value(), StandardCharsets.UTF_8));
                byQueue.computeIfAbsent(queue, ignored -> new ArrayList<>()).add(record.offset());
            } catch (IllegalArgumentException notAQueue) {
                // a dead letter of a malformed task: it has no queue to list it under
            }
        }
        index.indexAll(byQueue);
    }

    private KafkaConsumer<byte[], byte[]> newConsumer() {
        Map<String, Object> properties = config.kafkaProperties();
        properties.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        properties.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        properties.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        properties.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2_000);
        properties.put(ConsumerConfig.CLIENT_ID_CONFIG, "sluice-dead-letter-indexer");
        return new KafkaConsumer<>(properties, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private void sleep(Duration pause) {
        try {
            Thread.sleep(pause.toMillis());
        } catch (InterruptedException e) {
            running = false;
        }
    }

    @PreDestroy
    void close() throws InterruptedException {
        running = false;
        KafkaConsumer<byte[], byte[]> current = consumer;
        if (current != null) {
            current.wakeup();
        }
        thread.join(5_000); // not interrupted: an interrupted consumer cannot close cleanly
    }
}
