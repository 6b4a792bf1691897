package dev.sluice.worker;

import static dev.sluice.worker.WorkerFixture.handler;
import static dev.sluice.worker.WorkerFixture.header;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.TaskEvent;
import dev.sluice.core.TaskHeaders;
import dev.sluice.worker.api.TaskHandler;
import dev.sluice.worker.api.TaskResult;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/** The worker against the real broker: commit after completion, bounded fetching, crash, failures. */
class WorkerIT {

    private static void awaitLatch(CountDownLatch latch) {
        try {
            latch.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void theCommittedOffsetNeverPassesTheFirstUnfinishedTask() throws Exception {
        try (WorkerFixture world = new WorkerFixture()) {
            CountDownLatch firstMayFinish = new CountDownLatch(1);
            Set<String> done = ConcurrentHashMap.newKeySet();
            Worker worker = world.start(world.config(4), handler(task -> {
                if (task.id().equals("t-0")) {
                    awaitLatch(firstMayFinish);
                }
                done.add(task.id());
                return TaskResult.success();
            }));
            world.release(10);

            await().atMost(Duration.ofSeconds(20)).until(() -> done.size() == 9);
            Thread.sleep(500); // time enough for a commit, were one (wrongly) made
            assertThat(world.committed()).isLessThanOrEqualTo(0);

            firstMayFinish.countDown();
            await().atMost(Duration.ofSeconds(20)).until(() -> world.committed() == 10);
            assertThat(worker.metrics().completed()).isEqualTo(10);
        }
    }

    @Test
    void onceEveryTaskIsDoneTheGroupsLagReadsZeroPastTheGatesTransactionMarkers() throws Exception {
        try (WorkerFixture world = new WorkerFixture();
             org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]> gateLike =
                     new org.apache.kafka.clients.producer.KafkaProducer<>(Map.of(
                             "bootstrap.servers", world.sluice.kafkaBootstrapServers(),
                             "transactional.id", "gate-like-" + java.util.UUID.randomUUID()),
                             new org.apache.kafka.common.serialization.ByteArraySerializer(),
                             new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            AtomicInteger done = new AtomicInteger();
            world.start(world.config(4), handler(task -> {
                done.incrementAndGet();
                return TaskResult.success();
            }));
            gateLike.initTransactions();
            for (int t = 0; t < 2; t++) { // as the gate writes: records, then a commit marker
                gateLike.beginTransaction();
                for (int i = 0; i < 5; i++) {
                    var record = new org.apache.kafka.clients.producer.ProducerRecord<byte[], byte[]>(
                            world.topics.ready(), 0, null, WorkerFixture.utf8("t-" + t + i), WorkerFixture.utf8("{}"));
                    record.headers().add(TaskHeaders.QUEUE, WorkerFixture.utf8(world.queue.value()));
                    gateLike.send(record);
                }
                gateLike.commitTransaction();
            }

            await().atMost(Duration.ofSeconds(20)).until(() -> done.get() == 10);
            // 10 tasks and 2 markers: the committed position reaches the end, so the lag reads 0
            await().atMost(Duration.ofSeconds(10)).until(() -> world.committed() == 12);
        }
    }

    @Test
    void withEverySlotBusyTheWorkerFetchesNothingMore() throws Exception {
        try (WorkerFixture world = new WorkerFixture()) {
            CountDownLatch mayFinish = new CountDownLatch(1);
            AtomicInteger handled = new AtomicInteger();
            Worker worker = world.start(world.config(2), handler(task -> {
                handled.incrementAndGet();
                awaitLatch(mayFinish);
                return TaskResult.success();
            }));
            world.release(20);

            await().atMost(Duration.ofSeconds(20)).until(() -> handled.get() == 2);
            Thread.sleep(1500);
            assertThat(handled.get()).isEqualTo(2);
            assertThat(worker.metrics().started()).isEqualTo(2);
            assertThat(worker.metrics().fetched()).isLessThanOrEqualTo(4);

            mayFinish.countDown();
            await().atMost(Duration.ofSeconds(30)).until(() -> worker.metrics().completed() == 20);
        }
    }

    @Test
    void aCrashedWorkersTasksAreRunByTheNextOneAndOnlyUnfinishedOnesTwice() throws Exception {
        try (WorkerFixture world = new WorkerFixture()) {
            List<String> completions = new CopyOnWriteArrayList<>();
            TaskHandler slow = handler(task -> {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return TaskResult.retry("interrupted");
                }
                completions.add(task.id());
                return TaskResult.success();
            });
            Worker first = Worker.start(world.config(4), List.of(slow));
            world.release(40);
            await().atMost(Duration.ofSeconds(20)).until(() -> completions.size() >= 12);
            first.halt();
            long committedAtCrash = world.committed();

            world.start(world.config(4), slow);
            await().atMost(Duration.ofSeconds(60)).until(() -> new HashSet<>(completions).size() == 40);

            Map<String, Long> times = completions.stream().collect(
                    java.util.stream.Collectors.groupingBy(id -> id, java.util.stream.Collectors.counting()));
            for (Map.Entry<String, Long> entry : times.entrySet()) {
                if (entry.getValue() > 1) {
                    long offset = Long.parseLong(entry.getKey().substring(2));
                    assertThat(offset).as("%s ran twice", entry.getKey()).isGreaterThanOrEqualTo(committedAtCrash);
                }
            }
            assertThat(committedAtCrash).isGreaterThan(0);
        }
    }

    @Test
    void aFailedTaskGoesBackToItsQueueWithTheNextAttemptAndAfterTheLastToTheDeadLetters() throws Exception {
        try (WorkerFixture world = new WorkerFixture()) {
            Worker worker = world.start(world.config(2).withMaxAttempts(2), handler(task ->
                    task.id().equals("t-0") ? TaskResult.retry("downstream said 503") : TaskResult.fail("bad payload")));
            world.release(2);

            List<ConsumerRecord<byte[], byte[]>> waiting = world.read(world.topics.delay(Duration.ofSeconds(1)), 1,
                    Duration.ofSeconds(20));
            List<ConsumerRecord<byte[], byte[]>> retried = world.read(world.topics.queue(world.queue), 1,
                    Duration.ofSeconds(20));
            List<ConsumerRecord<byte[], byte[]>> dead = world.read(world.topics.dead(), 1, Duration.ofSeconds(20));

            // attempt 0 failed: it waits one second in the 1 s tier, then re-enters its queue as attempt 1
            assertThat(waiting).hasSize(1);
            long notBefore = Long.parseLong(header(waiting.get(0), TaskOutcomes.NOT_BEFORE_HEADER));
            assertThat(notBefore - waiting.get(0).timestamp()).isBetween(900L, 1100L);
            assertThat(retried).hasSize(1);
            assertThat(retried.get(0).timestamp()).isGreaterThanOrEqualTo(notBefore);
            assertThat(header(retried.get(0), TaskHeaders.ID)).isEqualTo("t-0");
            assertThat(header(retried.get(0), TaskHeaders.ATTEMPT)).isEqualTo("1");
            assertThat(header(retried.get(0), TaskOutcomes.ERROR_HEADER)).isEqualTo("downstream said 503");
            assertThat(header(retried.get(0), TaskOutcomes.NOT_BEFORE_HEADER)).isNull();
            assertThat(new String(retried.get(0).value())).isEqualTo("{\"n\":0}");
            assertThat(dead).hasSize(1);
            assertThat(header(dead.get(0), TaskHeaders.ID)).isEqualTo("t-1");
            assertThat(header(dead.get(0), TaskOutcomes.ERROR_HEADER)).isEqualTo("bad payload");
            await().atMost(Duration.ofSeconds(10)).until(() -> world.committed() == 2);
            assertThat(worker.metrics().failed()).isEqualTo(2);
        }
    }

    @Test
    void aHandlerThrowingAnErrorFailsTheAttemptAndFreesItsSlot() throws Exception {
        try (WorkerFixture world = new WorkerFixture()) {
            Worker worker = world.start(world.config(1), handler(task -> {
                if (task.id().equals("t-0")) {
                    throw new StackOverflowError("deep");
                }
                return TaskResult.success();
            }));
            world.release(3);

            List<ConsumerRecord<byte[], byte[]>> retried = world.read(world.topics.delay(Duration.ofSeconds(1)), 1,
                    Duration.ofSeconds(20));

            assertThat(retried).hasSize(1);
            assertThat(header(retried.get(0), TaskOutcomes.ERROR_HEADER)).isEqualTo("java.lang.StackOverflowError: deep");
            // the only slot was free again: the two after it ran, and all three are committed
            await().atMost(Duration.ofSeconds(10)).until(() -> worker.metrics().completed() == 2);
            await().atMost(Duration.ofSeconds(10)).until(() -> world.committed() == 3);
        }
    }

    @Test
    void aHandlerRunningPastItsTimeoutFailsTheAttempt() throws Exception {
        try (WorkerFixture world = new WorkerFixture()) {
            world.start(world.config(1).withHandlerTimeout(Duration.ofMillis(300)), handler(task -> {
                try {
                    Thread.sleep(5_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return TaskResult.success();
            }));
            world.release(1);

            List<ConsumerRecord<byte[], byte[]>> retried = world.read(world.topics.queue(world.queue), 1,
                    Duration.ofSeconds(20));

            assertThat(retried).hasSize(1);
            assertThat(header(retried.get(0), TaskOutcomes.ERROR_HEADER)).isEqualTo("timed out after 300 ms");
            await().atMost(Duration.ofSeconds(10)).until(() -> world.committed() == 1);
        }
    }

    @Test
    void aHandlerPastItsTimeoutIsInterrupted() throws Exception {
        try (WorkerFixture world = new WorkerFixture()) {
            CountDownLatch interrupted = new CountDownLatch(1);
            world.start(world.config(1).withHandlerTimeout(Duration.ofMillis(300)), handler(task -> {
                try {
                    Thread.sleep(30_000);
                } catch (InterruptedException e) {
                    interrupted.countDown(); // gives its thread back
                }
                return TaskResult.success();
            }));
            world.release(1);

            assertThat(interrupted.await(10, TimeUnit.SECONDS)).as("the handler was interrupted").isTrue();
            await().atMost(Duration.ofSeconds(10)).until(() -> world.committed() == 1);
        }
    }

    @Test
    void aHandlerStuckPastItsTimeoutDoesNotHoldBackTheNextTask() throws Exception {
        try (WorkerFixture world = new WorkerFixture()) {
            CountDownLatch unstick = new CountDownLatch(1);
            Worker worker = world.start(world.config(1).withHandlerTimeout(Duration.ofMillis(300)), handler(task -> {
                if (task.id().equals("t-0")) {
                    // ignores interrupts and overruns its timeout until the test lets it go
                    while (unstick.getCount() > 0) {
                        try {
                            unstick.await();
                        } catch (InterruptedException ignored) {
                            // keeps its thread, as a badly behaved handler does
                        }
                    }
                }
                return TaskResult.success();
            }));
            world.release(2);

            // t-0 times out after 300 ms and frees the only slot; t-1 then runs on a stand-in thread
            await().atMost(Duration.ofSeconds(5)).until(() -> worker.metrics().completed() == 1);
            assertThat(worker.metrics().failed()).isEqualTo(1);
            await().atMost(Duration.ofSeconds(10)).until(() -> world.committed() == 2);
            unstick.countDown();
        }
    }

    @Test
    void aRecordThatIsNoTaskGoesToTheDeadLettersAndTheTasksAfterItRun() throws Exception {
        try (WorkerFixture world = new WorkerFixture()) {
            AtomicInteger ran = new AtomicInteger();
            world.start(world.config(4), handler(task -> {
                ran.incrementAndGet();
                return TaskResult.success();
            }));
            world.releaseWithoutQueue("not-a-task");
            world.release(2);

            List<ConsumerRecord<byte[], byte[]>> dead = world.read(world.topics.dead(), 1, Duration.ofSeconds(20));

            assertThat(dead).hasSize(1);
            assertThat(header(dead.get(0), TaskHeaders.ID)).isEqualTo("not-a-task");
            assertThat(header(dead.get(0), TaskOutcomes.ERROR_HEADER)).startsWith("malformed task: no sluice-queue header");
            await().atMost(Duration.ofSeconds(10)).until(() -> world.committed() == 3);
            assertThat(ran.get()).isEqualTo(2);
        }
    }

    @Test
    void everyStepOfATaskIsAnEventAndStartsAndCompletionsAreCounted() throws Exception {
        try (WorkerFixture world = new WorkerFixture()) {
            world.start(world.config(4).withMaxAttempts(1), handler(task ->
                    task.id().equals("t-3") ? TaskResult.fail("no such user") : TaskResult.success()));
            world.release(50);

            // 50 started, 49 completed, 1 failed, 1 dead
            List<TaskEvent> events = world.events(101, Duration.ofSeconds(20));
            Map<TaskEvent.Type, Integer> counts = new java.util.EnumMap<>(TaskEvent.Type.class);
            events.forEach(e -> counts.merge(e.type(), e.count(), Integer::sum));

            assertThat(counts).containsEntry(TaskEvent.Type.started, 50).containsEntry(TaskEvent.Type.completed, 49)
                    .containsEntry(TaskEvent.Type.failed, 1).containsEntry(TaskEvent.Type.dead, 1);
            assertThat(events).filteredOn(e -> e.type() == TaskEvent.Type.dead).singleElement()
                    .satisfies(e -> {
                        assertThat(e.id()).isEqualTo("t-3");
                        assertThat(e.detail()).isEqualTo("no such user");
                    });
            assertThat(events.stream().filter(e -> e.type() == TaskEvent.Type.completed).count()).isLessThan(49);
        }
    }

    @Test
    void theQueuesOwnMaxAttemptsStampedByTheGateWinsOverTheWorkers() throws Exception {
        try (WorkerFixture world = new WorkerFixture()) {
            world.start(world.config(1).withMaxAttempts(5), handler(task -> TaskResult.retry("always 503")));
            world.release(1, Map.of(TaskHeaders.MAX_ATTEMPTS, "1"));

            List<ConsumerRecord<byte[], byte[]>> dead = world.read(world.topics.dead(), 1, Duration.ofSeconds(20));

            assertThat(dead).hasSize(1);
            assertThat(header(dead.get(0), TaskOutcomes.ERROR_HEADER)).isEqualTo("always 503");
        }
    }

    @Test
    void aRetryAfterOfYearsWaitsADayAndLeavesNothingStuck() throws Exception {
        try (WorkerFixture world = new WorkerFixture()) {
            world.start(world.config(2), handler(task -> task.id().equals("t-0")
                    ? TaskResult.retryAfter("come back in a few centuries", Duration.ofSeconds(Long.MAX_VALUE))
                    : TaskResult.success()));
            long before = System.currentTimeMillis();
            world.release(2);

            List<ConsumerRecord<byte[], byte[]>> waiting = world.read(world.topics.delay(Duration.ofHours(1)), 1,
                    Duration.ofSeconds(20));
            assertThat(waiting).hasSize(1);
            long notBefore = Long.parseLong(header(waiting.get(0), TaskOutcomes.NOT_BEFORE_HEADER));
            assertThat(notBefore - before).isBetween(Duration.ofDays(1).toMillis() - 1_000,
                    Duration.ofDays(1).toMillis() + 20_000);
            await().atMost(Duration.ofSeconds(10)).until(() -> world.committed() == 2);
        }
    }

    @Test
    void aRetryWhoseQueueWasRemovedMeanwhileGoesToTheDeadLettersWithTheReason() throws Exception {
        try (WorkerFixture world = new WorkerFixture()) {
            world.start(world.config(2), handler(task -> TaskResult.retry("downstream said 503")));
            world.release(1);
            assertThat(world.read(world.topics.delay(Duration.ofSeconds(1)), 1, Duration.ofSeconds(20))).hasSize(1);

            world.admin.deleteTopics(List.of(world.topics.queue(world.queue))).all().get(30, TimeUnit.SECONDS);

            List<ConsumerRecord<byte[], byte[]>> dead = world.read(world.topics.dead(), 1, Duration.ofSeconds(30));
            assertThat(dead).hasSize(1);
            assertThat(header(dead.get(0), TaskHeaders.ID)).isEqualTo("t-0");
            assertThat(header(dead.get(0), TaskOutcomes.ERROR_HEADER))
                    .isEqualTo("queue " + world.queue + " was removed before this retry was due");
        }
    }
}
