package dev.sluice.worker;

import static dev.sluice.worker.WorkerFixture.handler;
import static dev.sluice.worker.WorkerFixture.header;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.TaskEvent;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.redis.RedisClock;
import dev.sluice.embedded.SharedServers;
import dev.sluice.worker.api.TaskResult;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

/** The worker starts each task at the slot the gate stamped on it, and never late next to on-time ones. */
class StartSlotIT {

    /** Two readers of one Redis clock may disagree by half of each one's round trip. */
    private static final long CLOCK_ERROR_MICROS = 2_000;

    private static RedisClient redis;
    private static RedisClock clock;

    @BeforeAll
    static void readRedissClock() {
        redis = RedisClient.create(URI.create(SharedServers.redisUri()));
        clock = new RedisClock(redis);
        clock.sync();
    }

    @AfterAll
    static void close() {
        redis.close();
    }

    private static long redisNowMicros() {
        return clock.redisMicros(System.nanoTime());
    }

    @Test
    void eachTaskStartsAtItsSlotAndNotBefore() throws Exception {
        try (WorkerFixture world = new WorkerFixture()) {
            Map<String, Long> startedAt = new ConcurrentHashMap<>();
            Worker worker = world.start(world.config(4), handler(task -> {
                startedAt.put(task.id(), redisNowMicros());
                return TaskResult.success();
            }));
            long first = redisNowMicros() + 2_000_000;
            long[] slots = new long[20];
            for (int i = 0; i < slots.length; i++) {
                slots[i] = first + i * 50_000L; // 20/1s
            }
            world.releaseAt(500_000, slots); // a wide tolerance: this test is about never too early

            await().atMost(Duration.ofSeconds(20)).until(() -> startedAt.size() == 20);

            for (int i = 0; i < slots.length; i++) {
                assertThat(startedAt.get("t-" + i)).as("t-%d", i).isGreaterThanOrEqualTo(slots[i] - CLOCK_ERROR_MICROS);
            }
            assertThat(worker.metrics().requeued()).isZero();
            await().atMost(Duration.ofSeconds(10)).until(() -> world.committed() == 20);
        }
    }

    @Test
    void aTaskPastItsLatestStartGoesBackToItsQueueWithTheSameAttemptAndNeverRuns() throws Exception {
        try (WorkerFixture world = new WorkerFixture()) {
            AtomicInteger ran = new AtomicInteger();
            Worker worker = world.start(world.config(4), handler(task -> {
                ran.incrementAndGet();
                return TaskResult.success();
            }));
            long past = redisNowMicros() - 2_000_000;
            world.releaseAt(100_000, past, past + 10_000, past + 20_000); // as if the worker had been away

            List<ConsumerRecord<byte[], byte[]>> back = world.read(world.topics.queue(world.queue), 3,
                    Duration.ofSeconds(20));

            assertThat(back).hasSize(3);
            assertThat(back).extracting(r -> header(r, TaskHeaders.ID)).containsExactly("t-0", "t-1", "t-2");
            for (ConsumerRecord<byte[], byte[]> record : back) {
                assertThat(header(record, TaskHeaders.ATTEMPT)).isEqualTo("1"); // not counted as an attempt
                assertThat(header(record, TaskHeaders.QUEUE)).isEqualTo(world.queue.value());
                assertThat(header(record, TaskHeaders.START_AT)).isNull();
                assertThat(header(record, TaskHeaders.START_BY)).isNull();
                assertThat(header(record, TaskHeaders.RELEASED_AT)).isNull();
                assertThat(header(record, TaskHeaders.REQUEUES)).isEqualTo("1"); // names its next release
            }
            assertThat(new String(back.get(1).value())).isEqualTo("{\"n\":1}");
            await().atMost(Duration.ofSeconds(10)).until(() -> world.committed() == 3);
            assertThat(ran.get()).isZero();
            assertThat(worker.metrics().requeued()).isEqualTo(3);
            List<TaskEvent> events = world.events(3, Duration.ofSeconds(10));
            assertThat(events).allMatch(e -> e.type() == TaskEvent.Type.requeued);
            assertThat(events.stream().mapToInt(TaskEvent::count).sum()).isEqualTo(3);
        }
    }

    @Test
    void aTaskWhoseSlotComesWhileEverySlotIsBusyGoesBackRatherThanStartLate() throws Exception {
        try (WorkerFixture world = new WorkerFixture()) {
            CountDownLatch release = new CountDownLatch(1);
            AtomicInteger ran = new AtomicInteger();
            Worker worker = world.start(world.config(1), handler(task -> {
                ran.incrementAndGet();
                try {
                    release.await(20, TimeUnit.SECONDS); // the only slot stays busy
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return TaskResult.success();
            }));
            long now = redisNowMicros();
            world.releaseAt(10_000, now + 1_000_000, now + 1_500_000);

            List<ConsumerRecord<byte[], byte[]>> back = world.read(world.topics.queue(world.queue), 1,
                    Duration.ofSeconds(20));
            release.countDown();

            // t-0 took the slot at its time and held it; t-1's time came and went: it went back
            assertThat(back).extracting(r -> header(r, TaskHeaders.ID)).containsExactly("t-1");
            await().atMost(Duration.ofSeconds(10)).until(() -> world.committed() == 2);
            assertThat(ran.get()).isEqualTo(1);
            assertThat(worker.metrics().requeued()).isEqualTo(1);
        }
    }
}
