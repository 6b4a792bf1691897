package dev.sluice.admin;

import dev.sluice.core.SluiceConfig;
import dev.sluice.core.kafka.Backlogs;
import dev.sluice.core.kafka.TopicProvisioner;
import dev.sluice.core.redis.QueueRegistry;
import dev.sluice.core.redis.TokenBucket;
import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Value;
import io.micronaut.core.annotation.Nullable;
import jakarta.inject.Singleton;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import redis.clients.jedis.UnifiedJedis;

/**
 * The framework-neutral parts of Sluice as Micronaut beans. Configuration comes from the same
 * environment variables as every other Sluice service ({@link SluiceConfig#fromEnvironment}); the
 * properties {@code sluice.kafka}, {@code sluice.redis} and {@code sluice.redis-cluster} override them
 * (tests point them at their servers).
 */
@Factory
final class SluiceBeans {

    @Singleton
    SluiceConfig sluiceConfig(@Value("${sluice.kafka:}") String kafka, @Value("${sluice.redis:}") String redis,
                              @Value("${sluice.redis-cluster:}") String redisCluster,
                              @Value("${sluice.prefix:}") String prefix, @Nullable ServiceEnvironment given) {
        Map<String, String> env = new HashMap<>(given == null ? System.getenv() : given.variables());
        if (!redisCluster.isBlank()) {
            env.put(SluiceConfig.ENV_REDIS_CLUSTER, redisCluster);
        }
        if (!kafka.isBlank()) {
            env.put(SluiceConfig.ENV_KAFKA, kafka);
        }
        if (!redis.isBlank()) {
            env.put(SluiceConfig.ENV_REDIS, redis);
        }
        if (!prefix.isBlank()) {
            env.put(SluiceConfig.ENV_TOPIC_PREFIX, prefix);
            env.put(SluiceConfig.ENV_KEY_PREFIX, prefix);
        }
        return SluiceConfig.fromEnvironment(env);
    }

    @Singleton
    @Bean(preDestroy = "close")
    UnifiedJedis redis(SluiceConfig config) {
        // a pooled connection to a Redis that restarted is dead: checked before each use (a PING; the
        // admin's calls are few), a restarted Redis is answered at once instead of with one 503 per
        // connection left in the pool
        redis.clients.jedis.ConnectionPoolConfig pool = new redis.clients.jedis.ConnectionPoolConfig();
        pool.setTestOnBorrow(true);
        return dev.sluice.core.redis.RedisConnections.open(config, pool); // one server, or a cluster
    }

    @Singleton
    QueueRegistry registry(UnifiedJedis redis, SluiceConfig config) {
        return new QueueRegistry(redis, config.keys());
    }

    @Singleton
    dev.sluice.core.redis.DeadLetterIndex deadLetterIndex(UnifiedJedis redis, SluiceConfig config) {
        return new dev.sluice.core.redis.DeadLetterIndex(redis, config.keys());
    }

    @Singleton
    TokenBucket bucket(UnifiedJedis redis, SluiceConfig config) {
        return new TokenBucket(redis, config.keys(), config.bucketHorizon());
    }

    @Singleton
    @Bean(preDestroy = "close")
    Admin kafkaAdmin(SluiceConfig config) {
        Map<String, Object> props = config.kafkaProperties();
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        return Admin.create(props);
    }

    @Singleton
    @Bean(preDestroy = "close")
    dev.sluice.ingest.TaskSubmitter submitter(SluiceConfig config) {
        return new dev.sluice.ingest.TaskSubmitter(config);
    }

    /**
     * What the admin service writes to Kafka itself: replayed dead letters, drained events. Idempotent,
     * acks=all, one request at a time (a retried first batch to a topic is not refused as out of order).
     */
    @Singleton
    @Bean(preDestroy = "close")
    org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]> adminProducer(SluiceConfig config) {
        Map<String, Object> props = config.kafkaProperties();
        props.put(org.apache.kafka.clients.producer.ProducerConfig.ACKS_CONFIG, "all");
        props.put(org.apache.kafka.clients.producer.ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(org.apache.kafka.clients.producer.ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
        props.put(org.apache.kafka.clients.producer.ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        // at least linger + request timeout, or the producer refuses to be made
        props.put(org.apache.kafka.clients.producer.ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        props.put(org.apache.kafka.clients.producer.ProducerConfig.CLIENT_ID_CONFIG, "sluice-admin");
        return new org.apache.kafka.clients.producer.KafkaProducer<>(props,
                new org.apache.kafka.common.serialization.ByteArraySerializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer());
    }

    /** The reaper's clock; tests may replace it. */
    @Singleton
    java.time.Clock clock() {
        return java.time.Clock.systemUTC();
    }

    @Singleton
    Backlogs backlogs(Admin admin, SluiceConfig config) {
        return new Backlogs(admin, config.topics());
    }

    /** The admin is often the first service up: it creates the shared topics that are missing. */
    @Singleton
    TopicProvisioner topics(Admin admin, SluiceConfig config,
                            @Value("${sluice.replication-factor:1}") short replicationFactor) {
        TopicProvisioner provisioner = new TopicProvisioner(admin, config.topics(), replicationFactor);
        try {
            provisioner.ensureSharedTopics(8);
        } catch (IllegalStateException kafkaDown) {
            // the queue endpoints still answer (creating a queue fails with Kafka's error until it is back)
            org.slf4j.LoggerFactory.getLogger(SluiceBeans.class).warn("Shared topics not checked: {}", kafkaDown.getMessage());
        }
        return provisioner;
    }
}
