package dev.sluice.core.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

class RedisClockTest {

    /** Never connected: the readings here are given by hand. */
    private final RedisClock clock = new RedisClock(RedisClient.create(URI.create("redis://127.0.0.1:1")));

    @Test
    void mapsRedisTimeOntoLocalTimeTakingTheMiddleOfTheRoundTrip() {
        assertThat(clock.known()).isFalse();
        assertThatThrownBy(() -> clock.localNanos(0)).isInstanceOf(IllegalStateException.class);

        clock.observe(5_000_000L, 1_000_000L, 1_400_000L); // Redis 5 s read at local 1.2 ms, 0.4 ms round trip

        assertThat(clock.known()).isTrue();
        assertThat(clock.localNanos(5_000_000L)).isEqualTo(1_200_000L);
        assertThat(clock.localNanos(5_001_000L)).isEqualTo(2_200_000L);
        assertThat(clock.redisMicros(2_200_000L)).isEqualTo(5_001_000L);
        assertThat(clock.roundTripNanos()).isEqualTo(400_000L);
    }

    @Test
    void aReadingWithAMuchLongerRoundTripNeverMovesTheOffsetByThatMuch() {
        clock.observe(5_000_000L, 0, 2_000_000L); // 2 ms round trip, read at local 1 ms
        clock.observe(9_000_000L, 100_000_000L, 150_000_000L); // 50 ms: a pause, not taken
        assertThat(clock.localNanos(5_000_000L)).isEqualTo(1_000_000L);

        clock.observe(9_000_000L, 100_000_000L, 103_000_000L); // 3 ms: under twice the kept one, taken
        assertThat(clock.localNanos(9_000_000L)).isEqualTo(101_500_000L);

        // an hour on, the kept 3 ms counts as 3 ms + 18 ms of drift: a 100 ms reading is still not taken,
        // a 40 ms one is
        long hour = 3_600_000_000_000L;
        clock.observe(20_000_000L, hour, hour + 100_000_000L);
        assertThat(clock.localNanos(9_000_000L)).isEqualTo(101_500_000L);
        clock.observe(20_000_000L, hour, hour + 40_000_000L);
        assertThat(clock.localNanos(20_000_000L)).isEqualTo(hour + 20_000_000L);
    }

    @Test
    void theClockIsKnownOnceAShortRoundTripWasReadOrAfterTenSecondsOfLongOnes() {
        clock.observe(5_000_000L, 0, 300_000_000L); // 300 ms: a cold start on a busy machine
        assertThat(clock.known()).isFalse();
        clock.observe(5_200_000L, 200_000_000L, 205_000_000L); // 5 ms: better, still not trusted
        assertThat(clock.known()).isFalse();
        assertThat(clock.localNanos(5_200_000L)).isEqualTo(202_500_000L);

        RedisClock other = new RedisClock(RedisClient.create(URI.create("redis://127.0.0.1:1")));
        other.observe(5_000_000L, 0, 30_000_000L);
        other.observe(15_000_000L, 10_000_000_000L, 10_030_000_000L);
        assertThat(other.known()).isTrue(); // ten seconds of 30 ms round trips: the best of them will do

        clock.observe(5_400_000L, 400_000_000L, 400_500_000L);
        assertThat(clock.known()).isTrue();
    }
}
