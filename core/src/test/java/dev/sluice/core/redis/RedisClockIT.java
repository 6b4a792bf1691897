package dev.sluice.core.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.embedded.SharedServers;
import java.net.URI;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

class RedisClockIT {

    @Test
    void readsRedissClockWithinHalfARoundTrip() {
        try (RedisClient redis = RedisClient.create(URI.create(SharedServers.redisUri()))) {
            RedisClock clock = new RedisClock(redis);
            clock.sync();

            // Redis runs on this host: its clock and ours agree to well within a few milliseconds
            long wallMicros = System.currentTimeMillis() * 1_000;
            long redisMicros = clock.redisMicros(System.nanoTime());
            assertThat(Math.abs(redisMicros - wallMicros)).isLessThan(20_000);
            assertThat(clock.roundTripNanos()).isPositive().isLessThan(50_000_000L);

            long before = clock.localNanos(redisMicros);
            clock.sync();
            assertThat(Math.abs(clock.localNanos(redisMicros) - before)).isLessThan(5_000_000L);
        }
    }
}
