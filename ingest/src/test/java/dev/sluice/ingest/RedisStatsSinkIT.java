package dev.sluice.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.QueueName;
import dev.sluice.core.QueueSpec;
import dev.sluice.core.RateLimit;
import dev.sluice.core.RedisKeys;
import dev.sluice.core.TaskEvent;
import dev.sluice.core.redis.QueueRegistry;
import dev.sluice.embedded.SharedServers;
import java.net.URI;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

class RedisStatsSinkIT {

    @Test
    void writesAbsoluteStatisticsOnlyWhileTheQueueExists() {
        try (RedisClient redis = RedisClient.create(URI.create(SharedServers.redisUri()))) {
            RedisKeys keys = new RedisKeys("st" + UUID.randomUUID().toString().substring(0, 8));
            QueueRegistry registry = new QueueRegistry(redis, keys);
            QueueName queue = QueueName.generate();
            registry.create(queue, QueueSpec.of(RateLimit.parse("5/1s")));
            RedisStatsSink sink = new RedisStatsSink(redis, keys);

            sink.total(queue, TaskEvent.Type.released, 40);
            sink.total(queue, TaskEvent.Type.released, 42); // a later absolute value replaces it
            sink.total(queue, TaskEvent.Type.completed, 7);
            sink.releasedInSecond(queue, 1_700_000_000_000L, 5);
            sink.releasedInSecond(queue, 1_700_000_009_000L, 1);
            sink.releasedInSecond(queue, 1_699_999_998_000L, 2); // late: a second before the first seen
            sink.releasedInSecond(queue, 1_700_000_004_000L, 3);
            sink.firstReleases(queue, 9);

            assertThat(redis.hgetAll(keys.stats(queue))).containsEntry("released", "42").containsEntry("completed", "7")
                    .containsEntry(RedisStatsSink.FIRST_RELEASE_SECOND, "1699999998")
                    .containsEntry(RedisStatsSink.LAST_RELEASE_SECOND, "1700000009")
                    .containsEntry(RedisStatsSink.FIRST_RELEASES, "9");
            assertThat(redis.get(keys.releasedInSecond(queue, 1_700_000_000L))).isEqualTo("5");
            assertThat(redis.pttl(keys.releasedInSecond(queue, 1_700_000_000L))).isBetween(290_000L, 300_000L);

            registry.remove(queue);
            sink.total(queue, TaskEvent.Type.released, 43);
            assertThat(redis.exists(keys.stats(queue))).isFalse();
        }
    }
}
