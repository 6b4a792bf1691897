package dev.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OutboundPolicyTest {

    @Test
    void publicAddressesPassAndEverySpecialKindIsNamed() throws Exception {
        OutboundPolicy policy = OutboundPolicy.publicOnly();

        assertThat(policy.refusal("93.184.215.14")).isNull();
        assertThat(policy.refusal("2606:4700::1111")).isNull();
        assertThat(policy.refusal("127.0.0.1")).contains("loopback");
        assertThat(policy.refusal("169.254.169.254")).contains("link-local");
        assertThat(policy.refusal("10.1.2.3")).contains("private");
        assertThat(policy.refusal("100.100.100.200")).contains("carrier-grade NAT");
        assertThat(policy.refusal("[fd00:ec2::254]")).contains("unique-local");
        assertThat(policy.refusal("64:ff9b::a00:1")).contains("private"); // NAT64 of 10.0.0.1
        assertThat(policy.refusal("0.0.0.0")).contains("wildcard");
        assertThat(policy.refusal("240.0.0.1")).contains("reserved");
        assertThat(policy.refusal("localhost")).contains("loopback");
    }

    @Test
    void namesSuffixesAddressesAndBlocksAllowWhatTheyName() throws Exception {
        OutboundPolicy policy = OutboundPolicy.parse(" localhost, *.internal ,10.0.0.0/8, ::1 ");

        assertThat(policy.refusal("localhost")).isNull();
        assertThat(policy.refusal("LOCALHOST")).isNull();
        assertThat(policy.refusal("10.200.0.1")).isNull();
        assertThat(policy.refusal("[::1]")).isNull();
        assertThat(policy.refusal("11.0.0.1")).isNull(); // public anyway
        assertThat(policy.refusal("192.168.0.1")).contains("private");
        assertThat(policy.refusal("127.0.0.1")).contains("loopback"); // the name is allowed, not its address
        assertThat(policy.refusal("api.internal", InetAddress.getByName("192.168.0.1"))).isNull();
        assertThat(policy.refusal("internal", InetAddress.getByName("192.168.0.1"))).isNotNull();
        assertThat(OutboundPolicy.parse("*").refusal("169.254.169.254")).isNull();
    }

    @Test
    void aWrongEntryIsRefusedAtStartWithTheVariablesName() {
        assertThatThrownBy(() -> OutboundPolicy.fromEnvironment(Map.of(OutboundPolicy.ENV, "10.0.0.0/33")))
                .hasMessageContaining(OutboundPolicy.ENV).hasMessageContaining("10.0.0.0/33");
        assertThatThrownBy(() -> OutboundPolicy.parse("api example")).hasMessageContaining("api example");
        assertThatThrownBy(() -> OutboundPolicy.parse("300.1.1.1")).hasMessageContaining("300.1.1.1");
    }
}
