package dev.sluice.gate;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ClockSyncTest {

    @Test
    void mapsRedisTimeOntoLocalTimeTakingTheMiddleOfTheRoundTrip() {
        ClockSync clock = new ClockSync();
        assertThat(clock.known()).isFalse();

        clock.observe(5_000_000L, 1_000_000L, 3_000_000L); // Redis 5 s read at local 2 ms

        assertThat(clock.known()).isTrue();
        assertThat(clock.localNanos(5_000_000L)).isEqualTo(2_000_000L);
        assertThat(clock.localNanos(5_001_000L)).isEqualTo(3_000_000L);
        assertThat(clock.redisMicros(3_000_000L)).isEqualTo(5_001_000L);
    }
}
