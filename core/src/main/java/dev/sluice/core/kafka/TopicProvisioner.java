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
 * Creates Sluice's topics when they are missing: the shared topics ({@code tasks}, {@code ready},
 * {@code events}, {@code rejected}, {@code dead}, the delay tiers) and one single-partition topic per
 * queue.
 *
 * <p>Topics that hold work not yet done ({@code tasks}, {@code ready}, {@code dead}, the delay tiers and
 * every queue topic) keep their records whatever their age or size ({@code retention.ms} and
 * {@code retention.bytes} -1): a backlog may wait months at 1/3600s, and the broker's default (7 days)
 * would drop the rest of it, silently. Existing ones are brought to that when the shared topics are
 * ensured, at each service's start. {@code events} and {@code rejected} keep the broker's retention.
 */
public final class TopicProvisioner {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TopicProvisioner.class);

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
        ensureSharedTopics(Map.of(org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrapServers), topics, readyPartitions);
    }

    /** The same, with a service's Kafka settings (TLS, SASL). */
    public static void ensureSharedTopics(dev.sluice.core.SluiceConfig config, int readyPartitions) {
        ensureSharedTopics(config.kafkaProperties(), config.topics(), readyPartitions);
    }

    private static void ensureSharedTopics(Map<String, Object> kafka, Topics topics, int readyPartitions) {
        withAdmin(kafka, admin -> new TopicProvisioner(admin, topics, (short) 1).ensureSharedTopics(readyPartitions));
    }

    /**
     * The gate's part at start: {@link #roomForGroupMetadata()}, with a short-lived admin client. Only
     * the gate's group lists every queue topic, so only the gate changes {@code __consumer_offsets}.
     */
    public static void roomForGroupMetadata(dev.sluice.core.SluiceConfig config) {
        withAdmin(config.kafkaProperties(), admin -> new TopicProvisioner(admin, config.topics(), (short) 1)
                .roomForGroupMetadata());
    }

    private static void withAdmin(Map<String, Object> kafka, java.util.function.Consumer<Admin> work) {
        Map<String, Object> properties = new java.util.HashMap<>(kafka);
        properties.put(org.apache.kafka.clients.admin.AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000);
        properties.put(org.apache.kafka.clients.admin.AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        Admin admin = Admin.create(properties);
        try {
            work.accept(admin);
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
        wanted.add(work(new NewTopic(topics.tasks(), 4, replicationFactor)));
        wanted.add(work(new NewTopic(topics.ready(), readyPartitions, replicationFactor)));
        wanted.add(new NewTopic(topics.events(), 4, replicationFactor));
        wanted.add(new NewTopic(topics.rejected(), 1, replicationFactor));
        wanted.add(work(new NewTopic(topics.dead(), 1, replicationFactor)));
        for (java.time.Duration tier : dev.sluice.core.DelayTiers.TIERS) {
            // one partition: first in is first due
            wanted.add(work(new NewTopic(topics.delay(tier), 1, replicationFactor)));
        }
        create(wanted);
        keepWork();
    }

    /**
     * The most bytes of one record of {@code __consumer_offsets} Sluice asks for: a consumer group's
     * metadata is one record there, and the gate's lists every queue topic (its members' subscriptions
     * and assignments, about 150 bytes a queue). At Kafka's default of 1 MiB a gate stopped releasing
     * for good past about 6,000 queues ({@code RecordTooLargeException} at its next rebalance); 16 MiB
     * holds about 100,000.
     */
    static final int GROUP_METADATA_BYTES = 16 * 1024 * 1024;

    private static final String OFFSETS_TOPIC = "__consumer_offsets";

    /**
     * The offsets topic's configuration. Kafka creates that topic when a group coordinator is first
     * looked for: on a new cluster it does not exist yet, so a coordinator is looked for (the gate
     * group's) and the topic waited for, up to 30 s.
     */
    private org.apache.kafka.clients.admin.Config offsetsTopicConfig(org.apache.kafka.common.config.ConfigResource offsets)
            throws InterruptedException, ExecutionException, TimeoutException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                return admin.describeConfigs(List.of(offsets)).all().get(30, TimeUnit.SECONDS).get(offsets);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException)
                        || System.nanoTime() > deadline) {
                    throw e;
                }
                try {
                    admin.describeConsumerGroups(List.of(topics.gateGroup())).all().get(10, TimeUnit.SECONDS);
                } catch (ExecutionException | TimeoutException stillComing) {
                    // the coordinator is being made: the topic comes with it
                }
                Thread.sleep(200);
            }
        }
    }

    /**
     * Raises {@code __consumer_offsets}' {@code max.message.bytes} to {@link #GROUP_METADATA_BYTES} when it
     * is lower. A cluster that refuses (no ALTER_CONFIGS right, a managed service's policy) is told in a
     * warning what that means, and Sluice runs on: a gate holds fewer queues there.
     */
    public void roomForGroupMetadata() {
        org.apache.kafka.common.config.ConfigResource offsets = new org.apache.kafka.common.config.ConfigResource(
                org.apache.kafka.common.config.ConfigResource.Type.TOPIC, OFFSETS_TOPIC);
        try {
            var config = offsetsTopicConfig(offsets);
            var entry = config == null ? null : config.get(org.apache.kafka.common.config.TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
            if (entry != null && entry.value() != null && Long.parseLong(entry.value()) >= GROUP_METADATA_BYTES) {
                return;
            }
            admin.incrementalAlterConfigs(Map.of(offsets, List.of(new org.apache.kafka.clients.admin.AlterConfigOp(
                    new org.apache.kafka.clients.admin.ConfigEntry(
                            org.apache.kafka.common.config.TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
                            Integer.toString(GROUP_METADATA_BYTES)),
                    org.apache.kafka.clients.admin.AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
            LOG.info("Raised {}' max.message.bytes to {}: a gate's group metadata lists every queue", OFFSETS_TOPIC,
                    GROUP_METADATA_BYTES);
        } catch (ExecutionException e) {
            LOG.warn("Kafka did not let {}' max.message.bytes be raised to {} ({}): with its limit a gate holds about"
                    + " 6,000 queues per MiB; raise it there, or run more gates", OFFSETS_TOPIC, GROUP_METADATA_BYTES,
                    e.getCause().toString());
        } catch (TimeoutException e) {
            LOG.warn("Kafka did not answer about {}' max.message.bytes; left as it is", OFFSETS_TOPIC);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Creates the queue's topic (one partition: the queue is FIFO) unless it exists. */
    public void ensureQueueTopic(QueueName queue) {
        create(List.of(work(new NewTopic(topics.queue(queue), 1, replicationFactor))));
    }

    /** The settings of a topic that holds work not yet done: nothing dropped for its age or size. */
    static final Map<String, String> KEEP = Map.of(
            org.apache.kafka.common.config.TopicConfig.RETENTION_MS_CONFIG, "-1",
            org.apache.kafka.common.config.TopicConfig.RETENTION_BYTES_CONFIG, "-1");

    private static NewTopic work(NewTopic topic) {
        return topic.configs(KEEP);
    }

    /** Whether the topic holds work not yet done (see the class comment). */
    boolean holdsWork(String topic) {
        if (topic.equals(topics.tasks()) || topic.equals(topics.ready()) || topic.equals(topics.dead())
                || topics.queueOf(topic).isPresent()) {
            return true;
        }
        return dev.sluice.core.DelayTiers.TIERS.stream().anyMatch(tier -> topic.equals(topics.delay(tier)));
    }

    /**
     * Brings every existing topic that holds work to {@link #KEEP}, those created before Sluice set it
     * included: one request for all of them, a no-op for those already there.
     */
    public void keepWork() {
        try {
            List<org.apache.kafka.common.config.ConfigResource> resources = admin.listTopics().names()
                    .get(30, TimeUnit.SECONDS).stream().filter(this::holdsWork)
                    .map(t -> new org.apache.kafka.common.config.ConfigResource(
                            org.apache.kafka.common.config.ConfigResource.Type.TOPIC, t))
                    .toList();
            if (resources.isEmpty()) {
                return;
            }
            Map<org.apache.kafka.common.config.ConfigResource, java.util.Collection<org.apache.kafka.clients.admin.AlterConfigOp>>
                    changes = new java.util.HashMap<>();
            for (org.apache.kafka.common.config.ConfigResource resource : resources) {
                changes.put(resource, KEEP.entrySet().stream().map(e -> new org.apache.kafka.clients.admin.AlterConfigOp(
                        new org.apache.kafka.clients.admin.ConfigEntry(e.getKey(), e.getValue()),
                        org.apache.kafka.clients.admin.AlterConfigOp.OpType.SET)).toList());
            }
            for (var result : admin.incrementalAlterConfigs(changes).values().entrySet()) {
                try {
                    result.getValue().get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException)) {
                        throw new IllegalStateException("Kafka refused to keep the records of " + result.getKey().name()
                                + " whatever their age: " + e.getCause(), e);
                    } // else: a queue removed meanwhile, nothing to keep
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while setting the topics' retention", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("Kafka did not list its topics: " + e.getCause(), e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("Kafka did not answer while setting the topics' retention", e);
        }
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
