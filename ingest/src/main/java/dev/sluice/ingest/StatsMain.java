package dev.sluice.ingest;

import dev.sluice.core.SluiceConfig;
import java.util.concurrent.CountDownLatch;

/** {@code java -cp … dev.sluice.ingest.StatsMain}: runs the statistics until SIGTERM or Ctrl-C. */
public final class StatsMain {

    private StatsMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
            System.out.println("""
                    Usage: sluice stats
                    Counts sluice.events per queue (totals of released, started, completed, failed, retried,
                    dead; releases per second) into Redis: sluice:{q}:stats and sluice:{q}:released:<second>.
                    Configured by environment variables: KAFKA_BOOTSTRAP_SERVERS, REDIS_URL,
                    SLUICE_TOPIC_PREFIX, SLUICE_KEY_PREFIX.""");
            return;
        }
        Stats stats;
        try {
            stats = Stats.start(SluiceConfig.fromEnvironment(System.getenv()));
        } catch (IllegalArgumentException e) {
            System.err.println("sluice stats: " + e.getMessage());
            System.exit(1);
            return;
        } catch (RuntimeException e) {
            System.err.println("sluice stats: cannot start: " + e.getMessage());
            System.exit(2);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stats.close();
            stopped.countDown();
        }, "sluice-stats-shutdown"));
        stopped.await();
    }
}
