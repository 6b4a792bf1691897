package dev.sluice.embedded;

import java.util.Optional;

/**
 * The Kafka broker and the Redis server that every test in one JVM shares.
 *
 * <p>Each is chosen once, on first use: the server named by {@code KAFKA_BOOTSTRAP_SERVERS} /
 * {@code REDIS_URL} when set; under {@code -Pcontainers} one from its official image
 * ({@link ContainerServers}; the test is skipped where no Docker engine answers); else an embedded one
 * ({@link EmbeddedKafka}, {@link RedisServerProcess}) that lives until the JVM exits. Tests keep apart by using random queue and topic names, never by
 * starting servers of their own.
 */
public final class SharedServers {

    private static Kafka kafka;
    private static Redis redis;

    private SharedServers() {
    }

    /** The {@code bootstrap.servers} of the shared broker, starting an embedded one if needed. */
    public static synchronized String kafkaBootstrapServers() {
        if (kafka == null) {
            String external = System.getenv("KAFKA_BOOTSTRAP_SERVERS");
            if (external != null && !external.isBlank()) {
                kafka = new Kafka(external.strip(), null);
            } else if (ContainerServers.wanted()) {
                kafka = new Kafka(ContainerServers.kafka(), null);
            } else {
                EmbeddedKafka embedded = EmbeddedKafka.start();
                kafka = new Kafka(embedded.bootstrapServers(), embedded);
                Runtime.getRuntime().addShutdownHook(new Thread(embedded::close, "embedded-kafka-shutdown"));
            }
        }
        return kafka.bootstrapServers();
    }

    /** The {@code redis://} URI of the shared server, starting a redis-server process if needed. */
    public static synchronized String redisUri() {
        return redis().uri();
    }

    /**
     * The shared redis-server process, when this JVM started it; empty when {@code REDIS_URL} names an
     * external server. Tests that stop and restart Redis need it and skip without it.
     */
    public static synchronized Optional<RedisServerProcess> redisProcess() {
        return Optional.ofNullable(redis().process());
    }

    private static Redis redis() {
        if (redis == null) {
            String external = System.getenv("REDIS_URL");
            if (external != null && !external.isBlank()) {
                redis = new Redis(external.strip(), null);
            } else if (ContainerServers.wanted()) {
                redis = new Redis(ContainerServers.redis(), null);
            } else {
                RedisServerProcess process = RedisServerProcess.startEphemeral();
                redis = new Redis(process.uri(), process);
                Runtime.getRuntime().addShutdownHook(new Thread(process::close, "redis-server-shutdown"));
            }
        }
        return redis;
    }

    private record Kafka(String bootstrapServers, EmbeddedKafka embedded) {
    }

    private record Redis(String uri, RedisServerProcess process) {
    }
}
