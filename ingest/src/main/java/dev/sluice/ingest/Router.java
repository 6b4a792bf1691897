package dev.sluice.ingest;

import dev.sluice.core.SluiceConfig;
import dev.sluice.core.kafka.TopicProvisioner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running router: Kafka Streams application {@code sluice-router} (under the default topic
 * prefix), exactly-once v2, over {@link RouterTopology}. A stream thread that fails (Redis unreachable
 * during a lookup, say) is replaced and its records are processed again from the last commit.
 */
public final class Router implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Router.class);

    private final KafkaStreams streams;
    private final RegistryQueueDirectory directory;

    private Router(KafkaStreams streams, RegistryQueueDirectory directory) {
        this.streams = streams;
        this.directory = directory;
    }

    /** With the default header limit. */
    public static Router start(SluiceConfig config, int maxPayloadBytes) {
        return start(config, new dev.sluice.core.RecordLimits(maxPayloadBytes, dev.sluice.core.RecordLimits.DEFAULTS.maxHeaderBytes()));
    }

    public static Router start(SluiceConfig config, dev.sluice.core.RecordLimits limits) {
        TopicProvisioner.ensureSharedTopics(config, 8);
        SourceOffsets.seed(config.kafkaProperties(), applicationId(config), List.of(config.topics().tasks()));
        RegistryQueueDirectory directory = new RegistryQueueDirectory(config);
        KafkaStreams streams = new KafkaStreams(
                RouterTopology.build(config.topics(), directory, limits), properties(config));
        streams.setUncaughtExceptionHandler(error -> {
            LOG.warn("A router thread failed and is replaced; its records are processed again: {}", error.toString());
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
        });
        streams.start();
        LOG.info("Router started: {} -> {}.q.<queue>", config.topics().tasks(), config.topics().prefix());
        return new Router(streams, directory);
    }

    public static String applicationId(SluiceConfig config) {
        return config.topics().routerGroup();
    }

    public KafkaStreams.State state() {
        return streams.state();
    }

    static Properties properties(SluiceConfig config) {
        Properties props = new Properties();
        props.putAll(config.kafkaProperties()); // bootstrap servers, and TLS or SASL when set
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId(config));
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        // the behaviour Kafka 5 makes the default; without it every start logs a warning
        props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
        props.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
        props.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
        props.put(StreamsConfig.producerPrefix(ProducerConfig.RETRY_BACKOFF_MS_CONFIG), 5);
        props.put(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, RejectingProductionExceptionHandler.class);
        props.put(RejectingProductionExceptionHandler.REJECTED_TOPIC, config.topics().rejected());
        // a task for a queue topic that does not exist fails fast instead of blocking the router a minute
        props.put(StreamsConfig.producerPrefix(ProducerConfig.MAX_BLOCK_MS_CONFIG), 5_000);
        // a router that died is noticed after this long and its partitions move to the others
        props.put(StreamsConfig.consumerPrefix(org.apache.kafka.clients.consumer.ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG),
                10_000);
        try {
            props.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("sluice-router").toString());
        } catch (java.io.IOException e) {
            props.put(StreamsConfig.STATE_DIR_CONFIG, Path.of(System.getProperty("java.io.tmpdir"), "sluice-router").toString());
        }
        return props;
    }

    @Override
    public void close() {
        // leave the group at once: a router started after this one need not wait for a session timeout
        streams.close(org.apache.kafka.streams.CloseOptions.timeout(Duration.ofSeconds(20))
                .withGroupMembershipOperation(org.apache.kafka.streams.CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
        directory.close();
        LOG.info("Router stopped");
    }
}
