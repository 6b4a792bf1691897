package dev.sluice.gate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.Queue;
import dev.sluice.core.QueueName;
import dev.sluice.core.QueueSpec;
import dev.sluice.core.QueueState;
import dev.sluice.core.RateLimit;
import dev.sluice.core.SluiceConfig;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.redis.Acquisition;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.LongStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The gate's loop when Kafka refuses a transaction's commit, on a {@link MockConsumer} and a
 * {@link MockProducer} with buckets and a registry of the test's own: the records of the aborted
 * transaction are fetched again and released once, in order, and records granted while the commit was
 * under way are not forwarded ahead of them: forwarded, they would commit their partition's offset past
 * the records fetched again (here t-4 and t-5 were released twice before the loop settled the failed
 * commit ahead of taking new grants).
 */
class GateLoopAbortTest {

    private static final QueueName QUEUE = QueueName.of("emails");
    private static final TopicPartition PARTITION = new TopicPartition("sluice.q.emails", 0);

    /** Once armed, holds the next commit of released records until told, then refuses it; the others go through. */
    private static final class RefusingProducer extends MockProducer<byte[], byte[]> {
        final CountDownLatch refusedCommitStarted = new CountDownLatch(1);
        final CountDownLatch refuse = new CountDownLatch(1);
        final AtomicBoolean armed = new AtomicBoolean();
        final java.util.concurrent.atomic.AtomicInteger aborts = new java.util.concurrent.atomic.AtomicInteger();

        RefusingProducer() {
            super(true, null, new ByteArraySerializer(), new ByteArraySerializer());
        }

        @Override
        public void commitTransaction() {
            boolean releases = uncommittedRecords().stream().anyMatch(r -> r.topic().equals("sluice.ready"));
            if (releases && armed.compareAndSet(true, false)) {
                refusedCommitStarted.countDown();
                try {
                    refuse.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw new KafkaException("the broker refused the commit");
            }
            super.commitTransaction();
        }

        @Override
        public void abortTransaction() {
            super.abortTransaction();
            aborts.incrementAndGet();
        }
    }

    /**
     * A MockConsumer over a log: a seek hands the records from there on again, as a broker does (the
     * mock alone forgets what it returned once).
     */
    private static final class LogConsumer extends MockConsumer<byte[], byte[]> {
        private final List<ConsumerRecord<byte[], byte[]>> log = new java.util.ArrayList<>();

        LogConsumer() {
            super("earliest");
        }

        synchronized void append(ConsumerRecord<byte[], byte[]> record) {
            log.add(record);
            addRecord(record);
        }

        @Override
        public synchronized void seek(TopicPartition partition, long offset) {
            super.seek(partition, offset);
            log.stream().filter(r -> r.offset() >= offset).forEach(this::addRecord);
        }
    }

    private final LogConsumer consumer = new LogConsumer();
    private final RefusingProducer producer = new RefusingProducer();
    private GateLoop loop;
    private Thread thread;

    @AfterEach
    void stop() throws InterruptedException {
        if (loop != null) {
            loop.stop();
            thread.join(10_000);
        }
    }

    private static ConsumerRecord<byte[], byte[]> task(long offset) {
        ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>(PARTITION.topic(), 0, offset,
                ("t-" + offset).getBytes(StandardCharsets.UTF_8), "{}".getBytes(StandardCharsets.UTF_8));
        record.headers().add(TaskHeaders.ID, ("t-" + offset).getBytes(StandardCharsets.UTF_8));
        return record;
    }

    /** Grants every token asked for, each at its own slot a lead ahead of the wall clock. */
    private static List<Acquisition> grantAll(List<dev.sluice.core.redis.TokenBucket.Request> requests, Duration horizon,
                                              Duration lead) {
        long now = System.currentTimeMillis() * 1_000;
        return requests.stream().map(request -> Acquisition.of(Acquisition.Outcome.OK, now,
                now + lead.toNanos() / 1_000 + request.max() * 1_000L, 5_000,
                LongStream.range(0, request.max()).map(i -> now + lead.toNanos() / 1_000 + i * 1_000).toArray())).toList();
    }

    @Test
    void anAbortedTransactionsRecordsAreReleasedOnceInOrderAndNothingGrantedMeanwhileOvertakesThem() throws Exception {
        Queue emails = new Queue(QUEUE, QueueSpec.of(RateLimit.parse("1000/1s")), QueueState.ACTIVE, Instant.now(), Instant.now());
        GateLoop.Registry registry = new GateLoop.Registry() {
            @Override
            public List<Queue> list() {
                return List.of(emails);
            }

            @Override
            public Optional<Queue> find(QueueName name) {
                return name.equals(QUEUE) ? Optional.of(emails) : Optional.empty();
            }
        };
        GateConfig config = GateConfig.of(SluiceConfig.defaults()).withInstanceId("abort-test");
        assertThat(config.sluice().topics().ready()).isEqualTo("sluice.ready");
        loop = new GateLoop(config, consumer, producer, GateLoopAbortTest::grantAll, registry, new GateMetrics());
        thread = new Thread(loop, "gate-loop-under-test");
        consumer.updateBeginningOffsets(Map.of(PARTITION, 0L));
        consumer.schedulePollTask(() -> {
            consumer.rebalance(List.of(PARTITION));
            consumer.append(task(0));
        });
        thread.start();
        // t-0 goes out and commits; right after it the loop has no other commit to wait for (the commit past
        // markers runs once a second)
        await().atMost(Duration.ofSeconds(10)).until(() -> released().contains("t-0"));
        producer.armed.set(true);
        consumer.schedulePollTask(() -> {
            for (long offset = 1; offset < 4; offset++) {
                consumer.append(task(offset));
            }
        });

        // the transaction of 1..3 is committing; meanwhile 4 and 5 arrive and are granted tokens
        assertThat(producer.refusedCommitStarted.await(10, TimeUnit.SECONDS)).isTrue();
        consumer.schedulePollTask(() -> {
            consumer.append(task(4));
            consumer.append(task(5));
        });
        Thread.sleep(300); // polled and granted, behind the commit
        producer.refuse.countDown();

        // the partition is sought back to 1, and the log hands 1..5 again
        await().atMost(Duration.ofSeconds(10)).until(() -> producer.aborts.get() == 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> released().size() >= 6);
        Thread.sleep(300); // anything more would come now

        assertThat(released()).containsExactly("t-0", "t-1", "t-2", "t-3", "t-4", "t-5");
        assertThat(producer.consumerGroupOffsetsHistory()).last()
                .satisfies(offsets -> assertThat(offsets.values().iterator().next()).containsEntry(PARTITION,
                        new org.apache.kafka.clients.consumer.OffsetAndMetadata(6)));
    }

    /** The keys of the records on sluice.ready in committed transactions, in order. */
    private List<String> released() {
        return producer.history().stream().filter(r -> r.topic().equals("sluice.ready"))
                .map(ProducerRecord::key).map(key -> new String(key, StandardCharsets.UTF_8)).toList();
    }
}
