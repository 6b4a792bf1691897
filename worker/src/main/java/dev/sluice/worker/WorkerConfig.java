package dev.sluice.worker;

import dev.sluice.core.Env;
import dev.sluice.core.SluiceConfig;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * The worker's settings, validated when built.
 *
 * @param concurrency how many tasks run at once; the worker fetches no more than it can start
 * @param maxAttempts attempts per task, the first included, before it goes to the dead-letter topic,
 *     for tasks that do not carry their queue's own ({@code sluice-max-attempts}, stamped by the gate)
 * @param handlerTimeout a handler running longer fails the attempt
 * @param handler the name of the handler for every queue without one of its own ({@code log} by default)
 * @param queueHandlers handler names per queue name
 * @param mode how workers share {@code sluice.ready}: a consumer group (the default) or a share group
 */
public record WorkerConfig(SluiceConfig sluice, int concurrency, int maxAttempts, Duration handlerTimeout,
                           String handler, Map<String, String> queueHandlers, Mode mode) {

    /** How the workers share {@code sluice.ready}'s records. */
    public enum Mode {
        /**
         * Consumer group {@code sluice-worker}: each partition is one worker's; as many working workers as
         * partitions; a task's write-backs and its commit in one transaction; finished tasks never re-run.
         */
        GROUP,
        /**
         * Share group {@code sluice-worker-share} (Kafka's queues, KIP-932): records handed out one by one
         * to any number of workers; at-least-once (ADR 0003).
         */
        SHARE;

        static Mode parse(String text) {
            return switch (text.strip().toLowerCase(java.util.Locale.ROOT)) {
                case "group" -> GROUP;
                case "share" -> SHARE;
                default -> throw new IllegalArgumentException(ENV_MODE + " must be group or share, got \"" + text + "\"");
            };
        }
    }

    public static final String ENV_CONCURRENCY = "SLUICE_WORKER_CONCURRENCY";
    public static final String ENV_MAX_ATTEMPTS = "SLUICE_WORKER_MAX_ATTEMPTS";
    public static final String ENV_TIMEOUT_MS = "SLUICE_WORKER_TIMEOUT_MS";
    public static final String ENV_HANDLER = "SLUICE_WORKER_HANDLER";
    public static final String ENV_QUEUE_HANDLERS = "SLUICE_WORKER_QUEUE_HANDLERS";
    public static final String ENV_MODE = "SLUICE_WORKER_MODE";

    public WorkerConfig {
        Objects.requireNonNull(sluice, "sluice");
        Objects.requireNonNull(handlerTimeout, "handlerTimeout");
        Objects.requireNonNull(handler, "handler");
        Objects.requireNonNull(mode, "mode");
        queueHandlers = Map.copyOf(queueHandlers);
        if (concurrency < 1 || concurrency > 1_000) {
            throw new IllegalArgumentException("the worker's concurrency must be between 1 and 1000, got " + concurrency);
        }
        if (maxAttempts < 1 || maxAttempts > 100) {
            throw new IllegalArgumentException("the max attempts must be between 1 and 100, got " + maxAttempts);
        }
        if (handlerTimeout.toMillis() < 1) {
            throw new IllegalArgumentException("the handler timeout must be at least 1 ms, got " + handlerTimeout);
        }
    }

    /** Defaults: 4 at once, 3 attempts, 30 s per attempt, the logging handler. */
    public static WorkerConfig of(SluiceConfig sluice) {
        return new WorkerConfig(sluice, 4, 3, Duration.ofSeconds(30), "log", Map.of(), Mode.GROUP);
    }

    public static WorkerConfig fromEnvironment(Map<String, String> env) {
        WorkerConfig defaults = of(SluiceConfig.fromEnvironment(env));
        try {
            return new WorkerConfig(defaults.sluice(),
                    Env.integer(env, ENV_CONCURRENCY, defaults.concurrency()),
                    Env.integer(env, ENV_MAX_ATTEMPTS, defaults.maxAttempts()),
                    Duration.ofMillis(Env.integer(env, ENV_TIMEOUT_MS, (int) defaults.handlerTimeout().toMillis())),
                    Env.text(env, ENV_HANDLER, defaults.handler()),
                    queueHandlers(Env.text(env, ENV_QUEUE_HANDLERS, "")),
                    Mode.parse(Env.text(env, ENV_MODE, "group")));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("worker configuration: " + e.getMessage(), e);
        }
    }

    /** {@code queue=handler,queue=handler}, e.g. {@code payments=http,audit=log}. */
    static Map<String, String> queueHandlers(String text) {
        Map<String, String> handlers = new java.util.LinkedHashMap<>();
        if (text.isBlank()) {
            return handlers;
        }
        for (String pair : text.split(",")) {
            String[] parts = pair.split("=", -1);
            if (parts.length != 2 || parts[0].isBlank() || parts[1].isBlank()) {
                throw new IllegalArgumentException(ENV_QUEUE_HANDLERS + " must be queue=handler[,queue=handler...],"
                        + " got \"" + pair.strip() + "\"");
            }
            handlers.put(dev.sluice.core.QueueName.of(parts[0].strip()).value(), parts[1].strip());
        }
        return handlers;
    }

    public WorkerConfig withConcurrency(int value) {
        return new WorkerConfig(sluice, value, maxAttempts, handlerTimeout, handler, queueHandlers, mode);
    }

    public WorkerConfig withHandler(String name) {
        return new WorkerConfig(sluice, concurrency, maxAttempts, handlerTimeout, name, queueHandlers, mode);
    }

    public WorkerConfig withMaxAttempts(int value) {
        return new WorkerConfig(sluice, concurrency, value, handlerTimeout, handler, queueHandlers, mode);
    }

    public WorkerConfig withHandlerTimeout(Duration value) {
        return new WorkerConfig(sluice, concurrency, maxAttempts, value, handler, queueHandlers, mode);
    }

    public WorkerConfig withMode(Mode value) {
        return new WorkerConfig(sluice, concurrency, maxAttempts, handlerTimeout, handler, queueHandlers, value);
    }
}
