package dev.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.SluiceConfig;
import dev.sluice.core.TaskHeaders;
import dev.sluice.worker.api.TaskHandler;
import dev.sluice.worker.api.TaskResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Every way a task can end on its slot thread frees the slot, and ends as it must: a success finished,
 * a failure (an exception, an {@code Error}, a timeout) written back as a retry, a late task sent back
 * without an attempt, a task of a partition that moved left to its next owner.
 */
class TaskRunnerTest {

    private final SluiceConfig sluice = SluiceConfig.defaults();
    private final TopicPartition ready = new TopicPartition(sluice.topics().ready(), 0);
    private final Map<TopicPartition, Object> tenures = new ConcurrentHashMap<>(Map.of(ready, new Object()));
    private final MockProducer<byte[], byte[]> events = new MockProducer<>(true, null, new ByteArraySerializer(),
            new ByteArraySerializer());
    private final MockProducer<byte[], byte[]> writes = new MockProducer<>(true, null, new ByteArraySerializer(),
            new ByteArraySerializer());
    private final WriteBacks writeBacks = new WriteBacks(() -> writes, topic -> true, topic -> false,
            sluice.topics().dead());
    private final Completions completions = new Completions();
    private final HandlerThreads threads = new HandlerThreads(2, Thread::new);
    private final WorkerMetrics metrics = new WorkerMetrics();
    private TaskRunner runner;

    @AfterEach
    void stop() {
        threads.shutdownNow();
    }

    private void runner(Duration timeout, java.util.function.Function<dev.sluice.worker.api.Task, TaskResult> body) {
        TaskHandler handler = WorkerFixture.handler(body);
        WorkerConfig config = WorkerConfig.of(sluice).withConcurrency(2).withHandler(handler.name())
                .withHandlerTimeout(timeout);
        runner = new TaskRunner(config, Map.of(handler.name(), handler),
                new TaskOutcomes(events, sluice.topics(), 3, new EventBatcher(events, sluice.topics())), writeBacks,
                threads, metrics, new MissedStarts(), completions, tenures);
    }

    @Test
    void aSuccessIsFinishedAtOnce() {
        runner(Duration.ofSeconds(30), task -> TaskResult.success());
        runner.start(ready, task(0), tenures.get(ready), WorkerLoop.NOW, Long.MAX_VALUE);

        Completions.Completion done = awaitCompletion();
        assertThat(done.finished()).isTrue();
        assertThat(done.heldSlot()).isTrue();
        assertThat(writeBacks.waiting()).isFalse();
    }

    @Test
    void aHandlerThrowingAnErrorFreesItsSlotAndItsAttemptIsRetried() {
        runner(Duration.ofSeconds(30), task -> {
            throw new AssertionError("a broken handler");
        });
        runner.start(ready, task(0), tenures.get(ready), WorkerLoop.NOW, Long.MAX_VALUE);

        Completions.Completion done = awaitCompletion();
        assertThat(done.heldSlot()).isTrue();
        assertThat(done.finished()).as("finished by the retry's transaction").isFalse();
        List<ProducerRecord<byte[], byte[]>> written = written();
        assertThat(written).hasSize(1);
        assertThat(written.get(0).topic()).startsWith(sluice.topics().prefix() + ".delay.");
        assertThat(header(written.get(0), TaskOutcomes.ERROR_HEADER)).contains("AssertionError: a broken handler");
        assertThat(header(written.get(0), TaskHeaders.ATTEMPT)).isEqualTo("1");
    }

    @Test
    void aHandlerPastItsTimeoutIsInterruptedAndItsAttemptRetried() throws Exception {
        CountDownLatch interrupted = new CountDownLatch(1);
        runner(Duration.ofMillis(200), task -> {
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                interrupted.countDown();
            }
            return TaskResult.success(); // too late: the attempt already failed
        });
        runner.start(ready, task(0), tenures.get(ready), WorkerLoop.NOW, Long.MAX_VALUE);
        Thread.sleep(300);
        runner.timeOutOverdue(); // the worker's watchdog, every 50 ms

        assertThat(interrupted.await(5, TimeUnit.SECONDS)).isTrue();
        Completions.Completion done = awaitCompletion();
        assertThat(done.heldSlot()).isTrue();
        assertThat(header(written().get(0), TaskOutcomes.ERROR_HEADER)).isEqualTo("timed out after 200 ms");
        Thread.sleep(100);
        assertThat(completions.poll()).as("ended once").isNull();
        assertThat(runner.stuckHandlers()).isZero();
    }

    @Test
    void aTaskPastItsLatestStartIsSentBackWithoutAnAttempt() {
        AtomicInteger calls = new AtomicInteger();
        runner(Duration.ofSeconds(30), task -> {
            calls.incrementAndGet();
            return TaskResult.success();
        });
        runner.waitsInSlot();
        long now = System.nanoTime();
        runner.start(ready, task(0), tenures.get(ready), now, now - 1_000_000);

        Completions.Completion done = awaitCompletion();
        assertThat(done.heldSlot()).isTrue();
        assertThat(calls).hasValue(0);
        List<ProducerRecord<byte[], byte[]>> written = written();
        assertThat(written.get(0).topic()).isEqualTo(sluice.topics().queue(dev.sluice.core.QueueName.of("batch_runner")));
        assertThat(header(written.get(0), TaskHeaders.ATTEMPT)).isEqualTo("0");
        assertThat(header(written.get(0), TaskHeaders.REQUEUES)).isEqualTo("1");
        assertThat(runner.waitingInSlots()).isZero();
    }

    @Test
    void aTaskWhosePartitionMovedWhileItWaitedForItsSlotIsNotStarted() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        runner(Duration.ofSeconds(30), task -> {
            calls.incrementAndGet();
            return TaskResult.success();
        });
        runner.waitsInSlot();
        long start = System.nanoTime() + 300_000_000L;
        runner.start(ready, task(0), tenures.get(ready), start, start + 100_000_000L);
        tenures.put(ready, new Object()); // revoked and assigned again meanwhile

        Completions.Completion done = awaitCompletion();
        assertThat(done.heldSlot()).isTrue();
        assertThat(done.finished()).isFalse();
        assertThat(calls).hasValue(0);
        assertThat(writeBacks.waiting()).as("its next owner runs it").isFalse();
    }

    @Test
    void aMalformedTaskGoesToTheDeadLetters() {
        runner(Duration.ofSeconds(30), task -> TaskResult.success());
        ConsumerRecord<byte[], byte[]> noQueue = new ConsumerRecord<>(ready.topic(), 0, 0, utf8("t-0"), utf8("{}"));
        runner.start(ready, noQueue, tenures.get(ready), WorkerLoop.NOW, Long.MAX_VALUE);

        awaitCompletion();
        ProducerRecord<byte[], byte[]> dead = written().get(0);
        assertThat(dead.topic()).isEqualTo(sluice.topics().dead());
        assertThat(header(dead, TaskOutcomes.ERROR_HEADER)).startsWith("malformed task:");
    }

    private Completions.Completion awaitCompletion() {
        List<Completions.Completion> seen = new ArrayList<>();
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            Completions.Completion next = completions.poll();
            if (next != null) {
                seen.add(next);
            }
            return !seen.isEmpty();
        });
        return seen.get(0);
    }

    /** The write-backs asked for, written as the loop's next commit would. */
    private List<ProducerRecord<byte[], byte[]>> written() {
        PartitionOffsets offsets = new PartitionOffsets();
        offsets.started(ready, 0);
        assertThat(writeBacks.commit(tenures, offsets, () -> new ConsumerGroupMetadata("sluice-worker"))).isTrue();
        return writes.history();
    }

    private static ConsumerRecord<byte[], byte[]> task(long offset) {
        ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>("sluice.ready", 0, offset, utf8("t-" + offset),
                utf8("{}"));
        record.headers().add(TaskHeaders.ID, utf8("t-" + offset));
        record.headers().add(TaskHeaders.QUEUE, utf8("batch_runner"));
        record.headers().add(TaskHeaders.ATTEMPT, utf8("0"));
        return record;
    }

    private static String header(ProducerRecord<byte[], byte[]> record, String name) {
        var header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
