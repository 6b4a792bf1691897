package dev.sluice.worker.api;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/** What a handler says of a task: done, or failed (to be retried, or not). */
public sealed interface TaskResult permits TaskResult.Success, TaskResult.Failure {

    static TaskResult success() {
        return Success.INSTANCE;
    }

    /** Failed; retried with the worker's backoff while attempts remain. */
    static TaskResult retry(String reason) {
        return new Failure(reason, true, null);
    }

    /** Failed; retried no sooner than {@code after} (a server's Retry-After, say). */
    static TaskResult retryAfter(String reason, Duration after) {
        return new Failure(reason, true, after);
    }

    /** Failed for good (a 404, a malformed payload): straight to the dead-letter topic. */
    static TaskResult fail(String reason) {
        return new Failure(reason, false, null);
    }

    /** The task is done. */
    final class Success implements TaskResult {
        private static final Success INSTANCE = new Success();

        private Success() {
        }

        @Override
        public String toString() {
            return "success";
        }
    }

    /**
     * The task failed.
     *
     * @param retryAfter the earliest retry the handler asks for, or {@code null} for the worker's backoff
     */
    record Failure(String reason, boolean retryable, Duration retryAfter) implements TaskResult {
        public Failure {
            Objects.requireNonNull(reason, "reason");
        }

        public Optional<Duration> retryAfterDelay() {
            return Optional.ofNullable(retryAfter);
        }
    }
}
