package dev.sluice.worker;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.consumer.ShareConsumer;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The workers' share group in share mode: its settings, which live on the broker (group configs), and
 * its consumers.
 */
final class ShareGroups {

    private static final Logger LOG = LoggerFactory.getLogger(ShareGroups.class);
    /** Kafka's default upper bound on a share group's record lock ({@code group.share.max.record.lock.duration.ms}). */
    static final Duration MAX_LOCK = Duration.ofSeconds(60);
    /** ... and on its delivery count limit ({@code group.share.max.delivery.count.limit}). */
    static final int MAX_DELIVERIES = 10;
    /** The group config that lets members renew record locks (KIP-1222); off by default. */
    static final String RENEW_CONFIG = "share.renew.acknowledge.enable";

    private ShareGroups() {
    }

    /**
     * The share group's settings, set at every worker's start (all set the same):
     * <ul>
     * <li>{@code share.isolation.level=read_committed}: a release the gate aborted is never run;</li>
     * <li>{@code share.auto.offset.reset=earliest}: tasks released before the first worker came run;</li>
     * <li>{@code share.record.lock.duration.ms}: how long a worker holds a task before Kafka hands it to
     *     another, longer than a task may take to reach its slot and run ({@link #lockFor});</li>
     * <li>{@code share.delivery.count.limit}: as many hand-outs as Kafka allows (a task handed out more
     *     often, by crash after crash, Kafka drops: the README says so);</li>
     * <li>{@code share.renew.acknowledge.enable=true} (Kafka 4.3 and later): a worker renews the lock of a
     *     task it still holds ({@link ShareBatch}).</li>
     * </ul>
     *
     * @return whether the broker took the last: whether workers may renew locks
     */
    static boolean configure(WorkerConfig config) {
        Duration lock = lockFor(config.handlerTimeout());
        List<AlterConfigOp> settings = List.of(
                set("share.isolation.level", "read_committed"),
                set("share.auto.offset.reset", "earliest"),
                set("share.record.lock.duration.ms", String.valueOf(lock.toMillis())),
                set("share.delivery.count.limit", String.valueOf(MAX_DELIVERIES)));
        alter(config, settings);
        try {
            alter(config, List.of(set(RENEW_CONFIG, "true")));
            return true;
        } catch (IllegalStateException refused) {
            // a broker before Kafka 4.3 has no renewals: a task held longer than the lock is handed out again
            if (config.handlerTimeout().plusSeconds(5).compareTo(lock) > 0) {
                LOG.warn("Share mode: this broker does not renew record locks ({}); a handler may run {} ms but Kafka"
                                + " holds a task for a worker {} ms, then hands it to another worker as well",
                        refused.getMessage(), config.handlerTimeout().toMillis(), lock.toMillis());
            } else {
                LOG.warn("Share mode: this broker does not renew record locks ({}); a task that waits or runs longer"
                        + " than {} ms is handed to another worker as well", refused.getMessage(), lock.toMillis());
            }
            return false;
        }
    }

    private static void alter(WorkerConfig config, List<AlterConfigOp> settings) {
        ConfigResource group = new ConfigResource(ConfigResource.Type.GROUP, config.sluice().topics().workerShareGroup());
        try (Admin admin = Admin.create(config.sluice().kafkaProperties())) {
            admin.incrementalAlterConfigs(Map.of(group, settings)).all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("share mode: Kafka refused the share group's settings (share groups need"
                    + " Kafka 4.2 or later with share.version 1): " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("share mode: Kafka did not answer in 30 s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("share mode: interrupted while setting the share group up", e);
        }
    }

    /**
     * The record lock for a handler timeout: the timeout, plus 10 s for a task's way to its slot and its
     * write-back, within Kafka's default bounds (15 to 60 s).
     */
    static Duration lockFor(Duration handlerTimeout) {
        Duration wanted = handlerTimeout.plusSeconds(10);
        if (wanted.compareTo(Duration.ofSeconds(15)) < 0) {
            return Duration.ofSeconds(15);
        }
        return wanted.compareTo(MAX_LOCK) > 0 ? MAX_LOCK : wanted;
    }

    /** A share consumer of {@code sluice.ready}, taking at most {@code perPoll} tasks per poll, acknowledging each. */
    static ShareConsumer<byte[], byte[]> consumer(WorkerConfig config, int perPoll, String clientId) {
        return consumer(config, perPoll, clientId, Map.of());
    }

    /** ... with {@code overrides} over these settings (for tests). */
    static ShareConsumer<byte[], byte[]> consumer(WorkerConfig config, int perPoll, String clientId,
                                                  Map<String, Object> overrides) {
        Map<String, Object> props = config.sluice().kafkaProperties();
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, config.sluice().topics().workerShareGroup());
        props.put(ConsumerConfig.SHARE_ACKNOWLEDGEMENT_MODE_CONFIG, "explicit");
        // at most perPoll tasks taken per poll, not the whole batch Kafka has at hand
        props.put(ConsumerConfig.SHARE_ACQUIRE_MODE_CONFIG, "record_limit");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, perPoll);
        props.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 100);
        props.putAll(overrides);
        KafkaShareConsumer<byte[], byte[]> consumer = new KafkaShareConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
        consumer.setAcknowledgementCommitCallback((offsets, error) -> {
            if (error != null) {
                LOG.warn("Acknowledgements of {} tasks not committed; Kafka hands those tasks out again: {}",
                        offsets.values().stream().mapToInt(java.util.Set::size).sum(), error.toString());
            }
        });
        consumer.subscribe(List.of(config.sluice().topics().ready()));
        return consumer;
    }

    /**
     * The client ids of the share group's members that have partitions; none when Kafka does not answer
     * within 5 s.
     */
    static java.util.Set<String> assignedMembers(Admin admin, WorkerConfig config) {
        String group = config.sluice().topics().workerShareGroup();
        try {
            return admin.describeShareGroups(List.of(group)).describedGroups().get(group).get(5, TimeUnit.SECONDS)
                    .members().stream()
                    .filter(member -> !member.assignment().topicPartitions().isEmpty())
                    .map(org.apache.kafka.clients.admin.ShareMemberDescription::clientId)
                    .collect(java.util.stream.Collectors.toSet());
        } catch (ExecutionException | TimeoutException notYet) {
            return java.util.Set.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return java.util.Set.of();
        }
    }

    private static AlterConfigOp set(String name, String value) {
        return new AlterConfigOp(new ConfigEntry(name, value), AlterConfigOp.OpType.SET);
    }
}
