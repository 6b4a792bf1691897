package dev.sluice.embedded;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single-node Kafka (KRaft, broker and controller in one) in this JVM on a fixed port, keeping its
 * data in a directory so that a restart finds its topics and offsets again: the broker of
 * {@code sluice up}. Apache Kafka's own server ({@link KafkaRaftServer}); the directory is formatted
 * when it has no {@code meta.properties} yet ({@code kafka-storage format}). The controller listens on a free loopback
 * port chosen at each start (static quorum, so it may change between starts).
 */
public final class LocalKafka implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LocalKafka.class);
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

    private final KafkaRaftServer server;
    private final String bootstrapServers;
    private final Map<String, Object> clientSettings;

    private LocalKafka(KafkaRaftServer server, String bootstrapServers, Map<String, Object> clientSettings) {
        this.server = server;
        this.bootstrapServers = bootstrapServers;
        this.clientSettings = clientSettings;
    }

    /**
     * Formats {@code dataDirectory} if it is new, starts the broker on {@code localhost:port} and waits
     * until it answers.
     *
     * @throws IllegalStateException when it does not start within 60 s
     */
    public static LocalKafka start(int port, Path dataDirectory) {
        return start(port, dataDirectory, Properties::new, Map.of());
    }

    /**
     * The same broker whose one client listener needs SASL/PLAIN ({@code SASL_PLAINTEXT}): {@code user}
     * with {@code password} may connect, nobody else. What a managed Kafka asks of its clients, without TLS.
     */
    public static LocalKafka startWithSasl(int port, Path dataDirectory, String user, String password) {
        String jaas = "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"%s\" password=\"%s\"";
        String brokerJaas = String.format(jaas, "broker", "broker-secret") + " user_broker=\"broker-secret\" user_"
                + user + "=\"" + password + "\";";
        return start(port, dataDirectory, () -> {
            Properties sasl = new Properties();
            sasl.put("listener.security.protocol.map", "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT");
            sasl.put("inter.broker.listener.name", "SASL_PLAINTEXT");
            sasl.put("sasl.enabled.mechanisms", "PLAIN");
            sasl.put("sasl.mechanism.inter.broker.protocol", "PLAIN");
            sasl.put("listener.name.sasl_plaintext.plain.sasl.jaas.config", brokerJaas);
            return sasl;
        }, Map.of("security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", "PLAIN",
                "sasl.jaas.config", String.format(jaas, user, password) + ";"));
    }

    private static LocalKafka start(int port, Path dataDirectory, java.util.function.Supplier<Properties> overrides,
                                    Map<String, Object> clientSettings) {
        long started = System.nanoTime();
        EmbeddedKafka.keepTheJvmAlive();
        Properties props = properties(port, RedisServerProcess.freePort(), dataDirectory.toAbsolutePath());
        Properties extra = overrides.get();
        if (!extra.isEmpty()) { // the one client listener needs SASL
            props.put("listeners", props.getProperty("listeners").replace("PLAINTEXT://localhost:" + port + ",",
                    "SASL_PLAINTEXT://localhost:" + port + ","));
            props.put("advertised.listeners", "SASL_PLAINTEXT://localhost:" + port);
            props.putAll(extra);
        }
        Path config = dataDirectory.resolve("server.properties");
        try {
            Files.createDirectories(dataDirectory);
            try (var out = Files.newOutputStream(config)) {
                props.store(out, "written by sluice up at each start");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not write " + config, e);
        }
        if (!Files.exists(dataDirectory.resolve("logs").resolve("meta.properties"))) {
            format(config);
        }
        KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(props), Time.SYSTEM);
        server.startup();
        String bootstrap = "localhost:" + port;
        LocalKafka kafka = new LocalKafka(server, bootstrap, clientSettings);
        try {
            kafka.awaitReady();
        } catch (RuntimeException e) {
            kafka.close();
            throw e;
        }
        LOG.info("Kafka broker ready at {} in {} ms, data in {}", bootstrap, (System.nanoTime() - started) / 1_000_000,
                dataDirectory);
        return kafka;
    }

    static Properties properties(int port, int controllerPort, Path dataDirectory) {
        Properties props = new Properties();
        props.put("process.roles", "broker,controller");
        props.put("node.id", "1");
        props.put("controller.quorum.voters", "1@localhost:" + controllerPort);
        props.put("listeners", "PLAINTEXT://localhost:" + port + ",CONTROLLER://localhost:" + controllerPort);
        props.put("advertised.listeners", "PLAINTEXT://localhost:" + port);
        props.put("controller.listener.names", "CONTROLLER");
        props.put("inter.broker.listener.name", "PLAINTEXT");
        props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        props.put("log.dirs", dataDirectory.resolve("logs").toString());
        props.put("num.partitions", "1");
        EmbeddedKafka.brokerConfig().forEach((key, value) -> props.put(key, String.valueOf(value)));
        return props;
    }

    private static void format(Path config) {
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        int status;
        try (PrintStream print = new PrintStream(output, true, StandardCharsets.UTF_8)) {
            status = kafka.tools.StorageTool.execute(new String[] {"format", "--cluster-id", Uuid.randomUuid().toString(),
                "--config", config.toString()}, print);
        }
        if (status != 0) {
            throw new IllegalStateException("could not format the Kafka data directory: " + output.toString(StandardCharsets.UTF_8));
        }
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        Map<String, Object> settings = new java.util.HashMap<>(clientSettings);
        settings.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        try (Admin admin = Admin.create(settings)) {
            while (true) {
                try {
                    if (!admin.describeCluster(new DescribeClusterOptions().timeoutMs(2_000)).nodes()
                            .get(3, TimeUnit.SECONDS).isEmpty()) {
                        return;
                    }
                } catch (Exception notYet) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("the Kafka broker on " + bootstrapServers
                                + " did not answer within " + READY_TIMEOUT.toSeconds() + " s: " + notYet.getMessage());
                    }
                }
            }
        }
    }

    /** The {@code bootstrap.servers} value for clients of this broker. */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** What a client needs besides the bootstrap servers (SASL), as Kafka client properties; empty for none. */
    public Map<String, Object> clientSettings() {
        return clientSettings;
    }

    /** Stops the broker and waits until it stopped; the data stays. */
    @Override
    public void close() {
        server.shutdown();
        server.awaitShutdown();
        LOG.info("Kafka broker on {} stopped", bootstrapServers);
    }
}
