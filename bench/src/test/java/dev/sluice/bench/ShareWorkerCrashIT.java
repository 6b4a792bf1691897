package dev.sluice.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.sluice.core.SluiceConfig;
import dev.sluice.core.kafka.TopicProvisioner;
import dev.sluice.embedded.SharedServers;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * Share mode: a worker killed with SIGKILL while it runs a task loses nothing. Kafka hands the task to
 * another worker once the dead one's lock on it runs out; the tasks the dead worker had acknowledged do
 * not run again, except those whose acknowledgement the kill cut off.
 */
class ShareWorkerCrashIT {

    private static final String HELD = "t-" + (WorkerCrashReplayIT.TASKS - 1);

    @Test
    void aShareWorkerKilledOutrightLosesNothingAndItsTaskRunsOnAnother() throws Exception {
        String prefix = "share" + UUID.randomUUID().toString().substring(0, 8);
        String bootstrap = SharedServers.kafkaBootstrapServers();
        Map<String, String> env = Map.of(SluiceConfig.ENV_KAFKA, bootstrap, SluiceConfig.ENV_REDIS,
                SharedServers.redisUri(), SluiceConfig.ENV_TOPIC_PREFIX, prefix, SluiceConfig.ENV_KEY_PREFIX, prefix,
                "SLUICE_WORKER_MODE", "share", "SLUICE_WORKER_HANDLER", "http", "SLUICE_WORKER_CONCURRENCY", "4",
                // the shortest record lock Kafka allows by default, 15 s (ShareGroups.lockFor)
                "SLUICE_WORKER_TIMEOUT_MS", "5000", "SLUICE_HTTP_ALLOWED_HOSTS", "127.0.0.1");
        SluiceConfig sluice = SluiceConfig.fromEnvironment(env);
        TopicProvisioner.ensureSharedTopics(bootstrap, sluice.topics(), 1); // one partition, two workers

        // the service the tasks call: the last task is held on its first call, every other answered at once
        Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
        CountDownLatch release = new CountDownLatch(1);
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/", exchange -> {
            String id = exchange.getRequestURI().getPath().substring(1);
            int call = calls.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
            if (id.equals(HELD) && call == 1) {
                WorkerCrashReplayIT.awaitQuietly(release);
            }
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        server.start();
        try {
            ChildJvm first = ChildJvm.start("share-worker-1", "dev.sluice.worker.WorkerMain", env, List.of("-Xmx256m"));
            try {
                first.awaitLine("Worker started", Duration.ofSeconds(60));
                WorkerCrashReplayIT.produce(bootstrap, new TopicPartition(sluice.topics().ready(), 0),
                        server.getAddress().getPort());
                await().atMost(Duration.ofSeconds(60)).until(() -> calls.size() == WorkerCrashReplayIT.TASKS);
                first.kill(); // SIGKILL: the held task still running, well within its 5 s timeout
            } finally {
                first.close();
            }
            long killed = System.nanoTime();

            ChildJvm second = ChildJvm.start("share-worker-2", "dev.sluice.worker.WorkerMain", env, List.of("-Xmx256m"));
            try {
                second.awaitLine("Worker started", Duration.ofSeconds(60));
                await().atMost(Duration.ofSeconds(60)).until(() -> calls.get(HELD).get() == 2);
                long handedOnMillis = (System.nanoTime() - killed) / 1_000_000;
                Thread.sleep(2_000); // anything else it runs again shows now
                List<String> again = calls.entrySet().stream().filter(e -> e.getValue().get() > 1)
                        .map(Map.Entry::getKey).sorted().toList();
                System.out.printf("share mode, SIGKILL: the running task ran again on another worker %d ms after the"
                        + " kill; called again: %s%n", handedOnMillis, again);
                assertThat(again).contains(HELD);
                // at most the other consumers' tasks whose acknowledgement the kill cut off (4 slots in all)
                assertThat(again).hasSizeLessThanOrEqualTo(4);
            } finally {
                second.close();
            }
        } finally {
            release.countDown();
            server.stop(0);
        }
    }
}
