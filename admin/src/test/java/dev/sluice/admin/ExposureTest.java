package dev.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micronaut.context.exceptions.ConfigurationException;
import org.junit.jupiter.api.Test;

class ExposureTest {

    @Test
    void beyondLoopbackWithoutATokenIsRefusedWithTheWayOut() {
        assertThatThrownBy(() -> new Exposure("0.0.0.0", "", false))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("0.0.0.0").hasMessageContaining("SLUICE_ADMIN_TOKEN")
                .hasMessageContaining("SLUICE_ADMIN_HOST").hasMessageContaining("SLUICE_ADMIN_INSECURE=true");
        assertThatThrownBy(() -> new Exposure("", " ", false)).isInstanceOf(ConfigurationException.class);
    }

    @Test
    void loopbackATokenOrAnExplicitInsecureIsAllowed() {
        assertThat(new Exposure("127.0.0.1", "", false).loopback()).isTrue();
        assertThat(new Exposure("localhost", "", false).loopback()).isTrue();
        assertThat(new Exposure("::1", "", false).loopback()).isTrue();
        assertThat(new Exposure("0.0.0.0", "t0ken", false).loopback()).isFalse();
        assertThat(new Exposure("0.0.0.0", "", true).loopback()).isFalse();
    }

    @Test
    void onlyLoopbackLiteralsAndLocalhostCountAsLoopbackNamesInAHostHeader() {
        assertThat(SameOriginFilter.isLoopbackName(SameOriginFilter.hostName("localhost:8080"))).isTrue();
        assertThat(SameOriginFilter.isLoopbackName(SameOriginFilter.hostName("127.0.0.1:8080"))).isTrue();
        assertThat(SameOriginFilter.isLoopbackName(SameOriginFilter.hostName("[::1]:8080"))).isTrue();
        assertThat(SameOriginFilter.isLoopbackName(SameOriginFilter.hostName("127.0.0.1.evil.example"))).isFalse();
        assertThat(SameOriginFilter.isLoopbackName(SameOriginFilter.hostName("evil.example:8080"))).isFalse();
        assertThat(SameOriginFilter.isLoopbackName(SameOriginFilter.hostName(null))).isFalse();
    }

    @Test
    void anOriginIsTheRequestsOwnOnlyWithTheSameHostAndPort() {
        assertThat(SameOriginFilter.sameAuthority("http://localhost:8080", "localhost:8080")).isTrue();
        assertThat(SameOriginFilter.sameAuthority("https://admin.example", "admin.example")).isTrue();
        assertThat(SameOriginFilter.sameAuthority("http://admin.example", "admin.example:80")).isTrue();
        assertThat(SameOriginFilter.sameAuthority("http://localhost:3000", "localhost:8080")).isFalse();
        assertThat(SameOriginFilter.sameAuthority("http://evil.example", "localhost:8080")).isFalse();
        assertThat(SameOriginFilter.sameAuthority("null", "localhost:8080")).isFalse();
        assertThat(SameOriginFilter.sameAuthority("http://localhost:8080", null)).isFalse();
    }
}
