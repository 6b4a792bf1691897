package dev.sluice.core.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.Queue;
import dev.sluice.core.QueueName;
import dev.sluice.core.QueueSpec;
import dev.sluice.core.QueueState;
import dev.sluice.core.RateLimit;
import dev.sluice.core.RedisKeys;
import dev.sluice.embedded.RedisClusterProcesses;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.JedisPubSub;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.util.JedisClusterCRC16;

/**
 * The registry, the token bucket, the scripts and Redis's clock on a real three-master Redis Cluster of
 * redis-server processes: each queue's keys in one hash slot, queues spread over every node.
 */
class RedisClusterIT {

    private static RedisClusterProcesses cluster;
    private static RedisClusterClient redis;
    private static RedisKeys keys;
    private static QueueRegistry registry;

    @BeforeAll
    static void start() {
        cluster = RedisClusterProcesses.start(3);
        redis = RedisClusterClient.create(new HashSet<>(cluster.addresses()));
        keys = new RedisKeys("t" + UUID.randomUUID().toString().substring(0, 8));
        registry = new QueueRegistry(redis, keys);
    }

    @AfterAll
    static void stop() {
        redis.close();
        cluster.close();
    }

    /** Queues whose keys fall on every master, a few on each. */
    private static List<QueueName> queuesOnEveryNode(String rate) {
        List<QueueName> queues = new ArrayList<>();
        Set<Integer> thirds = new HashSet<>();
        while (queues.size() < 9 || thirds.size() < 3) {
            QueueName name = QueueName.generate();
            registry.create(name, QueueSpec.of(RateLimit.parse(rate)));
            queues.add(name);
            thirds.add(JedisClusterCRC16.getSlot(keys.meta(name)) * 3 / 16_384);
        }
        return queues;
    }

    @Test
    void queuesOnEveryNodeAreCreatedListedChangedAndRemoved() {
        List<QueueName> queues = queuesOnEveryNode("5/1s");

        assertThat(registry.list()).extracting(Queue::name).containsAll(queues);
        QueueName some = queues.get(queues.size() - 1);
        registry.updateRateLimit(some, RateLimit.parse("7/1s"));
        registry.setState(some, QueueState.INACTIVE);
        assertThat(registry.get(some).spec().rateLimit()).isEqualTo(RateLimit.parse("7/1s"));
        assertThat(registry.get(some).state()).isEqualTo(QueueState.INACTIVE);
        for (QueueName queue : queues) {
            assertThat(registry.remove(queue)).isTrue();
        }
        assertThat(registry.list()).extracting(Queue::name).doesNotContainAnyElementsOf(queues);
    }

    @Test
    void eachQueuesBucketGrantsItsLimitOnWhicheverNodeItLives() {
        List<QueueName> queues = queuesOnEveryNode("10/1s");
        TokenBucket bucket = new TokenBucket(redis, keys, Duration.ofSeconds(1));

        for (QueueName queue : queues) {
            Acquisition first = bucket.acquire(queue, 100);
            Acquisition second = bucket.acquire(queue, 100);
            assertThat(first.outcome()).isEqualTo(Acquisition.Outcome.OK);
            // a horizon of 1 s at 10/1s: about 10 slots, and no more on asking again at once
            assertThat(first.granted() + second.granted()).as("slots of " + queue.value()).isBetween(9, 11);
        }
    }

    @Test
    void scriptsFlushedFromEveryNodeAreLoadedAgain() {
        List<QueueName> queues = queuesOnEveryNode("10/1s");
        TokenBucket bucket = new TokenBucket(redis, keys, Duration.ofMillis(100));
        bucket.acquire(queues.get(0), 1);
        for (var node : cluster.addresses()) {
            try (redis.clients.jedis.Jedis jedis = new redis.clients.jedis.Jedis(node)) {
                jedis.scriptFlush();
            }
        }

        for (QueueName queue : queues) {
            assertThat(bucket.acquire(queue, 1).outcome()).isEqualTo(Acquisition.Outcome.OK);
        }
    }

    @Test
    void redisClockSyncsWithTheCluster() {
        RedisClock clock = new RedisClock(redis);
        clock.sync();
        assertThat(clock.known()).isTrue();
        long now = System.currentTimeMillis() * 1000;
        assertThat(clock.redisMicros(System.nanoTime())).isBetween(now - 1_000_000, now + 1_000_000);
    }

    @Test
    void changesAreAnnouncedAcrossTheCluster() throws Exception {
        BlockingQueue<String> heard = new LinkedBlockingQueue<>();
        JedisPubSub listener = new JedisPubSub() {
            @Override
            public void onMessage(String channel, String message) {
                heard.add(message);
            }
        };
        Thread subscriber = new Thread(() -> {
            try (RedisClusterClient own = RedisClusterClient.create(new HashSet<>(cluster.addresses()))) {
                own.subscribe(listener, keys.changesChannel());
            }
        });
        subscriber.start();
        try {
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(listener::isSubscribed);
            List<QueueName> queues = queuesOnEveryNode("2/1s");
            Set<String> expected = new HashSet<>();
            queues.forEach(queue -> expected.add(queue.value()));
            Set<String> got = new HashSet<>();
            while (!got.containsAll(expected)) {
                String message = heard.poll(5, TimeUnit.SECONDS);
                assertThat(message).as("announcements heard so far: " + got).isNotNull();
                got.add(message);
            }
        } finally {
            listener.unsubscribe();
            subscriber.join(5_000);
        }
    }
}
