package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.core.SluiceConfig;
import dev.sluice.embedded.RedisClusterProcesses;
import dev.sluice.embedded.RedisServerProcess;
import dev.sluice.embedded.SharedServers;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The whole stack on a real three-master Redis Cluster (as {@code sluice up --redis-cluster …}): queues
 * made through the command line land on every node, are listed, and run their tasks.
 */
class RedisClusterStackIT {

    @Test
    void theStackOnARedisClusterListsQueuesOnEveryNodeAndRunsTheirTasks() throws Exception {
        try (RedisClusterProcesses cluster = RedisClusterProcesses.start(3);
             Stack stack = Stack.start(new Stack.Options(SharedServers.kafkaBootstrapServers(), null,
                     RedisServerProcess.freePort(), 0, 0, Files.createTempDirectory("sluice-cluster"),
                     Map.of(SluiceConfig.ENV_REDIS_CLUSTER, cluster.seeds())))) {
            assertThat(stack.redis()).isEqualTo("cluster " + cluster.seeds());
            List<String> queues = new ArrayList<>();
            for (int i = 0; i < 6; i++) { // six names: with three nodes, almost surely more than one node holds some
                String queue = "cluster-" + UUID.randomUUID().toString().substring(0, 8);
                Cli.json(stack.admin(), "queues", "create", "20/1s", "--name", queue);
                Cli.json(stack.admin(), "queues", "test", queue, "3");
                queues.add(queue);
            }

            JsonNode listed = Cli.json(stack.admin(), "queues", "list");
            List<String> names = new ArrayList<>();
            listed.forEach(queue -> names.add(queue.path("name").asText()));
            assertThat(names).as(listed.toString()).containsAll(queues);
            long holding = cluster.nodes().stream().filter(node -> {
                try (redis.clients.jedis.Jedis jedis = new redis.clients.jedis.Jedis("127.0.0.1", node.port())) {
                    return jedis.dbSize() > 0;
                }
            }).count();
            assertThat(holding).as("nodes holding keys").isGreaterThan(1);
            for (String queue : queues) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                JsonNode shown = Cli.json(stack.admin(), "queues", "show", queue);
                while (shown.path("stats").path("completed").asInt() < 3 && System.nanoTime() < deadline) {
                    Thread.sleep(200);
                    shown = Cli.json(stack.admin(), "queues", "show", queue);
                }
                assertThat(shown.path("stats").path("completed").asInt()).as(shown.toString()).isEqualTo(3);
            }
        }
    }
}
