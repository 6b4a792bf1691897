package dev.sluice.lua;

import static dev.sluice.lua.ScriptFixture.randomQueue;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** queue_create.lua, queue_update.lua and queue_delete.lua against a real redis-server. */
class QueueScriptsIT extends ScriptTest {

    private static Object run(String script, List<String> keys, List<String> args) {
        return redis.redis.eval(ScriptFixture.source(script), keys, args);
    }

    @Test
    void createWritesTheFieldsOnceAndRefusesASecondTime() {
        String queue = randomQueue();
        List<String> keys = List.of(ScriptFixture.meta(queue));

        long created = (Long) run("queue_create", keys, List.of("permits", "5", "state", "active"));
        long again = (Long) run("queue_create", keys, List.of("permits", "9", "state", "inactive"));

        assertThat(created).isGreaterThan(1_700_000_000_000_000L);
        assertThat(again).isZero();
        assertThat(redis.redis.hgetAll(ScriptFixture.meta(queue)))
                .containsEntry("permits", "5")
                .containsEntry("state", "active")
                .containsEntry("created_at_us", String.valueOf(created));
    }

    @Test
    void updateChangesAnExistingQueueAndNeverCreatesOne() {
        String queue = randomQueue();
        List<String> keys = List.of(ScriptFixture.meta(queue));

        long missing = (Long) run("queue_update", keys, List.of("state", "inactive"));
        run("queue_create", keys, List.of("permits", "5", "state", "active"));
        long updated = (Long) run("queue_update", keys, List.of("state", "inactive"));

        assertThat(missing).isZero();
        assertThat(updated).isEqualTo(1);
        assertThat(redis.redis.hget(ScriptFixture.meta(queue), "state")).isEqualTo("inactive");
        assertThat(redis.redis.hget(ScriptFixture.meta(queue), "permits")).isEqualTo("5");
    }

    @Test
    void deleteRemovesMetaBucketStatsAndTheOtherKeysNamed() {
        String queue = randomQueue();
        redis.defineQueue(queue, 1, 1_000_000, 1);
        redis.acquire(queue, 1, 0);
        redis.redis.hset(ScriptFixture.stats(queue), "released", "1");
        String perSecond = "sluice:{" + queue + "}:released:1700000000";
        redis.redis.set(perSecond, "3");
        List<String> keys = List.of(ScriptFixture.meta(queue), ScriptFixture.bucket(queue), ScriptFixture.stats(queue),
                perSecond);

        long existed = (Long) run("queue_delete", keys, List.of());
        long again = (Long) run("queue_delete", keys, List.of());

        assertThat(existed).isEqualTo(1);
        assertThat(again).isZero();
        assertThat(redis.redis.exists(keys.toArray(String[]::new))).isZero();
    }
}
