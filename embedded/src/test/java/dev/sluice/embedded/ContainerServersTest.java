package dev.sluice.embedded;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.opentest4j.TestAbortedException;
import org.testcontainers.DockerClientFactory;

/** -Pcontainers where no Docker engine answers: a test that asks for the images is skipped, and says why. */
class ContainerServersTest {

    @Test
    void withoutADockerEngineATestThatAsksForTheImagesIsSkippedWithTheReason() {
        Assumptions.assumeFalse(DockerClientFactory.instance().isDockerAvailable(),
                "a Docker engine answers here: the images would start, there is no skip to see");

        assertThatThrownBy(ContainerServers::requireDocker).isInstanceOf(TestAbortedException.class)
                .hasMessageContaining("no Docker engine answers here");
    }
}
