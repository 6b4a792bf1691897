package dev.sluice.worker;

import dev.sluice.core.DelayTiers;
import dev.sluice.core.QueueName;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves retries out of the delay-tier topics when their time has come: back into their queue topic
 * (where they pass the queue's limit again), or into the next tier when their not-before time is
 * still ahead. Every record of a tier waits the same time, so only the head of each tier can be due:
 * a tier whose head is not due is paused until it is, and costs nothing meanwhile. Moves are Kafka
 * transactions with the consumed offsets: a retry is never lost nor doubled by a crash here.
 */
final class DelayForwarder implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(DelayForwarder.class);
    private static final long MAX_SLEEP_MILLIS = 1_000;

    private final Topics topics;
    private final Consumer<byte[], byte[]> consumer;
    private final Producer<byte[], byte[]> producer;
    private final Map<String, Duration> tierOfTopic = new HashMap<>();
    /** Paused tiers and when their head record is due (epoch millis). */
    private final Map<TopicPartition, Long> dueAt = new HashMap<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    /** Which queue topics exist: a retry of a removed queue goes to the dead letters. */
    private final KnownTopics known;

    DelayForwarder(Topics topics, Consumer<byte[], byte[]> consumer, Producer<byte[], byte[]> producer) {
        this.topics = topics;
        this.consumer = consumer;
        this.producer = producer;
        this.known = new KnownTopics(consumer);
        for (Duration tier : DelayTiers.TIERS) {
            tierOfTopic.put(topics.delay(tier), tier);
        }
    }

    void stop() {
        running.set(false);
        consumer.wakeup();
    }

    @Override
    public void run() {
        producer.initTransactions();
        consumer.subscribe(List.copyOf(tierOfTopic.keySet()), new Rebalance());
        while (running.get()) {
            try {
                resumeDue();
                forward(consumer.poll(Duration.ofMillis(sleepMillis())));
            } catch (WakeupException woken) {
                // stop() was called
            } catch (ProducerFencedException fenced) {
                LOG.error("Another delay forwarder with this id took over; stopping: {}", fenced.getMessage());
                return;
            }
        }
    }

    private long sleepMillis() {
        long now = System.currentTimeMillis();
        long sleep = MAX_SLEEP_MILLIS;
        for (long due : dueAt.values()) {
            sleep = Math.min(sleep, Math.max(0, due - now));
        }
        return sleep;
    }

    private void resumeDue() {
        long now = System.currentTimeMillis();
        List<TopicPartition> due = dueAt.entrySet().stream().filter(e -> e.getValue() <= now)
                .map(Map.Entry::getKey).toList();
        if (!due.isEmpty()) {
            due.forEach(dueAt::remove);
            consumer.resume(due);
        }
    }

    private void forward(ConsumerRecords<byte[], byte[]> records) {
        if (records.isEmpty()) {
            return;
        }
        long now = System.currentTimeMillis();
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        Map<TopicPartition, Long> rewind = new HashMap<>();
        try {
            producer.beginTransaction();
            for (TopicPartition partition : records.partitions()) {
                Duration tier = tierOfTopic.get(partition.topic());
                for (ConsumerRecord<byte[], byte[]> record : records.records(partition)) {
                    long due = record.timestamp() + tier.toMillis();
                    if (due > now) {
                        // the head is not due, so nothing behind it is: wait here, fetch it again then
                        rewind.put(partition, record.offset());
                        dueAt.put(partition, due);
                        break;
                    }
                    producer.send(onward(record, now));
                    offsets.put(partition, new OffsetAndMetadata(record.offset() + 1));
                }
            }
            if (!offsets.isEmpty()) {
                producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
            }
            producer.commitTransaction();
        } catch (ProducerFencedException e) {
            throw e;
        } catch (KafkaException e) {
            LOG.warn("Moving retries failed; they are read again: {}", e.toString());
            try {
                producer.abortTransaction();
            } catch (KafkaException ignored) {
                // nothing more to do: the records are read again from the committed offsets
            }
            for (TopicPartition partition : records.partitions()) {
                rewind.put(partition, records.records(partition).get(0).offset());
            }
            dueAt.keySet().removeAll(records.partitions());
        }
        rewind.forEach(consumer::seek);
        if (!dueAt.isEmpty()) {
            consumer.pause(dueAt.keySet());
        }
    }

    /** The queue topic when the retry's not-before time has come, else the tier for what remains. */
    private ProducerRecord<byte[], byte[]> onward(ConsumerRecord<byte[], byte[]> record, long now) {
        Headers headers = new RecordHeaders(record.headers().toArray());
        long notBefore = parseLong(header(headers, TaskOutcomes.NOT_BEFORE_HEADER), 0);
        String topic;
        if (notBefore > now) {
            topic = topics.delay(DelayTiers.tierFor(Duration.ofMillis(notBefore - now)));
        } else {
            headers.remove(TaskOutcomes.NOT_BEFORE_HEADER);
            String queue = header(headers, TaskHeaders.QUEUE);
            try {
                topic = topics.queue(QueueName.of(queue == null ? "" : queue));
                if (!known.exists(topic)) {
                    // removed while the retry waited: sent there, it waited a minute for the topic's metadata,
                    // failed the whole move, and held up every other tier's retries, again and again
                    headers.remove(TaskOutcomes.ERROR_HEADER);
                    headers.add(TaskOutcomes.ERROR_HEADER, ("queue " + queue + " was removed before this retry was due")
                            .getBytes(StandardCharsets.UTF_8));
                    topic = topics.dead();
                }
            } catch (IllegalArgumentException malformed) {
                headers.add(TaskOutcomes.ERROR_HEADER, ("retry without a valid queue: " + malformed.getMessage())
                        .getBytes(StandardCharsets.UTF_8));
                topic = topics.dead();
            }
        }
        return new ProducerRecord<>(topic, null, record.key(), record.value(), headers);
    }

    private static String header(Headers headers, String name) {
        Header header = headers.lastHeader(name);
        return header == null || header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static long parseLong(String text, long fallback) {
        try {
            return text == null ? fallback : Long.parseLong(text.strip());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            dueAt.keySet().removeAll(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            // a tier paused by a previous owner starts fresh: its head is looked at again
        }
    }
}
