package dev.sluice.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KafkaClientSettingsTest {

    @Test
    void kafkaVariablesMapToClientPropertiesAndWinOverTheFile() throws Exception {
        Path file = Files.createTempFile("client", ".properties");
        Files.writeString(file, "bootstrap.servers=broker.example:9093\nsecurity.protocol=SSL\nsasl.mechanism=PLAIN\n");

        SluiceConfig config = SluiceConfig.fromEnvironment(Map.of(
                KafkaClientSettings.ENV_FILE, file.toString(),
                "KAFKA_SECURITY_PROTOCOL", "SASL_SSL",
                "KAFKA_SASL_JAAS_CONFIG", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"u\" password=\"s3cret\";",
                "KAFKA_SSL_TRUSTSTORE_LOCATION", "/etc/ca.jks",
                "KAFKA_HEAP_OPTS", "-Xmx1g"));

        assertThat(config.kafkaBootstrapServers()).isEqualTo("broker.example:9093"); // from the file
        assertThat(config.kafkaClient()).containsOnlyKeys("security.protocol", "sasl.mechanism", "sasl.jaas.config",
                "ssl.truststore.location");
        assertThat(config.kafkaClient()).containsEntry("security.protocol", "SASL_SSL").containsEntry("sasl.mechanism", "PLAIN");
        assertThat(config.kafkaProperties()).containsEntry("bootstrap.servers", "broker.example:9093")
                .containsEntry("ssl.truststore.location", "/etc/ca.jks");
        assertThat(config.toString()).doesNotContain("s3cret").contains("sasl.jaas.config=***");
        assertThat(SluiceConfig.fromEnvironment(Map.of(KafkaClientSettings.ENV_FILE, file.toString(),
                SluiceConfig.ENV_KAFKA, "mine:9092")).kafkaBootstrapServers()).isEqualTo("mine:9092");
    }

    @Test
    void whatSluiceDecidesCannotBeSetAndAMissingFileIsNamed() {
        assertThatThrownBy(() -> SluiceConfig.fromEnvironment(Map.of("KAFKA_ISOLATION_LEVEL", "read_uncommitted")))
                .hasMessageContaining("KAFKA_ISOLATION_LEVEL").hasMessageContaining("isolation.level")
                .hasMessageContaining("set by Sluice");
        assertThatThrownBy(() -> SluiceConfig.fromEnvironment(Map.of(KafkaClientSettings.ENV_FILE, "/nonexistent/client.properties")))
                .hasMessageContaining(KafkaClientSettings.ENV_FILE).hasMessageContaining("/nonexistent/client.properties");
    }
}
