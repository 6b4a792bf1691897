package dev.sluice.core.redis;

import dev.sluice.core.SluiceConfig;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import redis.clients.jedis.Connection;
import redis.clients.jedis.ConnectionPoolConfig;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.util.JedisURIHelper;

/**
 * The Redis client of every service: one server ({@code REDIS_URL}), or a Redis Cluster
 * ({@code REDIS_CLUSTER_NODES}, the seed nodes; {@code REDIS_URL}'s user, password and scheme apply to
 * every node). Sluice runs on either unchanged: every script touches the keys of one queue only, and
 * they share one hash slot (the {@code {queue}} tag in their names); the queue index and the changes
 * channel are single keys; lists of queues are pipelined, which the cluster client splits by node.
 */
public final class RedisConnections {

    private RedisConnections() {
    }

    /** A pooled client, thread-safe. */
    public static UnifiedJedis open(SluiceConfig config) {
        return open(config, new ConnectionPoolConfig());
    }

    /** A pooled client with this pool's settings, per server or per cluster node. */
    public static UnifiedJedis open(SluiceConfig config, GenericObjectPoolConfig<Connection> pool) {
        if (!config.redisCluster()) {
            return RedisClient.builder().fromURI(config.redisUri()).poolConfig(pool).build();
        }
        Set<HostAndPort> seeds = config.redisClusterNodes().stream().map(HostAndPort::from).collect(Collectors.toSet());
        DefaultJedisClientConfig client = DefaultJedisClientConfig.builder()
                .user(JedisURIHelper.getUser(config.redisUri()))
                .password(JedisURIHelper.getPassword(config.redisUri()))
                .ssl(JedisURIHelper.isRedisSSLScheme(config.redisUri()))
                .build();
        return RedisClusterClient.builder().nodes(seeds).clientConfig(client).poolConfig(pool).build();
    }
}
