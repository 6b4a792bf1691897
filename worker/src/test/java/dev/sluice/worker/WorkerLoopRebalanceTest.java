package dev.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.SluiceConfig;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.redis.RedisClock;
import dev.sluice.worker.api.TaskHandler;
import dev.sluice.worker.api.TaskResult;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

/**
 * The worker's loop through a rebalance, on a {@link MockConsumer}: the group moves partitions at
 * moments an integration test cannot aim at.
 */
class WorkerLoopRebalanceTest {

    private final SluiceConfig sluice = SluiceConfig.defaults();
    private final TopicPartition ready = new TopicPartition(sluice.topics().ready(), 0);
    private final MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest");
    private final MockProducer<byte[], byte[]> producer = new MockProducer<>(true, null, new ByteArraySerializer(),
            new ByteArraySerializer());
    /** Never connected: the clock is read by hand, with Redis's clock taken to be this host's. */
    private final RedisClock clock = new RedisClock(RedisClient.create(URI.create("redis://127.0.0.1:1")));
    /** Retries and tasks sent back, written in transactions of their own producer. */
    private final MockProducer<byte[], byte[]> writeBackProducer = new MockProducer<>(true, null,
            new ByteArraySerializer(), new ByteArraySerializer());
    private final HandlerThreads slots = new HandlerThreads(4, Thread::new);
    private WorkerLoop loop;
    private Thread loopThread;
    private volatile Throwable loopFailure;

    @AfterEach
    void stop() throws InterruptedException {
        if (loop != null) {
            loop.stop();
            loopThread.join(10_000);
        }
        slots.shutdownNow();
    }

    @Test
    void aTaskWaitingForItsSlotWhenItsPartitionMovesAwayIsLeftToTheNextOwnerAndRunsOnce() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        start(handler(task -> {
            runs.incrementAndGet();
            return TaskResult.success();
        }));
        loop.handOverAhead(Duration.ofSeconds(1)); // a second in its slot thread: time to move the partition
        long slot = nowMicros() + 2_000_000;
        ConsumerRecord<byte[], byte[]> task = task(slot, slot + 200_000);
        consumer.updateBeginningOffsets(Map.of(ready, 0L));
        consumer.schedulePollTask(() -> {
            consumer.rebalance(List.of(ready));
            consumer.addRecord(task);
        });

        // the task is handed to a slot thread ahead of its slot (20 ms in production, a second here): then
        // the partition goes and comes back (revoked, assigned again, to this worker or another), and its
        // next owner reads it again from the committed offset
        sleepUntil(slot - 1_000_000);
        long deadline = System.nanoTime() + 900_000_000L;
        while (loop.waitingInSlots() == 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait(); // until the task is in its slot thread (20 ms before its slot)
        }
        assertThat(loop.waitingInSlots()).as("the task waits in its slot thread").isEqualTo(1);
        consumer.schedulePollTask(() -> {
            consumer.rebalance(List.of());
            consumer.rebalance(List.of(ready));
            consumer.seek(ready, 0);
            consumer.addRecord(task);
        });

        await().atMost(Duration.ofSeconds(10)).until(() -> runs.get() >= 1 || loopFailure != null);
        assertThat(loopFailure).isNull();
        Thread.sleep(500); // a second run would start at the same slot, at once
        assertThat(runs.get()).as("runs of the one task").isEqualTo(1);
    }

    @Test
    void aTaskThatEndsAfterItsPartitionMovedAndCameBackDoesNotCountForItsNewRun() throws Exception {
        java.util.concurrent.CountDownLatch firstStarted = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch endFirst = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch secondStarted = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch endSecond = new java.util.concurrent.CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        start(handler(task -> {
            boolean first = runs.incrementAndGet() == 1;
            (first ? firstStarted : secondStarted).countDown();
            awaitQuietly(first ? endFirst : endSecond);
            return TaskResult.success();
        }));
        ConsumerRecord<byte[], byte[]> task = new ConsumerRecord<>(ready.topic(), ready.partition(), 0, utf8("t-0"),
                utf8("{}"));
        task.headers().add(TaskHeaders.ID, utf8("t-0"));
        task.headers().add(TaskHeaders.QUEUE, utf8("batch_rebalance"));
        task.headers().add(TaskHeaders.ATTEMPT, utf8("0"));
        consumer.updateBeginningOffsets(Map.of(ready, 0L));
        consumer.schedulePollTask(() -> {
            consumer.rebalance(List.of(ready));
            consumer.addRecord(task);
        });
        assertThat(firstStarted.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();

        // the partition goes and comes back while the task runs: its next owner runs it again
        consumer.schedulePollTask(() -> {
            consumer.rebalance(List.of());
            consumer.rebalance(List.of(ready));
            consumer.seek(ready, 0);
            consumer.addRecord(task);
        });
        assertThat(secondStarted.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        endFirst.countDown(); // the first run ends now: its end is not the second run's
        Thread.sleep(500);

        assertThat(loopFailure).isNull();
        assertThat(committedOffset()).as("committed while the second run runs").isLessThanOrEqualTo(0);
        endSecond.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> committedOffset() == 1 || loopFailure != null);
        assertThat(loopFailure).isNull();
    }

    private long committedOffset() {
        java.util.concurrent.CompletableFuture<Long> offset = new java.util.concurrent.CompletableFuture<>();
        consumer.schedulePollTask(() -> {
            var committed = consumer.committed(java.util.Set.of(ready)).get(ready);
            offset.complete(committed == null ? -1 : committed.offset());
        });
        try {
            return offset.get(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void awaitQuietly(java.util.concurrent.CountDownLatch latch) {
        try {
            latch.await(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void start(TaskHandler handler) {
        long before = System.nanoTime();
        long redisMicros = System.currentTimeMillis() * 1_000;
        clock.observe(redisMicros, before, System.nanoTime());
        WorkerConfig config = WorkerConfig.of(sluice).withConcurrency(4).withHandler(handler.name());
        loop = new WorkerLoop(config, consumer, Map.of(handler.name(), handler),
                new TaskOutcomes(producer, sluice.topics(), config.maxAttempts(), new EventBatcher(producer, sluice.topics())),
                new WriteBacks(() -> writeBackProducer, topic -> true, topic -> false, sluice.topics().dead()),
                slots, new WorkerMetrics(), clock);
        loopThread = new Thread(loop, "worker-loop");
        loopThread.setUncaughtExceptionHandler((t, e) -> loopFailure = e);
        loopThread.start();
    }

    private long nowMicros() {
        return clock.redisMicros(System.nanoTime());
    }

    private void sleepUntil(long micros) throws InterruptedException {
        long left = micros - nowMicros();
        if (left > 0) {
            Thread.sleep(left / 1_000);
        }
    }

    private ConsumerRecord<byte[], byte[]> task(long startMicros, long byMicros) {
        ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>(ready.topic(), ready.partition(), 0,
                utf8("t-0"), utf8("{}"));
        record.headers().add(TaskHeaders.ID, utf8("t-0"));
        record.headers().add(TaskHeaders.QUEUE, utf8("batch_rebalance"));
        record.headers().add(TaskHeaders.ATTEMPT, utf8("0"));
        record.headers().add(TaskHeaders.RELEASED_AT, utf8(Long.toString(startMicros / 1_000)));
        record.headers().add(TaskHeaders.START_AT, utf8(Long.toString(startMicros)));
        record.headers().add(TaskHeaders.START_BY, utf8(Long.toString(byMicros)));
        return record;
    }

    private static TaskHandler handler(java.util.function.Function<dev.sluice.worker.api.Task, TaskResult> body) {
        return WorkerFixture.handler(body);
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
