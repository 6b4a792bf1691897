package dev.sluice.embedded;

import org.junit.jupiter.api.Assumptions;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * Kafka and Redis from their official images, the ones compose.yaml runs, through Testcontainers: what
 * {@link SharedServers} gives the tests under the Maven profile {@code containers} ({@code mvn -B verify
 * -Pcontainers}, which sets {@value #PROPERTY}). Where no Docker engine answers, a test that asks for
 * them is skipped, and says why ({@link ContainersCondition} skips them all before they set anything up).
 * Loaded only then: Testcontainers is on no other class path.
 */
final class ContainerServers {

    static final String PROPERTY = "sluice.containers";
    static final String KAFKA_IMAGE = "apache/kafka:4.3.1";
    static final String REDIS_IMAGE = "redis:7.4";
    static final String NO_DOCKER = "-Pcontainers runs the tests against the apache/kafka and redis images, and no"
            + " Docker engine answers here (DOCKER_HOST, /var/run/docker.sock): skipped";

    private ContainerServers() {
    }

    /** Whether this JVM's tests run against the images. */
    static boolean wanted() {
        return Boolean.getBoolean(PROPERTY);
    }

    /** Starts the broker's image for this JVM; its bootstrap servers. */
    static String kafka() {
        requireDocker();
        KafkaContainer kafka = new KafkaContainer(DockerImageName.parse(KAFKA_IMAGE));
        kafka.start();
        Runtime.getRuntime().addShutdownHook(new Thread(kafka::stop, "kafka-container-shutdown"));
        return kafka.getBootstrapServers();
    }

    /** Starts Redis's image for this JVM, with its append-only file written at every write; its URI. */
    static String redis() {
        requireDocker();
        GenericContainer<?> redis = new GenericContainer<>(DockerImageName.parse(REDIS_IMAGE))
                .withExposedPorts(6379)
                .withCommand("redis-server", "--appendonly", "yes", "--appendfsync", "always");
        redis.start();
        Runtime.getRuntime().addShutdownHook(new Thread(redis::stop, "redis-container-shutdown"));
        return "redis://" + redis.getHost() + ":" + redis.getMappedPort(6379);
    }

    /** Skips the asking test, with the reason, where no Docker engine answers. */
    static void requireDocker() {
        Assumptions.assumeTrue(DockerClientFactory.instance().isDockerAvailable(), NO_DOCKER);
    }
}
