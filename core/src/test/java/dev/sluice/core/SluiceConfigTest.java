package dev.sluice.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SluiceConfigTest {

    @Test
    void defaultsAreThoseOfTheEmbeddedStack() {
        SluiceConfig config = SluiceConfig.defaults();

        assertThat(config.kafkaBootstrapServers()).isEqualTo("localhost:9092");
        assertThat(config.redisUri()).hasToString("redis://localhost:6379");
        assertThat(config.topics().tasks()).isEqualTo("sluice.tasks");
        assertThat(config.keys().index()).isEqualTo("sluice:queues");
        assertThat(config.bucketHorizon()).isEqualTo(Duration.ofMillis(100));
    }

    @Test
    void readsEveryVariable() {
        SluiceConfig config = SluiceConfig.fromEnvironment(Map.of(
                "KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9093",
                "REDIS_URL", "redis://cache:6380",
                "SLUICE_TOPIC_PREFIX", "acme",
                "SLUICE_KEY_PREFIX", "acme",
                "SLUICE_BUCKET_HORIZON_MS", "10"));

        assertThat(config.kafkaBootstrapServers()).isEqualTo("k1:9092,k2:9093");
        assertThat(config.redisUri().getPort()).isEqualTo(6380);
        assertThat(config.topics().ready()).isEqualTo("acme.ready");
        assertThat(config.keys().index()).isEqualTo("acme:queues");
        assertThat(config.bucketHorizon()).isEqualTo(Duration.ofMillis(10));
    }

    @Test
    void blankVariablesTakeTheirDefaults() {
        assertThat(SluiceConfig.fromEnvironment(Map.of("REDIS_URL", "  ")).redisUri())
                .hasToString("redis://localhost:6379");
    }

    @Test
    void redisClusterNodesNameTheSeedsOfACluster() {
        SluiceConfig one = SluiceConfig.defaults();
        SluiceConfig cluster = SluiceConfig.fromEnvironment(Map.of(
                "REDIS_CLUSTER_NODES", " redis-1:7000, redis-2:7001 ,10.0.0.3:7002",
                "REDIS_URL", "rediss://sluice:secret@ignored:6379"));

        assertThat(one.redisCluster()).isFalse();
        assertThat(cluster.redisCluster()).isTrue();
        assertThat(cluster.redisClusterNodes()).containsExactly("redis-1:7000", "redis-2:7001", "10.0.0.3:7002");
        assertThat(cluster.toString()).contains("redisClusterNodes=[redis-1:7000").doesNotContain("secret");
        assertThatThrownBy(() -> SluiceConfig.fromEnvironment(Map.of("REDIS_CLUSTER_NODES", "redis-1:7000,redis-2")))
                .hasMessageStartingWith("REDIS_CLUSTER_NODES: ").hasMessageContaining("\"redis-2\" is not host:port");
    }

    @Test
    void namesTheVariableThatIsWrong() {
        assertThatThrownBy(() -> SluiceConfig.fromEnvironment(Map.of("KAFKA_BOOTSTRAP_SERVERS", "localhost")))
                .hasMessageStartingWith("KAFKA_BOOTSTRAP_SERVERS: ").hasMessageContaining("host:port");
        assertThatThrownBy(() -> SluiceConfig.fromEnvironment(Map.of("REDIS_URL", "http://x:1")))
                .hasMessageStartingWith("REDIS_URL: ").hasMessageContaining("redis://");
        assertThatThrownBy(() -> SluiceConfig.fromEnvironment(Map.of("REDIS_URL", "redis://nohostport")))
                .hasMessageStartingWith("REDIS_URL: ").hasMessageContaining("host and a port");
        assertThatThrownBy(() -> SluiceConfig.fromEnvironment(Map.of("SLUICE_TOPIC_PREFIX", "a/b")))
                .hasMessageStartingWith("SLUICE_TOPIC_PREFIX: ");
        assertThatThrownBy(() -> SluiceConfig.fromEnvironment(Map.of("SLUICE_KEY_PREFIX", "a{b")))
                .hasMessageStartingWith("SLUICE_KEY_PREFIX: ");
        assertThatThrownBy(() -> SluiceConfig.fromEnvironment(Map.of("SLUICE_BUCKET_HORIZON_MS", "5000")))
                .hasMessageStartingWith("SLUICE_BUCKET_HORIZON_MS: ").hasMessageContaining("between 0 and 1000");
        assertThatThrownBy(() -> SluiceConfig.fromEnvironment(Map.of("SLUICE_BUCKET_HORIZON_MS", "soon")))
                .hasMessageStartingWith("SLUICE_BUCKET_HORIZON_MS: ");
    }
}
