package dev.sluice.core;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Kafka topic names, all under one prefix (default {@code sluice}).
 *
 * <p>The prefix may only hold characters that are legal in a topic name and is short enough that the
 * longest queue topic ({@code <prefix>.q.} plus a 200-character queue name) stays within Kafka's
 * 249-character limit.
 */
public record Topics(String prefix) {

    public static final String DEFAULT_PREFIX = "sluice";
    private static final int KAFKA_MAX_TOPIC_LENGTH = 249;
    private static final String QUEUE_INFIX = ".q.";
    private static final int MAX_PREFIX_LENGTH = KAFKA_MAX_TOPIC_LENGTH - QUEUE_INFIX.length() - QueueName.MAX_LENGTH;
    private static final Pattern LEGAL = Pattern.compile("[A-Za-z0-9._-]+");

    public Topics {
        if (prefix == null || prefix.isEmpty()) {
            throw new IllegalArgumentException("the topic prefix is empty");
        }
        if (!LEGAL.matcher(prefix).matches()) {
            throw new IllegalArgumentException("invalid topic prefix \"" + prefix
                    + "\": use only letters, digits, '.', '_' and '-'");
        }
        if (prefix.length() > MAX_PREFIX_LENGTH) {
            throw new IllegalArgumentException("the topic prefix is " + prefix.length()
                    + " characters long; at most " + MAX_PREFIX_LENGTH + " are allowed");
        }
        if (prefix.equals(".") || prefix.equals("..")) {
            throw new IllegalArgumentException("the topic prefix cannot be \"" + prefix + "\"");
        }
    }

    public static Topics defaults() {
        return new Topics(DEFAULT_PREFIX);
    }

    /** The gate's consumer group: {@code sluice-gate} under the default prefix. */
    public String gateGroup() {
        return prefix + "-gate";
    }

    /** The workers' consumer group: {@code sluice-worker} under the default prefix. */
    public String workerGroup() {
        return prefix + "-worker";
    }

    /**
     * The workers' share group in share mode ({@code SLUICE_WORKER_MODE=share}): {@code sluice-worker-share}
     * under the default prefix (a share group and a consumer group cannot have the same id).
     */
    public String workerShareGroup() {
        return prefix + "-worker-share";
    }

    /** The group that moves retries out of the delay tiers: {@code sluice-delay} under the default prefix. */
    public String delayGroup() {
        return prefix + "-delay";
    }

    /**
     * The statistics' Kafka Streams application id, its group on {@link #events()} and {@link #ready()}:
     * {@code sluice-stats}.
     */
    public String statsGroup() {
        return prefix + "-stats";
    }

    /** The router's Kafka Streams application id, its group on {@link #tasks()}: {@code sluice-router}. */
    public String routerGroup() {
        return prefix + "-router";
    }

    /** Where producers submit tasks, keyed by queue name. */
    public String tasks() {
        return prefix + ".tasks";
    }

    /** One queue's topic: one partition, consumed by the gate. */
    public String queue(QueueName queue) {
        return prefix + QUEUE_INFIX + queue.value();
    }

    /** The queue a queue topic belongs to, or empty for any other topic. */
    public Optional<QueueName> queueOf(String topic) {
        String start = prefix + QUEUE_INFIX;
        if (!topic.startsWith(start)) {
            return Optional.empty();
        }
        try {
            return Optional.of(QueueName.of(topic.substring(start.length())));
        } catch (IllegalArgumentException notAQueueTopic) {
            return Optional.empty();
        }
    }

    /** A regular expression matching every queue topic, for a pattern subscription. */
    public Pattern queuePattern() {
        return Pattern.compile(Pattern.quote(prefix + QUEUE_INFIX) + "[A-Za-z0-9_-]{1," + QueueName.MAX_LENGTH + "}");
    }

    /** Released tasks, consumed by the workers. */
    public String ready() {
        return prefix + ".ready";
    }

    /** Lifecycle events (released, started, completed, failed, retried, dead), keyed by queue. */
    public String events() {
        return prefix + ".events";
    }

    /** Submissions the router refused, with the reason in a header. */
    public String rejected() {
        return prefix + ".rejected";
    }

    /** Retries waiting {@code tier} (one of {@link DelayTiers#TIERS}) before they re-enter their queue. */
    public String delay(java.time.Duration tier) {
        return prefix + ".delay." + DelayTiers.name(tier);
    }

    /** Tasks that failed their last attempt. */
    public String dead() {
        return prefix + ".dead";
    }
}
