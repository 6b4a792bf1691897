package dev.sluice.gate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {

    @Test
    void doublesUpToTheLastDelayAndStartsOverAfterReset() {
        Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofMillis(500));

        assertThat(backoff.nextDelayNanos()).isEqualTo(100_000_000L);
        assertThat(backoff.nextDelayNanos()).isEqualTo(200_000_000L);
        assertThat(backoff.nextDelayNanos()).isEqualTo(400_000_000L);
        assertThat(backoff.nextDelayNanos()).isEqualTo(500_000_000L);
        assertThat(backoff.nextDelayNanos()).isEqualTo(500_000_000L);
        backoff.reset();
        assertThat(backoff.nextDelayNanos()).isEqualTo(100_000_000L);
    }

    @Test
    void refusesNonsense() {
        assertThatThrownBy(() -> new Backoff(Duration.ZERO, Duration.ofSeconds(1))).hasMessageContaining("0 < first");
        assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .hasMessageContaining("first <= last");
    }
}
