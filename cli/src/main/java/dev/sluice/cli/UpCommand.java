package dev.sluice.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code sluice up}: the whole stack in this process until Ctrl-C or SIGTERM. */
@Command(name = "up", mixinStandardHelpOptions = true,
        description = {"Run all of Sluice in this process: embedded Kafka and Redis (data under --data-dir, kept",
            "across restarts), the admin service and dashboard, the router, the statistics, a gate and a worker",
            "with the logging handler. Ctrl-C or SIGTERM stops everything cleanly.",
            "The services read their other settings from the environment (see the README's configuration table)."})
final class UpCommand implements Callable<Integer> {

    @ParentCommand
    SluiceCommand root;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "${SLUICE_ADMIN_PORT:-8080}",
            description = "the admin service's port (env SLUICE_ADMIN_PORT; default ${DEFAULT-VALUE})")
    int adminPort;

    @Option(names = "--host", paramLabel = "HOST", defaultValue = "${SLUICE_ADMIN_HOST:-127.0.0.1}",
            description = {"where the admin service listens (env SLUICE_ADMIN_HOST; default ${DEFAULT-VALUE}, this machine only);",
                "beyond loopback it needs SLUICE_ADMIN_TOKEN (or SLUICE_ADMIN_INSECURE=true)"})
    String adminHost;

    @Option(names = "--kafka-port", paramLabel = "PORT", defaultValue = "${SLUICE_KAFKA_PORT:-9092}",
            description = "the embedded Kafka broker's port (env SLUICE_KAFKA_PORT; default ${DEFAULT-VALUE})")
    int kafkaPort;

    @Option(names = "--redis-port", paramLabel = "PORT", defaultValue = "${SLUICE_REDIS_PORT:-6379}",
            description = "the embedded Redis's port (env SLUICE_REDIS_PORT; default ${DEFAULT-VALUE})")
    int redisPort;

    @Option(names = "--kafka", paramLabel = "BOOTSTRAP", defaultValue = "${KAFKA_BOOTSTRAP_SERVERS}",
            description = "use this Kafka instead of the embedded one (env KAFKA_BOOTSTRAP_SERVERS)")
    String kafka;

    @Option(names = "--redis", paramLabel = "URL", defaultValue = "${REDIS_URL}",
            description = "use this Redis instead of the embedded one, e.g. redis://host:6379 (env REDIS_URL)")
    String redis;

    @Option(names = "--redis-cluster", paramLabel = "HOST:PORT,...", defaultValue = "${REDIS_CLUSTER_NODES}",
            description = {"use this Redis Cluster instead of the embedded Redis: its seed nodes (env REDIS_CLUSTER_NODES);",
                "--redis or REDIS_URL then gives the nodes' user, password and scheme (rediss:// for TLS)"})
    String redisCluster;

    @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "${SLUICE_DATA_DIR:-.sluice}",
            description = "where the embedded Kafka and Redis keep their data (env SLUICE_DATA_DIR; default ${DEFAULT-VALUE})")
    Path dataDirectory;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = root.out();
        long started = System.nanoTime();
        out.println("Starting Sluice (data in " + dataDirectory.toAbsolutePath() + ")...");
        out.flush();
        Stack stack;
        try {
            stack = Stack.start(new Stack.Options(blankToNull(kafka), blankToNull(redis), adminPort, kafkaPort,
                    redisPort, dataDirectory, environment()));
        } catch (IllegalStateException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            root.out().println("Stopping Sluice...");
            root.out().flush();
            stack.close();
            root.out().println("Sluice stopped");
            root.out().flush();
            stopped.countDown();
        }, "sluice-up-shutdown"));
        out.print(banner((System.nanoTime() - started) / 1e9, stack.admin(), stack.kafka(), kafka == null || kafka.isBlank(),
                stack.redis(), (redis == null || redis.isBlank()) && (redisCluster == null || redisCluster.isBlank())));
        out.flush();
        stopped.await();
        return 0;
    }

    /** Where everything answers; a Redis password shows as ***. */
    static String banner(double seconds, String admin, String kafka, boolean kafkaEmbedded, String redis,
                         boolean redisEmbedded) {
        return String.format("""
                Sluice is up in %.1f s
                  admin      %s
                  dashboard  %s/
                  kafka      %s%s
                  redis      %s%s
                Try:  ./sluice queues create "5/10s"   then  ./sluice queues test <queue> 20   and  ./sluice monitor
                Ctrl-C stops everything.
                """, seconds, admin, admin, kafka, kafkaEmbedded ? " (embedded)" : " (external)",
                dev.sluice.core.Secrets.redact(redis), redisEmbedded ? " (embedded, append-only file on)" : " (external)");
    }

    /** The services' environment, with {@code --host} in it. */
    private java.util.Map<String, String> environment() {
        java.util.Map<String, String> env = new java.util.HashMap<>(System.getenv());
        env.put(Stack.ENV_ADMIN_HOST, adminHost);
        if (redisCluster != null && !redisCluster.isBlank()) {
            env.put(dev.sluice.core.SluiceConfig.ENV_REDIS_CLUSTER, redisCluster);
        } else {
            env.remove(dev.sluice.core.SluiceConfig.ENV_REDIS_CLUSTER);
        }
        return env;
    }

    private static String blankToNull(String text) {
        return text == null || text.isBlank() ? null : text;
    }
}
