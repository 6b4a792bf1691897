package dev.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WorkerConfigTest {

    @Test
    void defaultsToFourAtOnceThreeAttemptsAndTheLoggingHandler() {
        WorkerConfig config = WorkerConfig.fromEnvironment(Map.of());

        assertThat(config.concurrency()).isEqualTo(4);
        assertThat(config.maxAttempts()).isEqualTo(3);
        assertThat(config.handlerTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(config.handler()).isEqualTo("log");
        assertThat(Worker.group(config)).isEqualTo("sluice-worker");
    }

    @Test
    void readsItsVariablesAndNamesWhatIsWrong() {
        WorkerConfig config = WorkerConfig.fromEnvironment(Map.of("SLUICE_WORKER_CONCURRENCY", "16",
                "SLUICE_WORKER_MAX_ATTEMPTS", "5", "SLUICE_WORKER_TIMEOUT_MS", "2500", "SLUICE_WORKER_HANDLER", "http"));

        assertThat(config.concurrency()).isEqualTo(16);
        assertThat(config.maxAttempts()).isEqualTo(5);
        assertThat(config.handlerTimeout()).isEqualTo(Duration.ofMillis(2500));
        assertThat(config.handler()).isEqualTo("http");
        assertThatThrownBy(() -> WorkerConfig.fromEnvironment(Map.of("SLUICE_WORKER_CONCURRENCY", "0")))
                .hasMessageContaining("between 1 and 1000");
        assertThatThrownBy(() -> WorkerConfig.fromEnvironment(Map.of("SLUICE_WORKER_MAX_ATTEMPTS", "x")))
                .hasMessageContaining("SLUICE_WORKER_MAX_ATTEMPTS must be a whole number");
    }

    @Test
    void readsTheModeAndFitsTheShareGroupsLockAroundTheTimeout() {
        assertThat(WorkerConfig.fromEnvironment(Map.of()).mode()).isEqualTo(WorkerConfig.Mode.GROUP);
        assertThat(WorkerConfig.fromEnvironment(Map.of("SLUICE_WORKER_MODE", "Share")).mode())
                .isEqualTo(WorkerConfig.Mode.SHARE);
        assertThatThrownBy(() -> WorkerConfig.fromEnvironment(Map.of("SLUICE_WORKER_MODE", "queue")))
                .hasMessageContaining("SLUICE_WORKER_MODE must be group or share, got \"queue\"");
        assertThat(WorkerConfig.fromEnvironment(Map.of()).sluice().topics().workerShareGroup())
                .isEqualTo("sluice-worker-share");
        // the handler timeout plus 10 s, within Kafka's default bounds of 15 s and 60 s
        assertThat(ShareGroups.lockFor(Duration.ofSeconds(30))).isEqualTo(Duration.ofSeconds(40));
        assertThat(ShareGroups.lockFor(Duration.ofSeconds(1))).isEqualTo(Duration.ofSeconds(15));
        assertThat(ShareGroups.lockFor(Duration.ofMinutes(5))).isEqualTo(Duration.ofSeconds(60));
        assertThat(ShareLoop.consumerCount(2)).isEqualTo(2);
        assertThat(ShareLoop.consumerCount(64)).isEqualTo(ShareLoop.MAX_CONSUMERS);
    }

    @Test
    void anUnknownHandlerIsRefusedAtStart() {
        WorkerConfig config = WorkerConfig.of(dev.sluice.core.SluiceConfig.defaults()).withHandler("carrier-pigeon");

        assertThatThrownBy(() -> Worker.start(config)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no task handler named \"carrier-pigeon\"").hasMessageContaining("http")
                .hasMessageContaining("log");
    }

    @Test
    void readsAHandlerPerQueue() {
        WorkerConfig config = WorkerConfig.fromEnvironment(Map.of("SLUICE_WORKER_QUEUE_HANDLERS", "payments=http, audit=log"));

        assertThat(config.queueHandlers()).containsEntry("payments", "http").containsEntry("audit", "log");
        assertThatThrownBy(() -> WorkerConfig.fromEnvironment(Map.of("SLUICE_WORKER_QUEUE_HANDLERS", "payments")))
                .hasMessageContaining("queue=handler");
        assertThatThrownBy(() -> WorkerConfig.fromEnvironment(Map.of("SLUICE_WORKER_QUEUE_HANDLERS", "a.b=http")))
                .hasMessageContaining("invalid queue name");
    }
}
