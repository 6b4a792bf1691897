package dev.sluice.worker;

import java.util.concurrent.CountDownLatch;

/**
 * {@code java -cp … dev.sluice.worker.WorkerMain}: runs one worker until SIGTERM or Ctrl-C, configured
 * by environment variables (see {@link WorkerConfig#fromEnvironment} and the README).
 */
public final class WorkerMain {

    private WorkerMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
            System.out.println("""
                    Usage: sluice worker
                    Runs released tasks from sluice.ready with the configured handler (log, http, or your own
                    TaskHandler found by ServiceLoader), each at the slot the gate stamped on it (on Redis's
                    clock; a task that cannot start in time goes back through its queue's limit), commits each
                    only after it finished, retries failures through delay tiers and the queue's limit,
                    dead-letters the last attempt.
                    Configured by environment variables: KAFKA_BOOTSTRAP_SERVERS, REDIS_URL,
                    SLUICE_TOPIC_PREFIX, SLUICE_WORKER_CONCURRENCY (4), SLUICE_WORKER_MAX_ATTEMPTS (3),
                    SLUICE_WORKER_TIMEOUT_MS (30000), SLUICE_WORKER_HANDLER (log),
                    SLUICE_WORKER_QUEUE_HANDLERS (queue=handler,... for queues with a handler of their own),
                    SLUICE_WORKER_MODE (group; share: a Kafka share group hands tasks to any number of workers,
                    past sluice.ready's partitions, at least once),
                    SLUICE_HTTP_ALLOWED_HOSTS (the http handler calls public addresses only, unless these
                    names, addresses or CIDR blocks, or *, allow more), SLUICE_HTTP_MAX_RESPONSE_BYTES (1048576).""");
            return;
        }
        Worker worker;
        try {
            worker = Worker.start(WorkerConfig.fromEnvironment(System.getenv()));
        } catch (IllegalArgumentException e) {
            System.err.println("sluice worker: " + e.getMessage());
            System.exit(1);
            return;
        } catch (IllegalStateException | org.apache.kafka.common.KafkaException e) {
            System.err.println("sluice worker: cannot start: " + e.getMessage());
            System.exit(2);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            worker.close();
            stopped.countDown();
        }, "sluice-worker-shutdown"));
        stopped.await();
    }
}
