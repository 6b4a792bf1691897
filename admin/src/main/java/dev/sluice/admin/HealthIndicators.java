package dev.sluice.admin;

import io.micronaut.health.HealthStatus;
import io.micronaut.management.health.indicator.AbstractHealthIndicator;
import io.micronaut.management.health.indicator.annotation.Readiness;
import jakarta.inject.Singleton;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.Node;
import redis.clients.jedis.UnifiedJedis;

/**
 * {@code GET /health} reports Redis and Kafka: 200 when both answer, 503 with the failing one's error
 * otherwise, with the failing one's error in its details.
 */
final class HealthIndicators {

    private HealthIndicators() {
    }

    /** Redis answers PING. */
    @Singleton
    @Readiness
    static final class RedisHealth extends AbstractHealthIndicator<Map<String, Object>> {
        private final UnifiedJedis redis;

        RedisHealth(UnifiedJedis redis) {
            this.redis = redis;
        }

        @Override
        protected Map<String, Object> getHealthInformation() {
            long start = System.nanoTime();
            try {
                String pong = redis.ping();
                healthStatus = "PONG".equals(pong) ? HealthStatus.UP : HealthStatus.DOWN;
                return Map.of("reply", pong, "latencyMs", (System.nanoTime() - start) / 1_000_000);
            } catch (redis.clients.jedis.exceptions.JedisException e) {
                healthStatus = HealthStatus.DOWN;
                return Map.of("error", "Redis is unreachable: " + e.getMessage());
            }
        }

        @Override
        protected String getName() {
            return "redis";
        }
    }

    /** Kafka describes its cluster within 3 s. */
    @Singleton
    @Readiness
    static final class KafkaHealth extends AbstractHealthIndicator<Map<String, Object>> {
        private final Admin kafka;

        KafkaHealth(Admin kafka) {
            this.kafka = kafka;
        }

        @Override
        protected Map<String, Object> getHealthInformation() {
            try {
                var cluster = kafka.describeCluster(new DescribeClusterOptions().timeoutMs(3_000));
                int brokers = cluster.nodes().get(4, TimeUnit.SECONDS).size();
                Node controller = cluster.controller().get(4, TimeUnit.SECONDS);
                healthStatus = brokers > 0 ? HealthStatus.UP : HealthStatus.DOWN;
                return Map.of("brokers", brokers, "controller", controller == null ? "none" : controller.idString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while asking Kafka", e);
            } catch (Exception e) {
                healthStatus = HealthStatus.DOWN;
                return Map.of("error", "Kafka did not answer: " + e.getMessage());
            }
        }

        @Override
        protected String getName() {
            return "kafka";
        }
    }
}
