package dev.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.worker.PrefetchAge.Verdict;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PrefetchAgeTest {

    private static final long LOCK = TimeUnit.SECONDS.toNanos(15);

    private static long seconds(double s) {
        return (long) (s * 1e9);
    }

    @Test
    void tasksOfAPollSoonAfterTheLastRun() {
        assertThat(PrefetchAge.judge(seconds(0.1), LOCK)).isEqualTo(Verdict.RUN);
        assertThat(PrefetchAge.judge(seconds(4.9), LOCK)).isEqualTo(Verdict.RUN);
    }

    @Test
    void tasksThatWaitedAThirdOfTheLockAreRenewedFirst() {
        assertThat(PrefetchAge.judge(seconds(5), LOCK)).isEqualTo(Verdict.RENEW_FIRST);
        assertThat(PrefetchAge.judge(seconds(12.9), LOCK)).isEqualTo(Verdict.RENEW_FIRST);
    }

    @Test
    void aConsumerWhoseTasksMayHaveOutlivedTheirLockIsReopened() {
        // the CI case: a 35 s batch under a 15 s lock, then the poll would hand out a task fetched before it
        assertThat(PrefetchAge.judge(seconds(35), LOCK)).isEqualTo(Verdict.REOPEN);
        assertThat(PrefetchAge.judge(seconds(13), LOCK)).as("2 s before the end of the lock").isEqualTo(Verdict.REOPEN);
        assertThat(PrefetchAge.judge(seconds(55), TimeUnit.SECONDS.toNanos(60))).isEqualTo(Verdict.RENEW_FIRST);
    }
}
