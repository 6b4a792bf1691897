package dev.sluice.core.kafka;

import dev.sluice.core.QueueName;
import dev.sluice.core.Topics;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Creates Sluice's topics when they are missing, never changing existing ones: the shared topics
 * ({@code tasks}, {@code ready}, {@code events}, {@code rejected}, {@code dead}) and one single-partition
 * topic per queue.
 */
public final class TopicProvisioner {

    private final Admin admin;
    private final Topics topics;
    private final short replicationFactor;

    public TopicProvisioner(Admin admin, Topics topics, short replicationFactor) {
        this.admin = admin;
        this.topics = topics;
        if (replicationFactor < 1) {
            throw new IllegalArgumentException("the replication factor must be at least 1, got " + replicationFactor);
        }
        this.replicationFactor = replicationFactor;
    }

    /**
     * Creates the shared topics that are missing with a short-lived admin client that gives up after
     * 20 s: what a service does once at start.
     *
     * @throws IllegalStateException when Kafka does not answer
     */
    public static void ensureSharedTopics(String bootstrapServers, Topics topics, int readyPartitions) {
        Admin admin = Admin.create(Map.of(
                org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                org.apache.kafka.clients.admin.AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000,
                org.apache.kafka.clients.admin.AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000));
        try {
            new TopicProvisioner(admin, topics, (short) 1).ensureSharedTopics(readyPartitions);
        } finally {
            admin.close(java.time.Duration.ofSeconds(5));
        }
    }

    /**
     * Creates the shared topics that are missing.
     *
     * @param readyPartitions partitions of {@code ready}: how many workers can share the work
     */
    public void ensureSharedTopics(int readyPartitions) {
        List<NewTopic> wanted = new ArrayList<>();
        wanted.add(new NewTopic(topics.tasks(), 4, replicationFactor));
        wanted.add(new NewTopic(topics.ready(), readyPartitions, replicationFactor));
        wanted.add(new NewTopic(topics.events(), 4, replicationFactor));
        wanted.add(new NewTopic(topics.rejected(), 1, replicationFactor));
        wanted.add(new NewTopic(topics.dead(), 1, replicationFactor));
        for (java.time.Duration tier : dev.sluice.core.DelayTiers.TIERS) {
            // one partition: first in is first due
            wanted.add(new NewTopic(topics.delay(tier), 1, replicationFactor));
        }
        create(wanted);
    }

    /** Creates the queue's topic (one partition: the queue is FIFO) unless it exists. */
    public void ensureQueueTopic(QueueName queue) {
        create(List.of(new NewTopic(topics.queue(queue), 1, replicationFactor)));
    }

    /** Deletes the queue's topic; a missing topic is not an error. */
    public void deleteQueueTopic(QueueName queue) {
        try {
            admin.deleteTopics(List.of(topics.queue(queue))).all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException)) {
                throw new IllegalStateException("could not delete " + topics.queue(queue) + ": " + e.getCause(), e);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("Kafka did not delete " + topics.queue(queue) + " within 30 s", e);
        }
    }

    private void create(List<NewTopic> wanted) {
        try {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<NewTopic> missing = wanted.stream().filter(t -> !existing.contains(t.name())).toList();
            if (missing.isEmpty()) {
                return;
            }
            for (Map.Entry<String, org.apache.kafka.common.KafkaFuture<Void>> result
                    : admin.createTopics(missing).values().entrySet()) {
                try {
                    result.getValue().get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("could not create topic " + result.getKey() + ": "
                                + e.getCause().getMessage(), e);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("Kafka at the configured bootstrap servers did not answer while"
                    + " creating topics (is it running?): " + e, e);
        }
    }
}
