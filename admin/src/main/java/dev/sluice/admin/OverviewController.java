package dev.sluice.admin;

import dev.sluice.core.Queue;
import dev.sluice.core.SluiceConfig;
import dev.sluice.core.redis.QueueRegistry;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.serde.annotation.Serdeable;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import redis.clients.jedis.RedisClient;

/** {@code GET /overview}: queues total and active, whether Redis and Kafka answer, and task totals. */
@Controller("/overview")
@ExecuteOn(TaskExecutors.BLOCKING)
final class OverviewController {

    /** The overview; {@code totals} sums each event type over every queue. */
    @Serdeable
    record Overview(int queues, int activeQueues, String redis, String kafka, Map<String, Long> totals) {
    }

    private final QueueRegistry registry;
    private final RedisClient redis;
    private final Admin kafka;
    private final SluiceConfig config;

    OverviewController(QueueRegistry registry, RedisClient redis, Admin kafka, SluiceConfig config) {
        this.registry = registry;
        this.redis = redis;
        this.kafka = kafka;
        this.config = config;
    }

    @Get
    Overview overview() {
        List<Queue> queues;
        String redisStatus;
        Map<String, Long> totals = new TreeMap<>();
        try {
            queues = registry.list();
            for (Queue queue : queues) {
                redis.hgetAll(config.keys().stats(queue.name()))
                        .forEach((type, value) -> totals.merge(type, Long.parseLong(value), Long::sum));
            }
            redisStatus = "up";
        } catch (RuntimeException e) {
            queues = List.of();
            redisStatus = "down: " + e.getMessage();
        }
        String kafkaStatus;
        try {
            kafka.describeCluster(new DescribeClusterOptions().timeoutMs(2_000)).nodes().get(3, TimeUnit.SECONDS);
            kafkaStatus = "up";
        } catch (Exception e) {
            kafkaStatus = "down: " + e.getMessage();
        }
        int active = (int) queues.stream().filter(Queue::isActive).count();
        return new Overview(queues.size(), active, redisStatus, kafkaStatus, totals);
    }
}
