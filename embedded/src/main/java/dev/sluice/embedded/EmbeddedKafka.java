package dev.sluice.embedded;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka (KRaft, combined broker and controller) running in this JVM, built from
 * Apache Kafka's own server classes through its test kit.
 *
 * <p>Settings are those of a local development broker: internal topics at replication factor 1, no
 * initial rebalance delay, a small log-cleaner buffer, and auto topic creation off so that a typo in a
 * topic name fails instead of silently creating a queue topic.
 */
public final class EmbeddedKafka implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);

    private final KafkaClusterTestKit cluster;

    private EmbeddedKafka(KafkaClusterTestKit cluster) {
        this.cluster = cluster;
    }

    /** Starts a broker in a temporary directory that is deleted on close. */
    public static EmbeddedKafka start() {
        return start(null);
    }

    /**
     * Starts a broker.
     *
     * @param dataDirectory where the broker keeps its logs and metadata, kept after close so that a
     *     restart finds its topics again; {@code null} for a temporary directory deleted on close
     */
    public static EmbeddedKafka start(Path dataDirectory) {
        long started = System.nanoTime();
        keepTheJvmAlive();
        TestKitNodes.Builder nodes = new TestKitNodes.Builder()
                .setCombined(true)
                .setNumBrokerNodes(1)
                .setNumControllerNodes(1);
        // Always our own directory: the test kit's own temporary directory is removed by a JVM shutdown
        // hook that may run while the broker is still stopping in another one.
        try {
            nodes.setBaseDirectory(dataDirectory != null ? dataDirectory
                    : java.nio.file.Files.createTempDirectory("sluice-kafka"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("no temporary directory for the embedded broker", e);
        }
        KafkaClusterTestKit cluster = null;
        try {
            KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(nodes.build())
                    .setDeleteOnClose(dataDirectory == null);
            brokerConfig().forEach(builder::setConfigProp);
            cluster = builder.build();
            cluster.format();
            cluster.startup();
            cluster.waitForReadyBrokers();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeQuietly(cluster);
            throw new IllegalStateException("interrupted while starting the embedded Kafka broker", e);
        } catch (Exception e) {
            closeQuietly(cluster);
            throw new IllegalStateException("the embedded Kafka broker did not start: " + e.getMessage(), e);
        }
        EmbeddedKafka kafka = new EmbeddedKafka(cluster);
        LOG.info("Embedded Kafka broker ready at {} in {} ms",
                kafka.bootstrapServers(), (System.nanoTime() - started) / 1_000_000);
        return kafka;
    }

    /**
     * The broker ends the JVM (Exit.halt) when its log directory fails, which happens when the JVM's
     * shutdown removes a temporary directory under a broker still stopping; in a test JVM that turns
     * a green run into a crashed fork, and in {@code sluice up} it would take every service down with
     * the broker. The embedded broker logs such a request instead.
     */
    static void keepTheJvmAlive() {
        org.apache.kafka.common.utils.Exit.setHaltProcedure((code, message) ->
                LOG.error("The embedded Kafka broker asked to halt the JVM (status {}): {}; ignored", code, message));
        org.apache.kafka.common.utils.Exit.setExitProcedure((code, message) ->
                LOG.error("The embedded Kafka broker asked to exit the JVM (status {}): {}; ignored", code, message));
    }

    static Map<String, Object> brokerConfig() {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("auto.create.topics.enable", "false");
        config.put("offsets.topic.replication.factor", "1");
        config.put("offsets.topic.num.partitions", "5");
        config.put("transaction.state.log.replication.factor", "1");
        config.put("transaction.state.log.min.isr", "1");
        config.put("transaction.state.log.num.partitions", "5");
        config.put("share.coordinator.state.topic.replication.factor", "1");
        config.put("share.coordinator.state.topic.min.isr", "1");
        // 50 by default: created on a share group's first use, which then waited seconds for it
        config.put("share.coordinator.state.topic.num.partitions", "5");
        config.put("group.initial.rebalance.delay.ms", "0");
        config.put("log.cleaner.dedupe.buffer.size", String.valueOf(2 * 1024 * 1024));
        // A transaction's first write to a partition waits while the previous transaction's markers are
        // still being written; the broker retries that after 20 ms by default, which caps a gate
        // committing back-to-back transactions at ~40 per second. Retry at once instead.
        config.put("add.partitions.to.txn.retry.backoff.ms", "1");
        config.put("add.partitions.to.txn.retry.backoff.max.ms", "10");
        config.put("group.coordinator.append.linger.ms", "-1");
        return config;
    }

    /**
     * Stops the broker (its controller stays up) and starts it again on the same port with the same
     * data, as a broker restart in production; clients reconnect by themselves. About 10 s here.
     */
    public void restartBroker() {
        restartBroker(Duration.ZERO);
    }

    /** Stops the broker, keeps it stopped for {@code downFor} (an outage), and starts it again on its data. */
    public void restartBroker(Duration downFor) {
        cluster.brokers().values().forEach(broker -> broker.shutdown());
        cluster.brokers().values().forEach(broker -> broker.awaitShutdown());
        LOG.info("Embedded Kafka broker stopped for {}", downFor);
        try {
            Thread.sleep(downFor.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the broker was down", e);
        }
        cluster.brokers().values().forEach(broker -> broker.startup());
        try {
            cluster.waitForReadyBrokers();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while restarting the broker", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("the broker did not come back: " + e.getMessage(), e);
        }
        LOG.info("Embedded Kafka broker restarted at {}", bootstrapServers());
    }

    /** The {@code bootstrap.servers} value for clients of this broker. */
    public String bootstrapServers() {
        return cluster.bootstrapServers();
    }

    @Override
    public void close() {
        try {
            cluster.close();
        } catch (Exception e) {
            LOG.warn("Embedded Kafka broker did not close cleanly: {}", e.toString());
        }
    }

    private static void closeQuietly(KafkaClusterTestKit cluster) {
        if (cluster == null) {
            return;
        }
        try {
            cluster.close();
        } catch (Exception ignored) {
            // already failing; the original error is the one worth reporting
        }
    }

    @Override
    public String toString() {
        return "EmbeddedKafka[" + Objects.toString(cluster.bootstrapServers()) + "]";
    }
}
