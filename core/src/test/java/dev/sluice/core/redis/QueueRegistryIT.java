package dev.sluice.core.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.core.Queue;
import dev.sluice.core.QueueName;
import dev.sluice.core.QueueSpec;
import dev.sluice.core.QueueState;
import dev.sluice.core.RateLimit;
import dev.sluice.core.RedisKeys;
import dev.sluice.embedded.SharedServers;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.JedisPubSub;
import redis.clients.jedis.RedisClient;

/** Queue metadata on a real redis-server; each test has its own key prefix, so lists are its own. */
class QueueRegistryIT {

    private static RedisClient redis;
    private RedisKeys keys;
    private QueueRegistry registry;

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
    }

    @Test
    void createsAnActiveQueueWithItsSpecAndServerTime() {
        QueueName name = QueueName.generate();
        Instant before = Instant.now().minusSeconds(5);

        Queue queue = registry.create(name, new QueueSpec(RateLimit.parse("5/60s"), 2, Duration.ofMinutes(10)));

        assertThat(queue.name()).isEqualTo(name);
        assertThat(queue.spec().rateLimit()).isEqualTo(RateLimit.parse("5/60s"));
        assertThat(queue.spec().burst()).isEqualTo(2);
        assertThat(queue.spec().idleTtl()).isEqualTo(Duration.ofMinutes(10));
        assertThat(queue.spec().maxAttempts()).isEqualTo(QueueSpec.DEFAULT_MAX_ATTEMPTS);
        assertThat(queue.state()).isEqualTo(QueueState.ACTIVE);
        assertThat(queue.createdAt()).isAfter(before).isEqualTo(queue.updatedAt());
        assertThat(registry.get(name)).isEqualTo(queue);
        assertThat(redis.hget(keys.meta(name), "rate_limit")).isEqualTo("5/60s");
    }

    @Test
    void refusesToCreateAQueueTwice() {
        QueueName name = QueueName.of("emails");
        registry.create(name, QueueSpec.of(RateLimit.parse("5/60s")));

        assertThatThrownBy(() -> registry.create(name, QueueSpec.of(RateLimit.parse("9/1s"))))
                .isInstanceOf(QueueExistsException.class)
                .hasMessage("queue \"emails\" already exists");
        assertThat(registry.get(name).spec().rateLimit()).isEqualTo(RateLimit.parse("5/60s"));
    }

    @Test
    void listsEveryQueueByNameAndSkipsIndexEntriesWithoutMetadata() {
        registry.create(QueueName.of("b"), QueueSpec.of(RateLimit.parse("1/1s")));
        registry.create(QueueName.of("a"), QueueSpec.of(RateLimit.parse("2/1s")));
        redis.sadd(keys.index(), "crashed-before-meta", "not a queue name");

        List<Queue> queues = registry.list();

        assertThat(queues).extracting(q -> q.name().value()).containsExactly("a", "b");
    }

    @Test
    void updatesRateBurstTtlAndState() {
        QueueName name = QueueName.generate();
        registry.create(name, QueueSpec.of(RateLimit.parse("2/1s")));

        registry.updateRateLimit(name, RateLimit.parse("20/1s"));
        registry.updateBurst(name, 4);
        registry.updateIdleTtl(name, Duration.ZERO);
        registry.updateMaxAttempts(name, 7);
        Queue queue = registry.setState(name, QueueState.INACTIVE);

        assertThat(queue.spec()).isEqualTo(new QueueSpec(RateLimit.parse("20/1s"), 4, Duration.ZERO, 7));
        assertThat(queue.state()).isEqualTo(QueueState.INACTIVE);
        assertThat(queue.updatedAt()).isAfterOrEqualTo(queue.createdAt());
        assertThat(registry.setState(name, QueueState.ACTIVE).isActive()).isTrue();
    }

    @Test
    void changesToAnUnknownQueueFailAndCreateNothing() {
        QueueName ghost = QueueName.generate();

        assertThatThrownBy(() -> registry.updateRateLimit(ghost, RateLimit.parse("1/1s")))
                .isInstanceOf(UnknownQueueException.class)
                .hasMessageContaining("does not exist");
        assertThatThrownBy(() -> registry.setState(ghost, QueueState.INACTIVE))
                .isInstanceOf(UnknownQueueException.class);
        assertThatThrownBy(() -> registry.get(ghost)).isInstanceOf(UnknownQueueException.class);
        assertThat(registry.find(ghost)).isEmpty();
        assertThat(redis.exists(keys.meta(ghost))).isFalse();
    }

    @Test
    void invalidBurstIsRefusedBeforeRedisIsTouched() {
        QueueName name = QueueName.generate();
        registry.create(name, QueueSpec.of(RateLimit.parse("2/1s")));

        assertThatThrownBy(() -> registry.updateBurst(name, 0)).hasMessageContaining("burst");
        assertThat(registry.get(name).spec().burst()).isEqualTo(1);
    }

    @Test
    void removeDeletesEveryKeyAndTheIndexEntry() {
        QueueName name = QueueName.generate();
        registry.create(name, QueueSpec.of(RateLimit.parse("2/1s")));
        new TokenBucket(redis, keys, Duration.ZERO).acquire(name, 1);
        redis.hset(keys.stats(name), "released", "1");
        long second = System.currentTimeMillis() / 1000 - 100;
        redis.setex(keys.releasedInSecond(name, second), 300, "4");

        assertThat(registry.remove(name)).isTrue();
        assertThat(redis.exists(keys.releasedInSecond(name, second))).isFalse();
        assertThat(registry.remove(name)).isFalse();
        assertThat(redis.exists(keys.meta(name), keys.bucket(name), keys.stats(name))).isZero();
        assertThat(redis.sismember(keys.index(), name.value())).isFalse();
        assertThat(registry.list()).isEmpty();
    }

    @Test
    void announcesEveryChangeOnTheChangesChannel() throws Exception {
        BlockingQueue<String> heard = new LinkedBlockingQueue<>();
        JedisPubSub listener = new JedisPubSub() {
            @Override
            public void onMessage(String channel, String message) {
                heard.add(message);
            }
        };
        Thread subscriber = new Thread(() -> {
            try (RedisClient own = RedisClient.create(URI.create(SharedServers.redisUri()))) {
                own.subscribe(listener, keys.changesChannel());
            }
        });
        subscriber.start();
        try {
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(listener::isSubscribed);
            QueueName name = QueueName.generate();

            registry.create(name, QueueSpec.of(RateLimit.parse("2/1s")));
            registry.updateRateLimit(name, RateLimit.parse("3/1s"));
            registry.setState(name, QueueState.INACTIVE);
            registry.remove(name);

            for (int i = 0; i < 4; i++) {
                assertThat(heard.poll(5, TimeUnit.SECONDS)).isEqualTo(name.value());
            }
        } finally {
            listener.unsubscribe();
            subscriber.join(5000);
        }
    }
}
