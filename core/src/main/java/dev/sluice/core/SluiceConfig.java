package dev.sluice.core;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Where Sluice finds Kafka and Redis and how it names things there; validated when built.
 *
 * @param kafkaBootstrapServers {@code host:port[,host:port...]}
 * @param redisUri {@code redis://[user:password@]host:port[/db]} or {@code rediss://...}
 * @param bucketHorizon how far ahead one acquisition may reserve token slots (0 to 1 s)
 * @param kafkaClient Kafka client settings of one's own, TLS and SASL above all ({@link KafkaClientSettings}),
 *     given to every Kafka client
 * @param redisClusterNodes {@code host:port} seed nodes of a Redis Cluster, empty for one Redis server; with
 *     a cluster, {@code redisUri}'s user, password and scheme ({@code rediss} for TLS) apply to every node
 */
public record SluiceConfig(String kafkaBootstrapServers, URI redisUri, Topics topics, RedisKeys keys,
                           Duration bucketHorizon, Map<String, String> kafkaClient, List<String> redisClusterNodes) {

    public static final String ENV_KAFKA = "KAFKA_BOOTSTRAP_SERVERS";
    public static final String ENV_REDIS = "REDIS_URL";
    public static final String ENV_TOPIC_PREFIX = "SLUICE_TOPIC_PREFIX";
    public static final String ENV_KEY_PREFIX = "SLUICE_KEY_PREFIX";
    public static final String ENV_BUCKET_HORIZON_MS = "SLUICE_BUCKET_HORIZON_MS";
    public static final String ENV_REDIS_CLUSTER = "REDIS_CLUSTER_NODES";

    public static final String DEFAULT_KAFKA = "localhost:9092";
    public static final String DEFAULT_REDIS = "redis://localhost:6379";
    public static final Duration DEFAULT_BUCKET_HORIZON = Duration.ofMillis(100);
    private static final Duration MAX_BUCKET_HORIZON = Duration.ofSeconds(1);

    public SluiceConfig {
        Objects.requireNonNull(topics, "topics");
        Objects.requireNonNull(keys, "keys");
        Objects.requireNonNull(bucketHorizon, "bucketHorizon");
        kafkaClient = Map.copyOf(kafkaClient);
        kafkaBootstrapServers = validateBootstrap(kafkaBootstrapServers);
        validateRedisUri(redisUri);
        redisClusterNodes = validateClusterNodes(redisClusterNodes);
        if (bucketHorizon.isNegative() || bucketHorizon.compareTo(MAX_BUCKET_HORIZON) > 0) {
            throw new IllegalArgumentException("the bucket horizon must be between 0 and 1000 ms, got "
                    + bucketHorizon.toMillis() + " ms");
        }
    }

    /** One Redis server, no cluster. */
    public SluiceConfig(String kafkaBootstrapServers, URI redisUri, Topics topics, RedisKeys keys,
                        Duration bucketHorizon, Map<String, String> kafkaClient) {
        this(kafkaBootstrapServers, redisUri, topics, keys, bucketHorizon, kafkaClient, List.of());
    }

    /** Whether Redis is a cluster ({@value #ENV_REDIS_CLUSTER} set). */
    public boolean redisCluster() {
        return !redisClusterNodes.isEmpty();
    }

    /** The defaults of the embedded stack: Kafka at localhost:9092, Redis at localhost:6379. */
    public static SluiceConfig defaults() {
        return fromEnvironment(Map.of());
    }

    /**
     * Reads {@value #ENV_KAFKA}, {@value #ENV_REDIS}, {@value #ENV_TOPIC_PREFIX}, {@value #ENV_KEY_PREFIX}
     * {@value #ENV_BUCKET_HORIZON_MS} and {@value #ENV_REDIS_CLUSTER}; unset or blank variables take their
     * defaults.
     *
     * @throws IllegalArgumentException naming the variable whose value is wrong
     */
    public static SluiceConfig fromEnvironment(Map<String, String> env) {
        Map<String, String> client = new java.util.HashMap<>(KafkaClientSettings.fromEnvironment(env));
        String fromFile = client.remove("bootstrap.servers");
        String kafka = Env.text(env, ENV_KAFKA, fromFile == null || fromFile.isBlank() ? DEFAULT_KAFKA : fromFile);
        String redis = Env.text(env, ENV_REDIS, DEFAULT_REDIS);
        String topicPrefix = Env.text(env, ENV_TOPIC_PREFIX, Topics.DEFAULT_PREFIX);
        String keyPrefix = Env.text(env, ENV_KEY_PREFIX, RedisKeys.DEFAULT_PREFIX);
        String horizon = Env.text(env, ENV_BUCKET_HORIZON_MS, String.valueOf(DEFAULT_BUCKET_HORIZON.toMillis()));
        String cluster = Env.text(env, ENV_REDIS_CLUSTER, "");
        try {
            return new SluiceConfig(kafka, parseUri(redis), new Topics(topicPrefix), new RedisKeys(keyPrefix),
                    Duration.ofMillis(parseMillis(horizon)), client,
                    cluster.isBlank() ? List.of() : java.util.Arrays.stream(cluster.split(",")).map(String::strip).toList());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(culprit(e.getMessage()) + ": " + e.getMessage(), e);
        }
    }

    /**
     * What every Kafka client of a service starts from: the bootstrap servers and the client settings of
     * one's own; the client adds its own settings over them.
     */
    public Map<String, Object> kafkaProperties() {
        Map<String, Object> properties = new java.util.HashMap<>(kafkaClient);
        properties.put("bootstrap.servers", kafkaBootstrapServers);
        return properties;
    }

    /** The configuration without the Redis password or the values of the Kafka client settings. */
    @Override
    public String toString() {
        return "SluiceConfig[kafkaBootstrapServers=" + kafkaBootstrapServers + ", redisUri=" + Secrets.redact(redisUri)
                + ", topics=" + topics + ", keys=" + keys + ", bucketHorizon=" + bucketHorizon
                + ", kafkaClient=" + KafkaClientSettings.describe(kafkaClient)
                + (redisCluster() ? ", redisClusterNodes=" + redisClusterNodes : "") + "]";
    }

    private static String culprit(String message) {
        if (message.startsWith(KafkaClientSettings.ENV_FILE) || message.startsWith("KAFKA_")) {
            return "Kafka client settings";
        }
        if (message.contains("bootstrap")) {
            return ENV_KAFKA;
        }
        if (message.contains("Redis Cluster")) {
            return ENV_REDIS_CLUSTER;
        }
        if (message.contains("Redis URL")) {
            return ENV_REDIS;
        }
        if (message.contains("topic prefix")) {
            return ENV_TOPIC_PREFIX;
        }
        if (message.contains("key prefix")) {
            return ENV_KEY_PREFIX;
        }
        return ENV_BUCKET_HORIZON_MS;
    }

    private static long parseMillis(String text) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("the bucket horizon must be a whole number of milliseconds, got \""
                    + text + "\"");
        }
    }

    private static URI parseUri(String text) {
        try {
            return new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("the Redis URL \"" + Secrets.redact(text) + "\" is not a URI: "
                    + Secrets.redact(e.getReason()));
        }
    }

    private static String validateBootstrap(String servers) {
        if (servers == null || servers.isBlank()) {
            throw new IllegalArgumentException("the Kafka bootstrap servers are empty; expected host:port[,host:port]");
        }
        for (String server : servers.split(",")) {
            String s = server.strip();
            if (!isHostAndPort(s)) {
                throw new IllegalArgumentException("the Kafka bootstrap server \"" + s
                        + "\" is not host:port (e.g. localhost:9092)");
            }
        }
        return servers.strip();
    }

    private static List<String> validateClusterNodes(List<String> nodes) {
        Objects.requireNonNull(nodes, "redisClusterNodes");
        for (String node : nodes) {
            if (!isHostAndPort(node)) {
                throw new IllegalArgumentException("the Redis Cluster node \"" + node
                        + "\" is not host:port (e.g. redis-1:6379,redis-2:6379,redis-3:6379)");
            }
        }
        return List.copyOf(nodes);
    }

    /** {@code host:port}: something before the last colon, digits after it. */
    private static boolean isHostAndPort(String text) {
        int colon = text.lastIndexOf(':');
        return colon > 0 && colon < text.length() - 1 && text.substring(colon + 1).chars().allMatch(Character::isDigit);
    }

    private static void validateRedisUri(URI uri) {
        Objects.requireNonNull(uri, "redisUri");
        String scheme = uri.getScheme();
        if (!"redis".equals(scheme) && !"rediss".equals(scheme)) {
            throw new IllegalArgumentException("the Redis URL \"" + Secrets.redact(uri)
                    + "\" must start with redis:// or rediss:// (e.g. redis://localhost:6379)");
        }
        if (uri.getHost() == null || uri.getPort() < 0) {
            throw new IllegalArgumentException("the Redis URL \"" + Secrets.redact(uri) + "\" needs a host and a port"
                    + " (e.g. redis://localhost:6379)");
        }
    }
}
