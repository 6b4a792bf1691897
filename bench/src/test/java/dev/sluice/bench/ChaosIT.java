package dev.sluice.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The short chaos run (issue 13): a minute or two of three queues at 20/1s, 5/1s and 2/1s while a gate,
 * a worker, the router, the statistics or the redis-server is killed with SIGKILL every 4 s and started
 * again. {@code bench/run chaos} is the long version.
 */
class ChaosIT {

    @Test
    void nothingIsLostOrReleasedTwiceAndNoLimitIsExceededWhileProcessesAreKilled() throws Exception {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream log = new PrintStream(new TeeStream(printed, System.out), true, StandardCharsets.UTF_8);
        long seed = System.currentTimeMillis();
        log.println("chaos: seed " + seed);

        // 20 s of work at the limits; kills go on until every task is released and called
        ChaosRun.Result result = new ChaosRun(seed, log).run(List.of(new ChaosRun.QueueLoad("20/1s", 400),
                        new ChaosRun.QueueLoad("5/1s", 100), new ChaosRun.QueueLoad("2/1s", 40)),
                Duration.ofSeconds(15), Duration.ofSeconds(4), Duration.ofSeconds(420)); // about 100-180 s here
        result.print(log);

        String story = printed.toString(StandardCharsets.UTF_8);
        assertThat(result.kills()).as(story).isGreaterThanOrEqualTo(5);
        assertThat(result.missing()).as(story).isZero();
        assertThat(result.duplicates()).as(story).isZero(); // first releases: the gate's, exactly once
        assertThat(result.limitsHeld()).as(story).isTrue();
        assertThat(result.calledAtLeastOnce()).as(story).isEqualTo(result.produced());
        assertThat(result.statsMatch()).as(story).isTrue();
    }

    /** Writes to two streams: the test's story for its failure message, and the console. */
    private static final class TeeStream extends java.io.OutputStream {
        private final java.io.OutputStream one;
        private final java.io.OutputStream two;

        TeeStream(java.io.OutputStream one, java.io.OutputStream two) {
            this.one = one;
            this.two = two;
        }

        @Override
        public void write(int b) throws java.io.IOException {
            one.write(b);
            two.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws java.io.IOException {
            one.write(b, off, len);
            two.write(b, off, len);
        }
    }
}
