package dev.sluice.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SecretsTest {

    @Test
    void aUrlKeepsItsUserAndLosesItsPassword() {
        assertThat(Secrets.redact(URI.create("redis://app:s3cret@cache.example:6379/2")))
                .isEqualTo("redis://app:***@cache.example:6379/2");
        assertThat(Secrets.redact("rediss://:s3cret@cache.example:6380")).isEqualTo("rediss://:***@cache.example:6380");
        assertThat(Secrets.redact("redis://s3cret@cache.example:6379")).isEqualTo("redis://***@cache.example:6379");
        assertThat(Secrets.redact("redis://cache.example:6379")).isEqualTo("redis://cache.example:6379");
        assertThat(Secrets.redact("redis://:p@ss@h:1 and http://u:pw@h2/x@y"))
                .isEqualTo("redis://:***@h:1 and http://u:***@h2/x@y");
    }

    @Test
    void theConfigurationAndItsErrorsNeverShowTheRedisPassword() {
        SluiceConfig config = SluiceConfig.fromEnvironment(Map.of(SluiceConfig.ENV_REDIS, "redis://app:s3cret@localhost:6379"));

        assertThat(config.toString()).doesNotContain("s3cret").contains("redis://app:***@localhost:6379");
        assertThat(config.redisUri().getUserInfo()).isEqualTo("app:s3cret"); // still there for the client
        for (String bad : new String[] {"http://app:s3cret@localhost:6379", "redis://app:s3cret@", "redis://app:s3cret@h:1/ x"}) {
            assertThatThrownBy(() -> SluiceConfig.fromEnvironment(Map.of(SluiceConfig.ENV_REDIS, bad)))
                    .as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("REDIS_URL").hasMessageNotContaining("s3cret");
        }
    }
}
