package dev.sluice.ingest;

import dev.sluice.core.SluiceConfig;
import java.util.concurrent.CountDownLatch;

/**
 * {@code java -cp … dev.sluice.ingest.RouterMain}: runs the router until SIGTERM or Ctrl-C, configured
 * by environment variables.
 */
public final class RouterMain {

    private RouterMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
            System.out.println("""
                    Usage: sluice ingest
                    Routes submissions from sluice.tasks (key = queue name) to sluice.q.<queue>, or to
                    sluice.rejected with the reason in sluice-reject-reason.
                    Configured by environment variables: KAFKA_BOOTSTRAP_SERVERS, REDIS_URL,
                    SLUICE_TOPIC_PREFIX, SLUICE_KEY_PREFIX, SLUICE_MAX_PAYLOAD_BYTES (1048576),
                    SLUICE_MAX_HEADER_BYTES (16384).""");
            return;
        }
        Router router;
        try {
            SluiceConfig config = SluiceConfig.fromEnvironment(System.getenv());
            router = Router.start(config, dev.sluice.core.RecordLimits.fromEnvironment(System.getenv()));
        } catch (IllegalArgumentException e) {
            System.err.println("sluice ingest: " + e.getMessage());
            System.exit(1);
            return;
        } catch (RuntimeException e) {
            System.err.println("sluice ingest: cannot start: " + e.getMessage());
            System.exit(2);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            router.close();
            stopped.countDown();
        }, "sluice-router-shutdown"));
        stopped.await();
    }
}
