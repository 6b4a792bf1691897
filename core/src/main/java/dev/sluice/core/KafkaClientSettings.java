package dev.sluice.core;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * Kafka client settings of one's own, for a Kafka that needs TLS or SASL (Confluent Cloud, MSK, Aiven):
 * the standard Kafka client property names, from a properties file ({@value #ENV_FILE}, e.g. the
 * {@code client.properties} a managed service hands out) and from {@code KAFKA_} variables, the name
 * upper-cased with dots as underscores ({@code KAFKA_SECURITY_PROTOCOL=SASL_SSL} is
 * {@code security.protocol}, {@code KAFKA_SASL_JAAS_CONFIG} is {@code sasl.jaas.config}). A variable wins
 * over the file; a {@code KAFKA_} variable that names no client property ({@code KAFKA_HEAP_OPTS}) is
 * not one of these. Every producer, consumer, admin and Streams client of every service gets them;
 * what Sluice decides for its own correctness (group ids, transactions, isolation, commits,
 * serializers) cannot be set this way.
 */
public final class KafkaClientSettings {

    public static final String ENV_FILE = "SLUICE_KAFKA_PROPERTIES";
    private static final String PREFIX = "KAFKA_";

    /** Set by Sluice for its guarantees: refused when given. */
    static final Set<String> OWNED = Set.of(ConsumerConfig.GROUP_ID_CONFIG, ConsumerConfig.GROUP_INSTANCE_ID_CONFIG,
            ProducerConfig.TRANSACTIONAL_ID_CONFIG, ConsumerConfig.ISOLATION_LEVEL_CONFIG,
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
            ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
            ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG);

    private static final Set<String> CLIENT_PROPERTIES = clientProperties();

    private KafkaClientSettings() {
    }

    private static Set<String> clientProperties() {
        Set<String> names = new HashSet<>(ProducerConfig.configNames());
        names.addAll(ConsumerConfig.configNames());
        names.addAll(AdminClientConfig.configNames());
        return Set.copyOf(names);
    }

    /**
     * The settings of {@code env}, {@code bootstrap.servers} included when the file gives it.
     *
     * @throws IllegalArgumentException naming the variable or file entry that is wrong
     */
    public static Map<String, String> fromEnvironment(Map<String, String> env) {
        Map<String, String> settings = new TreeMap<>();
        String file = env.get(ENV_FILE);
        if (file != null && !file.isBlank()) {
            Properties properties = new Properties();
            try (InputStream in = Files.newInputStream(Path.of(file.strip()))) {
                properties.load(in);
            } catch (IOException e) {
                throw new IllegalArgumentException(ENV_FILE + ": cannot read " + file + ": " + e.getMessage(), e);
            }
            for (String name : properties.stringPropertyNames()) {
                settings.put(checked(name, ENV_FILE + " (" + file + ")"), properties.getProperty(name).strip());
            }
        }
        for (Map.Entry<String, String> variable : env.entrySet()) {
            String key = variable.getKey();
            if (!key.startsWith(PREFIX) || key.equals(SluiceConfig.ENV_KAFKA) || variable.getValue() == null) {
                continue;
            }
            String name = key.substring(PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '.');
            if (CLIENT_PROPERTIES.contains(name)) {
                settings.put(checked(name, key), variable.getValue());
            }
        }
        return Map.copyOf(settings);
    }

    private static String checked(String name, String source) {
        if (OWNED.contains(name)) {
            throw new IllegalArgumentException(source + ": " + name + " is set by Sluice itself and cannot be changed");
        }
        return name;
    }

    /** The names, each value masked: what a log line may show. */
    public static String describe(Map<String, String> settings) {
        return settings.isEmpty() ? "{}" : settings.keySet().stream().sorted()
                .map(name -> name + "=" + Secrets.MASK).collect(java.util.stream.Collectors.joining(", ", "{", "}"));
    }
}
