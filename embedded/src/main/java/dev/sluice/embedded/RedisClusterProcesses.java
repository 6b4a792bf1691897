package dev.sluice.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;

/**
 * A real Redis Cluster of {@code redis-server} child processes on loopback ports, masters only, the
 * 16,384 hash slots split evenly between them: for tests of Sluice against a cluster, and for trying it.
 * Built as {@code redis-cli --cluster create} would, with the cluster commands themselves (the
 * {@code redis-server} binary is all that is needed): {@code CLUSTER MEET}, {@code CLUSTER ADDSLOTS},
 * then a wait until every node says {@code cluster_state:ok}.
 */
public final class RedisClusterProcesses implements AutoCloseable {

    private static final int SLOTS = 16_384;
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);

    private final List<RedisServerProcess> nodes;

    private RedisClusterProcesses(List<RedisServerProcess> nodes) {
        this.nodes = nodes;
    }

    /** Starts {@code masters} nodes (three at least, as Redis asks of a cluster) and joins them into one cluster. */
    public static RedisClusterProcesses start(int masters) {
        if (masters < 3) {
            throw new IllegalArgumentException("a Redis Cluster has 3 masters at least, not " + masters);
        }
        List<RedisServerProcess> nodes = new ArrayList<>();
        try {
            Path root = Files.createTempDirectory("sluice-redis-cluster");
            for (int i = 0; i < masters; i++) {
                Path directory = root.resolve("node-" + i);
                nodes.add(RedisServerProcess.start(RedisServerProcess.freePort(), directory, false, List.of(
                        "--cluster-enabled", "yes",
                        "--cluster-config-file", directory.resolve("nodes.conf").toString(),
                        "--cluster-node-timeout", "5000")));
            }
            RedisClusterProcesses cluster = new RedisClusterProcesses(nodes);
            cluster.join();
            return cluster;
        } catch (IOException e) {
            nodes.forEach(RedisServerProcess::close);
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            nodes.forEach(RedisServerProcess::close);
            throw e;
        }
    }

    private void join() {
        int first = nodes.get(0).port();
        for (int i = 0; i < nodes.size(); i++) {
            try (Jedis node = new Jedis("127.0.0.1", nodes.get(i).port())) {
                int from = SLOTS * i / nodes.size();
                int to = SLOTS * (i + 1) / nodes.size();
                node.clusterAddSlots(IntStream.range(from, to).toArray());
                if (i > 0) {
                    node.clusterMeet("127.0.0.1", first);
                }
            }
        }
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        for (RedisServerProcess server : nodes) {
            try (Jedis node = new Jedis("127.0.0.1", server.port())) {
                while (!node.clusterInfo().contains("cluster_state:ok")
                        || !node.clusterInfo().contains("cluster_known_nodes:" + nodes.size())) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("the Redis Cluster on ports " + seeds() + " did not come up within "
                                + READY_TIMEOUT + ": " + node.clusterInfo());
                    }
                    sleep(100);
                }
            }
        }
    }

    /** The nodes' addresses, {@code host:port,host:port,…}: the value of {@code REDIS_CLUSTER_NODES}. */
    public String seeds() {
        return nodes.stream().map(node -> "127.0.0.1:" + node.port()).collect(Collectors.joining(","));
    }

    public List<HostAndPort> addresses() {
        return nodes.stream().map(node -> new HostAndPort("127.0.0.1", node.port())).toList();
    }

    /** The node processes, to stop or kill one. */
    public List<RedisServerProcess> nodes() {
        return nodes;
    }

    @Override
    public void close() {
        nodes.forEach(RedisServerProcess::close);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the Redis Cluster came up", e);
        }
    }
}
