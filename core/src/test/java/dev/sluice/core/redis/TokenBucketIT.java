package dev.sluice.core.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.sluice.core.QueueName;
import dev.sluice.core.QueueSpec;
import dev.sluice.core.QueueState;
import dev.sluice.core.RateLimit;
import dev.sluice.core.RedisKeys;
import dev.sluice.core.StartGuard;
import dev.sluice.embedded.SharedServers;
import java.net.URI;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

/** The Java token bucket over the Lua scripts, on a real redis-server. */
class TokenBucketIT {

    private static RedisClient redis;
    private static QueueRegistry registry;

    @BeforeAll
    static void connect() {
        redis = RedisClient.create(URI.create(SharedServers.redisUri()));
        registry = new QueueRegistry(redis, RedisKeys.defaults());
    }

    @AfterAll
    static void disconnect() {
        redis.close();
    }

    private static QueueName newQueue(String rate, int burst) {
        QueueName name = QueueName.generate();
        registry.create(name, QueueSpec.of(RateLimit.parse(rate)).withBurst(burst));
        return name;
    }

    @Test
    void grantsReservedSlotsWithinTheHorizon() {
        TokenBucket bucket = new TokenBucket(redis, RedisKeys.defaults(), Duration.ofMillis(50));
        QueueName queue = newQueue("1000/1s", 1);

        Acquisition acquisition = bucket.acquire(queue, 500);

        // the schedule keeps its guard: 1000/1s runs at one per 1,010 µs
        assertThat(acquisition.outcome()).isEqualTo(Acquisition.Outcome.OK);
        assertThat(acquisition.granted()).isEqualTo(50);
        assertThat(acquisition.slotMicros(0)).isEqualTo(acquisition.nowMicros());
        assertThat(acquisition.slotMicros(49) - acquisition.nowMicros()).isEqualTo(49 * 1_010);
        assertThat(acquisition.slots().get(1))
                .isEqualTo(acquisition.slots().get(0).plus(1_010, ChronoUnit.MICROS));
        assertThat(acquisition.waitForNext()).contains(Duration.ofNanos(50 * 1_010_000));
        assertThat(acquisition.toleranceMicros()).isEqualTo(StartGuard.toleranceMicros(1000, 1_000_000));
    }

    @Test
    void withoutHorizonGrantsOnlyWhatIsDueNow() {
        TokenBucket bucket = new TokenBucket(redis, RedisKeys.defaults(), Duration.ZERO);
        QueueName queue = newQueue("10/1s", 3);

        Acquisition first = bucket.acquire(queue, 10);
        Acquisition second = bucket.acquire(queue, 10);

        assertThat(first.granted()).isEqualTo(3);
        assertThat(second.granted()).isZero();
        assertThat(second.waitForNext().orElseThrow().toMillis()).isBetween(90L, 101L);
    }

    @Test
    void inactiveAndUnknownQueuesAreToldApart() {
        TokenBucket bucket = new TokenBucket(redis, RedisKeys.defaults(), Duration.ZERO);
        QueueName paused = newQueue("10/1s", 1);
        registry.setState(paused, QueueState.INACTIVE);

        assertThat(bucket.acquire(paused, 1).outcome()).isEqualTo(Acquisition.Outcome.INACTIVE);
        assertThat(bucket.acquire(QueueName.generate(), 1).outcome()).isEqualTo(Acquisition.Outcome.UNKNOWN_QUEUE);
        assertThat(bucket.acquire(paused, 1).waitForNext()).isEmpty();
    }

    @Test
    void statusShowsTokensCapacityRateAndNextToken() {
        TokenBucket bucket = new TokenBucket(redis, RedisKeys.defaults(), Duration.ZERO);
        QueueName queue = newQueue("1/3600s", 1);

        Acquisition taken = bucket.acquire(queue, 1);
        BucketStatus status = bucket.status(queue);

        assertThat(status.tokens()).isZero();
        assertThat(status.capacity()).isEqualTo(1);
        assertThat(status.refillPerSecond()).isCloseTo(1 / 3600.0, within(1e-12));
        // the next comes a guarded period later: 3,600 s and a hundredth
        assertThat(Duration.between(taken.slots().get(0), status.nextTokenAt()))
                .isBetween(Duration.ofSeconds(3636).minusMillis(1), Duration.ofSeconds(3636).plusMillis(1));
        assertThat(status.active()).isTrue();
        assertThatThrownBy(() -> bucket.status(QueueName.generate())).isInstanceOf(UnknownQueueException.class);
    }

    @Test
    void statusOfManyQueuesSkipsTheUnknownOnesAndKeepsTheOrder() {
        TokenBucket bucket = new TokenBucket(redis, RedisKeys.defaults(), Duration.ZERO);
        QueueName full = newQueue("5/1s", 4);
        QueueName empty = newQueue("1/3600s", 1);
        bucket.acquire(empty, 1);
        QueueName missing = QueueName.generate();

        java.util.Map<QueueName, BucketStatus> statuses = bucket.statusAll(List.of(empty, missing, full));

        assertThat(statuses.keySet()).containsExactly(empty, full);
        assertThat(statuses.get(full).tokens()).isEqualTo(4);
        assertThat(statuses.get(empty).tokens()).isZero();
        assertThat(statuses.get(empty).nextTokenAt()).isAfter(statuses.get(empty).now().plusSeconds(3599));
    }

    @Test
    void scriptsAreLoadedOnceAndReloadedAfterAFlush() {
        ScriptRunner scripts = new ScriptRunner(redis);
        TokenBucket bucket = new TokenBucket(scripts, RedisKeys.defaults(), Duration.ZERO);
        QueueName queue = newQueue("100/1s", 100);
        redis.scriptFlush();

        for (int i = 0; i < 5; i++) {
            bucket.acquire(queue, 1);
        }
        long afterFirstLoad = scripts.loads();
        redis.scriptFlush();
        Acquisition afterFlush = bucket.acquire(queue, 1);

        assertThat(afterFirstLoad).isEqualTo(1);
        assertThat(scripts.loads()).isEqualTo(2);
        assertThat(afterFlush.granted()).isEqualTo(1);
    }

    @Test
    void refusesBatchesOutsideItsBounds() {
        TokenBucket bucket = new TokenBucket(redis, RedisKeys.defaults(), Duration.ZERO);

        assertThatThrownBy(() -> bucket.acquire(QueueName.generate(), -1)).hasMessageContaining("between 0 and");
        assertThatThrownBy(() -> bucket.acquire(QueueName.generate(), 10_001)).hasMessageContaining("between 0 and");
        assertThatThrownBy(() -> new TokenBucket(redis, RedisKeys.defaults(), Duration.ofSeconds(2)))
                .hasMessageContaining("horizon");
    }

    @Test
    void aLeadPutsEverySlotThatFarAfterRedissClockAndTheToleranceComesWithTheGrant() {
        TokenBucket bucket = new TokenBucket(redis, RedisKeys.defaults(), Duration.ZERO);
        QueueName queue = newQueue("10/1s", 1);

        Acquisition first = bucket.acquireAll(List.of(new TokenBucket.Request(queue, 5)), Duration.ofMillis(250),
                Duration.ofMillis(200)).get(0);
        Acquisition second = bucket.acquireAll(List.of(new TokenBucket.Request(queue, 5)), Duration.ZERO,
                Duration.ZERO).get(0);

        // slots 200, 301, 402 ms after now (10/1s at one per 101 ms); the next after the last of them
        assertThat(first.granted()).isEqualTo(3);
        assertThat(first.slotMicros(0) - first.nowMicros()).isEqualTo(200_000);
        assertThat(first.slotMicros(2) - first.slotMicros(0)).isEqualTo(202_000);
        assertThat(first.toleranceMicros()).isEqualTo(5_000);
        assertThat(second.granted()).isZero();
        assertThat(second.nextTokenMicros()).isEqualTo(first.slotMicros(2) + 101_000);
        assertThatThrownBy(() -> bucket.acquireAll(List.of(), Duration.ZERO, Duration.ofSeconds(11)))
                .hasMessageContaining("start lead");
    }

    @Test
    void theScriptAndStartGuardAgreeOnTheScheduleAndTheTolerance() {
        TokenBucket bucket = new TokenBucket(redis, RedisKeys.defaults(), Duration.ofSeconds(1));
        for (String limit : List.of("1/1ms", "7/100ms", "10/1s", "200/1s", "2000/1s", "3/7s", "1/3600s")) {
            RateLimit rate = RateLimit.parse(limit);
            QueueName queue = newQueue(limit, 1);

            Acquisition first = bucket.acquire(queue, 2);
            long spacing = first.granted() == 2 ? first.slotMicros(1) - first.slotMicros(0)
                    : first.nextTokenMicros() - first.slotMicros(0);

            assertThat(first.toleranceMicros()).as(limit)
                    .isEqualTo(StartGuard.toleranceMicros(rate.permits(), rate.periodMicros()));
            assertThat(spacing).as(limit).isBetween(
                    StartGuard.guardedPeriodMicros(rate.periodMicros()) / rate.permits(),
                    StartGuard.guardedPeriodMicros(rate.periodMicros()) / rate.permits() + 1);
        }
    }

    @Test
    void acquiresForManyQueuesInOneRoundTripEachOnItsOwnBucket() {
        ScriptRunner scripts = new ScriptRunner(redis);
        TokenBucket bucket = new TokenBucket(scripts, RedisKeys.defaults(), Duration.ZERO);
        QueueName slow = newQueue("1/60s", 1);
        QueueName bursty = newQueue("10/1s", 3);
        QueueName paused = newQueue("10/1s", 1);
        registry.setState(paused, QueueState.INACTIVE);
        QueueName missing = QueueName.generate();
        redis.scriptFlush(); // the pipeline finds the script unknown and must not acquire twice

        List<Acquisition> first = bucket.acquireAll(List.of(new TokenBucket.Request(slow, 5),
                new TokenBucket.Request(bursty, 5), new TokenBucket.Request(paused, 5),
                new TokenBucket.Request(missing, 5)), Duration.ZERO);
        List<Acquisition> second = bucket.acquireAll(List.of(new TokenBucket.Request(slow, 5),
                new TokenBucket.Request(bursty, 5)), Duration.ZERO);

        assertThat(first).extracting(Acquisition::outcome).containsExactly(Acquisition.Outcome.OK,
                Acquisition.Outcome.OK, Acquisition.Outcome.INACTIVE, Acquisition.Outcome.UNKNOWN_QUEUE);
        assertThat(first).extracting(Acquisition::granted).containsExactly(1, 3, 0, 0);
        assertThat(second).extracting(Acquisition::granted).containsExactly(0, 0);
        assertThat(scripts.loads()).isEqualTo(1);
    }
}
