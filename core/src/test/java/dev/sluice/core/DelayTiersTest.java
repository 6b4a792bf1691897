package dev.sluice.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DelayTiersTest {

    @Test
    void aDelayWaitsInTheShortestTierAtLeastAsLong() {
        assertThat(DelayTiers.tierFor(Duration.ZERO)).isEqualTo(Duration.ofSeconds(1));
        assertThat(DelayTiers.tierFor(Duration.ofMillis(1500))).isEqualTo(Duration.ofSeconds(2));
        assertThat(DelayTiers.tierFor(Duration.ofSeconds(5))).isEqualTo(Duration.ofSeconds(5));
        assertThat(DelayTiers.tierFor(Duration.ofSeconds(61))).isEqualTo(Duration.ofMinutes(2));
        assertThat(DelayTiers.tierFor(Duration.ofHours(5))).isEqualTo(Duration.ofHours(1));
    }

    @Test
    void tiersNameTheirTopics() {
        assertThat(Topics.defaults().delay(Duration.ofSeconds(30))).isEqualTo("sluice.delay.30s");
        assertThat(Topics.defaults().delay(Duration.ofMinutes(10))).isEqualTo("sluice.delay.10m");
        assertThat(Topics.defaults().delay(Duration.ofHours(1))).isEqualTo("sluice.delay.1h");
    }
}
