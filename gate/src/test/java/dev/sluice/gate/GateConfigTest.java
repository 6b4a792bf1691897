package dev.sluice.gate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class GateConfigTest {

    @Test
    void defaultsFailClosedWithBatchesOfFiveThousand() {
        GateConfig config = GateConfig.fromEnvironment(Map.of());

        assertThat(config.failOpen()).isFalse();
        assertThat(config.maxBatch()).isEqualTo(5000);
        assertThat(config.readyPartitions()).isEqualTo(8);
        assertThat(config.instanceId()).isNotBlank();
        assertThat(config.startLead()).hasMillis(200);
        assertThat(Gate.group(config)).isEqualTo("sluice-gate");
    }

    @Test
    void readsItsVariables() {
        GateConfig config = GateConfig.fromEnvironment(Map.of(
                "SLUICE_GATE_ID", "gate-1", "SLUICE_GATE_MAX_BATCH", "50",
                "SLUICE_READY_PARTITIONS", "3", "SLUICE_GATE_FAIL_OPEN", "true", "SLUICE_TOPIC_PREFIX", "acme",
                "SLUICE_GATE_START_LEAD_MS", "500"));

        assertThat(config.instanceId()).isEqualTo("gate-1");
        assertThat(config.maxBatch()).isEqualTo(50);
        assertThat(config.readyPartitions()).isEqualTo(3);
        assertThat(config.failOpen()).isTrue();
        assertThat(config.startLead()).hasMillis(500);
        assertThat(Gate.group(config)).isEqualTo("acme-gate");
    }

    @Test
    void namesWhatIsWrong() {
        assertThatThrownBy(() -> GateConfig.fromEnvironment(Map.of("SLUICE_GATE_MAX_BATCH", "lots")))
                .hasMessageContaining("SLUICE_GATE_MAX_BATCH must be a whole number");
        assertThatThrownBy(() -> GateConfig.fromEnvironment(Map.of("SLUICE_GATE_MAX_BATCH", "0")))
                .hasMessageContaining("between 1 and 10000");
        assertThatThrownBy(() -> GateConfig.fromEnvironment(Map.of("SLUICE_GATE_FAIL_OPEN", "maybe")))
                .hasMessageContaining("SLUICE_GATE_FAIL_OPEN must be true or false");
        assertThatThrownBy(() -> GateConfig.fromEnvironment(Map.of("SLUICE_GATE_ID", "a b")))
                .hasMessageContaining("instance id");
        assertThatThrownBy(() -> GateConfig.fromEnvironment(Map.of("SLUICE_GATE_START_LEAD_MS", "20000")))
                .hasMessageContaining("start lead must be between 0 and 10000 ms");
    }
}
