package dev.sluice.bench;

import dev.sluice.worker.api.Task;
import dev.sluice.worker.api.TaskResult;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The floor of {@code bench/run handler}: calls the recorder at exactly the schedule Sluice's slots
 * follow, with nothing between the schedule and the call (no Kafka, no Redis, no gate): the same
 * {@code http} handler ({@link TimedHttpHandler}), the same 16 threads, each parked until its call's
 * time as a slot thread is. What the recorder then sees is this machine's own jitter on the way from a
 * timed start to a server; Sluice's figures are read against it.
 *
 * <p>Arguments: the URL prefix ({@code http://127.0.0.1:<port>/<name>/}), the number of calls, the
 * interval in nanoseconds, and optionally {@code cold}: without it, first 600 calls to
 * {@code …/warm-up/} at 200 a second, as the benchmark's workers get. Prints {@code calling} when the
 * measured calls are scheduled (the first half a second later) and {@code done} at the end.
 */
public final class PacedCaller {

    private static final int THREADS = 16;

    private PacedCaller() {
    }

    public static void main(String[] args) throws Exception {
        String prefix = args[0];
        int count = Integer.parseInt(args[1]);
        long intervalNanos = Long.parseLong(args[2]);
        TimedHttpHandler http = new TimedHttpHandler();
        http.warmUp();
        if (args.length < 4 || !args[3].equals("cold")) {
            String warmPrefix = prefix.substring(0, prefix.lastIndexOf('/', prefix.length() - 2) + 1) + "warm-up/";
            call(http, warmPrefix, 600, 5_000_000L);
        }
        System.out.println("calling");
        call(http, prefix, count, intervalNanos);
        System.out.println("done");
        System.exit(0);
    }

    /** Call i at start + i x interval, call i on thread i mod 16. */
    private static void call(TimedHttpHandler http, String prefix, int count, long intervalNanos) throws InterruptedException {
        long start = System.nanoTime() + 500_000_000L;
        AtomicInteger failed = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int first = t;
            Thread thread = new Thread(() -> {
                for (int i = first; i < count; i += THREADS) {
                    long at = start + i * intervalNanos;
                    for (long left; (left = at - System.nanoTime()) > 0; ) {
                        LockSupport.parkNanos(left);
                    }
                    byte[] payload = ("{\"url\":\"" + prefix + i + "\"}").getBytes(StandardCharsets.UTF_8);
                    try {
                        if (!(http.handle(new Task("floor-" + i, "floor", 0, payload, Map.of(), Instant.now()))
                                instanceof TaskResult.Success)) {
                            failed.incrementAndGet();
                        }
                    } catch (Exception e) {
                        failed.incrementAndGet();
                    }
                }
            }, "paced-" + t);
            threads.add(thread);
            thread.start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
        if (failed.get() > 0) {
            System.out.println(failed.get() + " calls failed");
        }
    }
}
