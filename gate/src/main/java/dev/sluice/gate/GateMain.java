package dev.sluice.gate;

import java.util.concurrent.CountDownLatch;

/**
 * {@code java -cp … dev.sluice.gate.GateMain}: runs one gate until SIGTERM or Ctrl-C, configured by
 * environment variables (see {@link GateConfig#fromEnvironment} and the README).
 */
public final class GateMain {

    private GateMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
            System.out.println("""
                    Usage: sluice gate
                    Releases each queue's tasks from sluice.q.<queue> to sluice.ready at the queue's rate.
                    Configured by environment variables: KAFKA_BOOTSTRAP_SERVERS, REDIS_URL,
                    SLUICE_TOPIC_PREFIX, SLUICE_KEY_PREFIX, SLUICE_BUCKET_HORIZON_MS, SLUICE_GATE_ID,
                    SLUICE_GATE_MAX_BATCH, SLUICE_READY_PARTITIONS, SLUICE_GATE_FAIL_OPEN,
                    SLUICE_GATE_START_LEAD_MS.""");
            return;
        }
        GateConfig config;
        try {
            config = GateConfig.fromEnvironment(System.getenv());
        } catch (IllegalArgumentException e) {
            System.err.println("sluice gate: " + e.getMessage());
            System.exit(1);
            return;
        }
        Gate gate;
        try {
            gate = Gate.start(config);
        } catch (IllegalStateException | org.apache.kafka.common.KafkaException e) {
            System.err.println("sluice gate: cannot start: " + e.getMessage());
            System.exit(2);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            gate.close();
            stopped.countDown();
        }, "sluice-gate-shutdown"));
        stopped.await();
    }
}
