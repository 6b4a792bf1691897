package dev.sluice.lua;

import static dev.sluice.lua.ScriptFixture.randomQueue;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.sluice.lua.ScriptFixture.Grant;
import dev.sluice.lua.ScriptFixture.Status;
import org.junit.jupiter.api.Test;

/** status.lua against a real redis-server. */
class StatusScriptIT extends ScriptTest {

    @Test
    void anUntouchedBucketIsFull() {
        String queue = randomQueue();
        redis.defineQueue(queue, 25, SECOND, 5);

        Status status = redis.status(queue);

        assertThat(status.status()).isZero();
        assertThat(status.tokens()).isEqualTo(5);
        assertThat(status.capacity()).isEqualTo(5);
        assertThat(status.permits()).isEqualTo(25);
        assertThat(status.periodMicros()).isEqualTo(SECOND);
        assertThat(status.next()).isEqualTo(status.now());
    }

    @Test
    void tokensGoDownAsTheyAreTakenAndStatusTakesNone() {
        String queue = randomQueue();
        redis.defineQueue(queue, 1, 60 * SECOND, 4);

        redis.acquire(queue, 3, 0);
        Status once = redis.status(queue);
        Status twice = redis.status(queue);

        assertThat(once.tokens()).isEqualTo(1);
        assertThat(twice.tokens()).isEqualTo(1);
        assertThat(redis.acquire(queue, 10, 0).granted()).isEqualTo(1);
        assertThat(redis.status(queue).tokens()).isZero();
    }

    @Test
    void nextTokenOfAnHourlyQueueIsAGuardedHourAfterTheGrant() {
        String queue = randomQueue();
        redis.defineQueue(queue, 1, 3600 * SECOND, 1);

        Grant grant = redis.acquire(queue, 1, 0);
        Status status = redis.status(queue);

        assertThat(status.tokens()).isZero();
        assertThat(status.next() - grant.slots().get(0)).isCloseTo(3636 * SECOND, within(1_000L));
        assertThat(status.periodMicros()).isEqualTo(3600 * SECOND); // the limit as given
    }

    @Test
    void unknownQueueIsReportedAndInactiveShowsItsFigures() {
        String inactive = randomQueue();
        redis.defineQueue(inactive, 10, SECOND, 2);
        redis.redis.hset(ScriptFixture.meta(inactive), "state", "inactive");

        assertThat(redis.status(randomQueue()).status()).isEqualTo(1);
        Status paused = redis.status(inactive);
        assertThat(paused.status()).isEqualTo(2);
        assertThat(paused.tokens()).isEqualTo(2);
    }
}
