package dev.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The handler threads wake sparingly; what must hold regardless: every queued task gets a thread while
 * slots are free, no task is lost, and no more threads run than slots plus stand-ins. Each test hands
 * tasks in the way the worker loop does: never more at once than it has free slots.
 */
class HandlerThreadsTest {

    private static final ThreadFactory DAEMONS = runnable -> {
        Thread thread = new Thread(runnable, "test-slot");
        thread.setDaemon(true);
        return thread;
    };

    private HandlerThreads threads;

    @AfterEach
    void shutDown() {
        if (threads != null) {
            threads.shutdownNow();
        }
    }

    @Test
    void tasksThatBlockEachGetAThreadOfTheirOwn() throws Exception {
        int slots = 64;
        threads = new HandlerThreads(slots, DAEMONS);
        CountDownLatch allStarted = new CountDownLatch(slots);
        CountDownLatch release = new CountDownLatch(1);
        for (int i = 0; i < slots; i++) {
            threads.execute(() -> {
                allStarted.countDown();
                awaitQuietly(release);
            });
        }

        // a thread woken only when nobody searches must still wake the next for each blocked task
        assertThat(allStarted.await(10, TimeUnit.SECONDS)).as("every slot's task started").isTrue();
        assertThat(threads.threads()).isEqualTo(slots);
        release.countDown();
    }

    @Test
    void aSlotFreedByATaskThatEndsIsTakenByTheNextTaskWhileOthersStillBlock() throws Exception {
        threads = new HandlerThreads(3, DAEMONS);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch blocking = new CountDownLatch(2);
        for (int i = 0; i < 2; i++) {
            threads.execute(() -> {
                blocking.countDown();
                awaitQuietly(release);
            });
        }
        assertThat(blocking.await(10, TimeUnit.SECONDS)).isTrue();

        AtomicInteger ran = new AtomicInteger();
        for (int i = 0; i < 1_000; i++) {
            CountDownLatch done = new CountDownLatch(1);
            threads.execute(() -> {
                ran.incrementAndGet();
                done.countDown();
            });
            assertThat(done.await(10, TimeUnit.SECONDS)).as("task %d ran on the one free slot", i).isTrue();
        }
        assertThat(ran).hasValue(1_000);
        assertThat(threads.threads()).isLessThanOrEqualTo(3);
        release.countDown();
    }

    @Test
    void manyTasksOfMixedLengthsAllRunAndNeverMoreAtOnceThanTheSlots() throws Exception {
        int slots = 8;
        int tasks = 20_000;
        threads = new HandlerThreads(slots, DAEMONS);
        Semaphore free = new Semaphore(slots); // the worker loop's slot accounting
        AtomicInteger running = new AtomicInteger();
        AtomicInteger mostAtOnce = new AtomicInteger();
        AtomicInteger ran = new AtomicInteger();
        for (int i = 0; i < tasks; i++) {
            assertThat(free.tryAcquire(10, TimeUnit.SECONDS)).as("a slot came free").isTrue();
            boolean slow = i % 100 == 0;
            threads.execute(() -> {
                int now = running.incrementAndGet();
                mostAtOnce.accumulateAndGet(now, Math::max);
                if (slow) {
                    sleepQuietly(ThreadLocalRandom.current().nextInt(1, 3));
                }
                ran.incrementAndGet();
                running.decrementAndGet();
                free.release();
            });
        }

        assertThat(free.tryAcquire(slots, 10, TimeUnit.SECONDS)).as("every task finished").isTrue();
        assertThat(ran).hasValue(tasks);
        assertThat(mostAtOnce.get()).isBetween(1, slots);
        assertThat(threads.threads()).isLessThanOrEqualTo(slots);
    }

    @Test
    void aStandInRunsTasksBesideAHandlerThatOverranAndEndsWhenThatHandlerReturns() throws Exception {
        threads = new HandlerThreads(1, DAEMONS);
        CountDownLatch stuckStarted = new CountDownLatch(1);
        CountDownLatch unstick = new CountDownLatch(1);
        threads.execute(() -> {
            stuckStarted.countDown();
            awaitQuietly(unstick);
        });
        assertThat(stuckStarted.await(10, TimeUnit.SECONDS)).isTrue();

        threads.standIn(); // the watchdog gave its slot back
        CountDownLatch next = new CountDownLatch(1);
        threads.execute(next::countDown);
        assertThat(next.await(10, TimeUnit.SECONDS)).as("the next task ran beside the stuck one").isTrue();
        assertThat(threads.threads()).isEqualTo(2);

        unstick.countDown();
        threads.standInDone(true);
        CountDownLatch after = new CountDownLatch(1);
        threads.execute(after::countDown);
        assertThat(after.await(10, TimeUnit.SECONDS)).isTrue();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(threads.threads()).isEqualTo(1));
    }

    @Test
    void noMoreStandInsThanSlots() {
        threads = new HandlerThreads(2, DAEMONS);
        assertThat(threads.standIn()).isTrue();
        assertThat(threads.standIn()).isTrue();
        assertThat(threads.standIn()).as("a third stuck handler on two slots gets no thread").isFalse();
        assertThat(threads.standIns()).isEqualTo(2);

        threads.standInDone(true);
        assertThat(threads.standIn()).isTrue(); // one returned: room for one again
        threads.standInDone(false); // a stuck handler without a stand-in returned: nothing to give back
        assertThat(threads.standIns()).isEqualTo(2);
    }

    @Test
    void shutdownInterruptsRunningHandlers() throws Exception {
        threads = new HandlerThreads(2, DAEMONS);
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch interrupted = new CountDownLatch(1);
        threads.execute(() -> {
            started.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                interrupted.countDown();
            }
        });
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();

        threads.shutdownNow();
        assertThat(interrupted.await(10, TimeUnit.SECONDS)).isTrue();
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
