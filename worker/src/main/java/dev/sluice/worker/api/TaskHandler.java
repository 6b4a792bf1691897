package dev.sluice.worker.api;

/**
 * Runs tasks. Implementations are found by {@link java.util.ServiceLoader} and chosen by
 * {@link #name()}, per queue or as the default; one instance serves many tasks at once, so it must be
 * thread-safe.
 *
 * <p>Returning {@link TaskResult#success()} completes the task. Returning a failure, throwing, or
 * running past the worker's handler timeout fails the attempt.
 */
public interface TaskHandler {

    /** The name by which configuration picks this handler, e.g. {@code log} or {@code http}. */
    String name();

    TaskResult handle(Task task) throws Exception;

    /**
     * Called once, before the worker takes its first task: load and prepare what the first task would
     * otherwise pay for, so that it starts on time like the others. (A fresh JVM's first HTTP request
     * took 100 to 800 ms here: a task started at its slot would reach its service that late, next to the
     * tasks after it.) A failure is logged and the worker goes on. Does nothing by default.
     */
    default void warmUp() throws Exception {
    }
}
