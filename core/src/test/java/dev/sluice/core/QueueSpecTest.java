package dev.sluice.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class QueueSpecTest {

    private static final RateLimit FIVE_A_MINUTE = RateLimit.parse("5/60s");

    @Test
    void defaultsToStrictBurstAndAnHourOfIdleTime() {
        QueueSpec spec = QueueSpec.of(FIVE_A_MINUTE);

        assertThat(spec.burst()).isEqualTo(1);
        assertThat(spec.idleTtl()).isEqualTo(Duration.ofHours(1));
    }

    @Test
    void refusesBurstBelowOneOrAboveTheMaximum() {
        assertThatThrownBy(() -> QueueSpec.of(FIVE_A_MINUTE).withBurst(0)).hasMessageContaining("burst");
        assertThatThrownBy(() -> QueueSpec.of(FIVE_A_MINUTE).withBurst(1_000_001)).hasMessageContaining("burst");
        assertThat(QueueSpec.of(FIVE_A_MINUTE).withBurst(1_000_000).burst()).isEqualTo(1_000_000);
    }

    @Test
    void acceptsZeroTtlAsNeverAndRefusesNegativeOrFractional() {
        assertThat(QueueSpec.of(FIVE_A_MINUTE).withIdleTtl(Duration.ZERO).idleTtl()).isZero();
        assertThatThrownBy(() -> QueueSpec.of(FIVE_A_MINUTE).withIdleTtl(Duration.ofSeconds(-1)))
                .hasMessageContaining("0 (never) or more");
        assertThatThrownBy(() -> QueueSpec.of(FIVE_A_MINUTE).withIdleTtl(Duration.ofMillis(1500)))
                .hasMessageContaining("whole number of seconds");
    }

    @Test
    void triesThreeTimesByDefaultAndRefusesNonsense() {
        assertThat(QueueSpec.of(FIVE_A_MINUTE).maxAttempts()).isEqualTo(3);
        assertThat(QueueSpec.of(FIVE_A_MINUTE).withMaxAttempts(1).maxAttempts()).isEqualTo(1);
        assertThatThrownBy(() -> QueueSpec.of(FIVE_A_MINUTE).withMaxAttempts(0)).hasMessageContaining("max attempts");
        assertThatThrownBy(() -> QueueSpec.of(FIVE_A_MINUTE).withMaxAttempts(101)).hasMessageContaining("between 1 and 100");
    }
}
