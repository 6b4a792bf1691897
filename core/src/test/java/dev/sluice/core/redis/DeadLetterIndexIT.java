package dev.sluice.core.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.QueueName;
import dev.sluice.core.QueueSpec;
import dev.sluice.core.RateLimit;
import dev.sluice.core.RedisKeys;
import dev.sluice.embedded.SharedServers;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

/** The dead-letter index on a real redis-server: listed, paged, taken at most once, gone with its queue. */
class DeadLetterIndexIT {

    private static RedisClient redis;
    private QueueRegistry registry;
    private DeadLetterIndex index;
    private QueueName queue;
    private RedisKeys keys;

    @BeforeAll
    static void connect() {
        redis = RedisClient.create(URI.create(SharedServers.redisUri()));
    }

    @AfterAll
    static void disconnect() {
        redis.close();
    }

    @BeforeEach
    void isolate() {
        keys = new RedisKeys("t" + UUID.randomUUID().toString().substring(0, 8));
        registry = new QueueRegistry(redis, keys);
        index = new DeadLetterIndex(redis, keys);
        queue = QueueName.of("q1");
        registry.create(queue, QueueSpec.of(RateLimit.parse("1/1s")));
    }

    @Test
    void listsNewestFirstAPageAtATime() {
        assertThat(index.index(queue, List.of(3L, 7L, 12L, 40L, 41L))).isEqualTo(5);
        assertThat(index.index(queue, List.of(40L, 41L))).as("indexed twice").isZero();
        QueueName other = QueueName.of("q2");
        registry.create(other, QueueSpec.of(RateLimit.parse("1/1s")));
        index.indexAll(java.util.Map.of(queue, List.of(41L), other, List.of(50L, 51L), QueueName.of("gone"), List.of(60L)));
        assertThat(index.count(other)).isEqualTo(2);
        assertThat(index.count(QueueName.of("gone"))).as("no such queue").isZero();

        assertThat(index.count(queue)).isEqualTo(5);
        assertThat(index.newestBefore(queue, null, 2)).containsExactly(41L, 40L);
        assertThat(index.newestBefore(queue, 40L, 2)).containsExactly(12L, 7L);
        assertThat(index.newestBefore(queue, 7L, 2)).containsExactly(3L);
        assertThat(index.newestBefore(queue, 3L, 2)).isEmpty();
    }

    @Test
    void anOffsetIsTakenOnceAndNeverListedAgain() {
        index.index(queue, List.of(5L, 6L, 7L));

        assertThat(index.take(queue, List.of(6L, 99L))).as("99 was never listed").containsExactly(6L);
        assertThat(index.take(queue, List.of(6L))).as("the same request again").isEmpty();
        assertThat(index.index(queue, List.of(6L))).as("an indexer that read it again").isZero();
        assertThat(index.newestBefore(queue, null, 10)).containsExactly(7L, 5L);
    }

    @Test
    void takingTheLowestRaisesAFloorThatKeepsThemOut() {
        index.index(queue, List.of(10L, 11L, 12L, 20L));

        assertThat(index.takeLowest(queue, 3)).containsExactly(10L, 11L, 12L);
        assertThat(index.index(queue, List.of(10L, 11L, 12L))).isZero();
        assertThat(index.index(queue, List.of(21L))).as("above the floor").isEqualTo(1);
        assertThat(index.takeLowest(queue, 100)).containsExactly(20L, 21L);
        assertThat(index.takeLowest(queue, 100)).isEmpty();
        assertThat(index.count(queue)).isZero();
        assertThat(index.taken(queue)).isEqualTo(5);
    }

    @Test
    void whatIsGivenBackIsListedAndCanBeTakenAgain() {
        index.index(queue, List.of(1L, 2L));
        List<Long> taken = index.take(queue, List.of(1L, 2L));

        index.giveBack(queue, taken);

        assertThat(index.newestBefore(queue, null, 10)).containsExactly(2L, 1L);
        assertThat(index.take(queue, List.of(1L))).containsExactly(1L);
        assertThat(index.taken(queue)).as("taken 2, given back 2, taken 1").isEqualTo(1);
    }

    @Test
    void concurrentTakesOfTheSameOffsetsTakeEachOnce() throws Exception {
        List<Long> offsets = new ArrayList<>();
        for (long offset = 0; offset < 200; offset++) {
            offsets.add(offset);
        }
        index.index(queue, offsets);
        ConcurrentLinkedQueue<Long> taken = new ConcurrentLinkedQueue<>();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            boolean lowest = i % 2 == 0;
            Thread thread = new Thread(() -> {
                try {
                    start.await();
                    for (int round = 0; round < 20; round++) {
                        taken.addAll(lowest ? index.takeLowest(queue, 7) : index.take(queue, offsets.subList(round * 10, round * 10 + 10)));
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            thread.start();
            threads.add(thread);
        }
        start.countDown();
        for (Thread thread : threads) {
            thread.join();
        }
        taken.addAll(index.takeLowest(queue, 1000));

        assertThat(taken).hasSize(200).doesNotHaveDuplicates();
    }

    @Test
    void aRemovedQueueTakesNoMoreAndLeavesNothingBehind() {
        index.index(queue, List.of(1L, 2L));
        index.take(queue, List.of(1L));

        registry.remove(queue);

        assertThat(index.index(queue, List.of(3L))).isZero();
        assertThat(index.count(queue)).isZero();
        assertThat(redis.exists(keys.deadTaken(queue))).isFalse();
    }
}
