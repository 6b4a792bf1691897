package dev.sluice.ingest;

import dev.sluice.core.SluiceConfig;
import dev.sluice.core.kafka.TopicProvisioner;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Properties;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.UnifiedJedis;

/**
 * The running statistics: Kafka Streams application {@code sluice-stats} (under the default topic
 * prefix), exactly-once v2, over {@link StatsTopology}, writing to Redis with {@link RedisStatsSink}.
 * Redis writes are absolute values, so records processed again after a failure write the same.
 */
public final class Stats implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Stats.class);

    private final KafkaStreams streams;
    private final UnifiedJedis redis;

    private Stats(KafkaStreams streams, UnifiedJedis redis) {
        this.streams = streams;
        this.redis = redis;
    }

    public static Stats start(SluiceConfig config) {
        TopicProvisioner.ensureSharedTopics(config, 8);
        SourceOffsets.seed(config.kafkaProperties(), config.topics().statsGroup(),
                java.util.List.of(config.topics().events(), config.topics().ready()));
        UnifiedJedis redis = dev.sluice.core.redis.RedisConnections.open(config);
        KafkaStreams streams = new KafkaStreams(
                StatsTopology.build(config.topics(), new RedisStatsSink(redis, config.keys())), properties(config));
        streams.setUncaughtExceptionHandler(error -> {
            LOG.warn("A statistics thread failed and is replaced; its records are processed again: {}", error.toString());
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
        });
        streams.start();
        LOG.info("Statistics started from {} and {}", config.topics().events(), config.topics().ready());
        return new Stats(streams, redis);
    }

    public KafkaStreams.State state() {
        return streams.state();
    }

    static Properties properties(SluiceConfig config) {
        Properties props = new Properties();
        props.putAll(config.kafkaProperties()); // bootstrap servers, and TLS or SASL when set
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, config.topics().statsGroup());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        // the behaviour Kafka 5 makes the default; without it every start logs a warning
        props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
        // a cache only where StatsTopology asks for one (the releases, one record each): flushed at every
        // commit, so a figure is at most a commit interval behind; the events' totals go out as they change
        props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 4L * 1024 * 1024);
        props.put(StreamsConfig.producerPrefix(ProducerConfig.RETRY_BACKOFF_MS_CONFIG), 5);
        props.put(StreamsConfig.consumerPrefix(org.apache.kafka.clients.consumer.ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG),
                10_000);
        try {
            props.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("sluice-stats").toString());
        } catch (IOException e) {
            throw new IllegalStateException("no temporary directory for the statistics' state: " + e.getMessage(), e);
        }
        return props;
    }

    @Override
    public void close() {
        streams.close(CloseOptions.timeout(Duration.ofSeconds(20))
                .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
        redis.close();
        LOG.info("Statistics stopped");
    }
}
