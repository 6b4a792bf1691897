package dev.sluice.cli;

import dev.sluice.core.SluiceConfig;
import dev.sluice.core.kafka.TopicProvisioner;
import dev.sluice.embedded.LocalKafka;
import dev.sluice.embedded.RedisServerProcess;
import dev.sluice.gate.Gate;
import dev.sluice.gate.GateConfig;
import dev.sluice.ingest.Router;
import dev.sluice.ingest.Stats;
import dev.sluice.worker.Worker;
import dev.sluice.worker.WorkerConfig;
import dev.sluice.worker.api.TaskHandler;
import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * All of Sluice in this JVM, as {@code sluice up} runs it: Redis and Kafka (embedded, data under the
 * data directory, unless external ones are given; the embedded redis-server is started again whenever it
 * dies), the admin service, the router, the statistics, a
 * worker and, once the worker has joined its group, a gate. Closing stops them in the reverse order: the
 * gate stops releasing first, then the worker finishes what it runs, the servers go last.
 */
final class Stack implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Stack.class);

    /**
     * @param kafka external bootstrap servers, or {@code null} for the embedded broker on {@code kafkaPort}
     * @param redis an external Redis URL, or {@code null} for the embedded server on {@code redisPort}
     * @param env the environment the services read their other settings from
     * @param handlers task handlers for the worker besides those it finds by itself
     */
    record Options(String kafka, String redis, int adminPort, int kafkaPort, int redisPort, Path dataDirectory,
                   Map<String, String> env, java.util.List<TaskHandler> handlers) {

        /** With the handlers the worker finds by itself (ServiceLoader) only. */
        Options(String kafka, String redis, int adminPort, int kafkaPort, int redisPort, Path dataDirectory,
                Map<String, String> env) {
            this(kafka, redis, adminPort, kafkaPort, redisPort, dataDirectory, env, java.util.List.of());
        }
    }

    /** Where the admin service listens: loopback unless told otherwise ({@code --host}). */
    static final String ENV_ADMIN_HOST = "SLUICE_ADMIN_HOST";

    private final Deque<Map.Entry<String, AutoCloseable>> running = new ArrayDeque<>();
    private final DataLock lock;
    private String kafka;
    private String redis;
    /** The seed nodes of the Redis Cluster in use, or null for one server. */
    private String redisCluster;
    private String admin;

    private Stack(DataLock lock) {
        this.lock = lock;
    }

    /**
     * Starts everything, or nothing: a part that fails stops the parts already started.
     *
     * @throws IllegalStateException with a message for the user when a port is taken, the data
     *     directory is in use by another {@code sluice up}, or a part does not start
     */
    static Stack start(Options options) {
        DataLock lock = DataLock.acquire(options.dataDirectory(), options.adminPort());
        Stack stack = new Stack(lock);
        try {
            stack.startAll(options);
            return stack;
        } catch (RuntimeException e) {
            stack.close();
            throw e;
        }
    }

    private void startAll(Options options) {
        requireFree(options.adminPort(), "the admin service", "--port / SLUICE_ADMIN_PORT");
        String cluster = options.env().getOrDefault(SluiceConfig.ENV_REDIS_CLUSTER, "").strip();
        if (!cluster.isEmpty()) {
            // a Redis Cluster of one's own (REDIS_CLUSTER_NODES, --redis-cluster); REDIS_URL's credentials apply
            redisCluster = cluster;
            redis = options.redis() == null ? SluiceConfig.DEFAULT_REDIS : options.redis();
        } else if (options.redis() == null) {
            Path redisData = options.dataDirectory().resolve("redis").toAbsolutePath();
            LeftoverRedis.stop(redisData);
            requireFree(options.redisPort(), "the embedded Redis", "--redis-port / SLUICE_REDIS_PORT");
            RedisServerProcess server = RedisServerProcess.start(options.redisPort(), redisData, true);
            LeftoverRedis.remember(redisData, server.pid());
            // killed or crashed, it is started again on its data: the services reconnect by themselves
            server.supervise(pid -> LeftoverRedis.remember(redisData, pid));
            running.push(Map.entry("Redis", () -> {
                server.close();
                LeftoverRedis.forget(redisData);
            }));
            redis = server.uri();
        } else {
            redis = options.redis();
        }
        if (options.kafka() == null) {
            requireFree(options.kafkaPort(), "the embedded Kafka broker", "--kafka-port / SLUICE_KAFKA_PORT");
            LocalKafka broker = LocalKafka.start(options.kafkaPort(), options.dataDirectory().resolve("kafka"));
            running.push(Map.entry("Kafka", broker));
            kafka = broker.bootstrapServers();
            HangingTransactions.abort(kafka); // an earlier up killed outright may have left some

        } else {
            kafka = options.kafka();
        }
        Map<String, String> env = new HashMap<>(options.env());
        env.put(SluiceConfig.ENV_KAFKA, kafka);
        env.put(SluiceConfig.ENV_REDIS, redis);
        // the same gate id at every start on this data: an up killed mid-transaction is followed by one
        // whose gate aborts that transaction at once; with a new id it held the read_committed readers of
        // its partitions of sluice.ready back until the broker timed it out (10 to 20 s)
        env.putIfAbsent(GateConfig.ENV_INSTANCE_ID, "up-" + Integer.toHexString(
                options.dataDirectory().toAbsolutePath().normalize().toString().hashCode()));
        SluiceConfig config = SluiceConfig.fromEnvironment(env);
        GateConfig gateConfig = GateConfig.fromEnvironment(env);
        WorkerConfig workerConfig = WorkerConfig.fromEnvironment(env);
        TopicProvisioner.ensureSharedTopics(config, gateConfig.readyPartitions());

        String adminHost = env.getOrDefault(ENV_ADMIN_HOST, "127.0.0.1");
        EmbeddedServer server = startAdmin(Map.of("sluice.kafka", kafka, "sluice.redis", redis,
                "sluice.redis-cluster", cluster,
                "micronaut.server.port", options.adminPort(), "micronaut.server.host", adminHost), env);
        running.push(Map.entry("admin service", server));
        admin = "http://" + reachableName(adminHost) + ":" + server.getPort();
        lock.record(admin);

        running.push(Map.entry("router", Router.start(config, dev.sluice.core.RecordLimits.fromEnvironment(env))));
        running.push(Map.entry("statistics", Stats.start(config)));
        Worker worker = Worker.start(workerConfig, options.handlers());
        running.push(Map.entry("worker", worker));
        awaitReady(worker);
        running.push(Map.entry("gate", Gate.start(gateConfig)));
    }

    /** The admin service; a refusal to start (listening beyond loopback without a token, say) in its own words. */
    private static EmbeddedServer startAdmin(Map<String, Object> properties, Map<String, String> env) {
        ApplicationContext context = null;
        try {
            context = ApplicationContext.builder().properties(properties)
                    .singletons(new dev.sluice.admin.ServiceEnvironment(env)).start();
            return context.getBean(EmbeddedServer.class).start();
        } catch (RuntimeException e) {
            if (context != null && context.isRunning()) {
                context.stop();
            }
            for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                if (cause instanceof io.micronaut.context.exceptions.ConfigurationException refused) {
                    throw new IllegalStateException(refused.getMessage(), e);
                }
            }
            throw e;
        }
    }

    /** How this machine reaches a server listening on {@code host}: localhost for loopback and the wildcard. */
    static String reachableName(String host) {
        String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (bare.isBlank() || bare.equals("0.0.0.0") || bare.equals("::") || bare.equals("localhost")
                || bare.startsWith("127.") || bare.equals("::1")) {
            return "localhost";
        }
        return bare.contains(":") ? "[" + bare + "]" : bare;
    }

    /**
     * A task released before the worker has joined its group would reach it after its start slot and go
     * back through its queue's limit: up is up once the worker can take tasks.
     */
    private static void awaitReady(Worker worker) {
        try {
            if (!worker.awaitReady(java.time.Duration.ofSeconds(60))) {
                LOG.warn("The worker has not joined its group after 60 s; tasks released meanwhile go back through"
                        + " their queue's limit until it has");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the worker joined its group", e);
        }
    }

    private static void requireFree(int port, String what, String option) {
        try (ServerSocket socket = new ServerSocket(port)) {
            socket.setReuseAddress(true);
        } catch (IOException inUse) {
            throw new IllegalStateException("port " + port + " for " + what + " is in use by another program;"
                    + " stop it or choose another port with " + option);
        }
    }

    String kafka() {
        return kafka;
    }

    String redis() {
        return redisCluster != null ? "cluster " + redisCluster : redis;
    }

    String admin() {
        return admin;
    }

    /** Stops every part started, the last started first; a part that fails to stop does not keep the others up. */
    @Override
    public synchronized void close() {
        while (!running.isEmpty()) {
            Map.Entry<String, AutoCloseable> part = running.pop();
            try {
                part.getValue().close();
            } catch (Exception e) {
                LOG.warn("The {} did not stop cleanly: {}", part.getKey(), e.toString());
            }
        }
        lock.close();
    }
}
