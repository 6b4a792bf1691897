package dev.sluice.admin;

import dev.sluice.core.Queue;
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

/** {@code GET /overview}: queues total and active, whether Redis and Kafka answer, and task totals. */
@Controller("/overview")
@ExecuteOn(TaskExecutors.BLOCKING)
final class OverviewController {

    /**
     * The overview; {@code totals} sums each event type over every queue. The queue counts and totals
     * may be up to two seconds old.
     */
    @Serdeable
    record Overview(int queues, int activeQueues, String redis, String kafka, Map<String, Long> totals) {
    }

    /** How long the queue counts and totals are reused: the dashboard and monitors ask every second or two. */
    static final long SUMMARY_FOR_NANOS = 2_000_000_000L;

    /** The queue counts and event totals, and when they were read. */
    private record Summary(int queues, int active, Map<String, Long> totals, long readNanos) {
    }

    private final QueueRegistry registry;
    private final QueueViews views;
    private final Admin kafka;
    private volatile Summary summary;

    OverviewController(QueueRegistry registry, QueueViews views, Admin kafka) {
        this.registry = registry;
        this.views = views;
        this.kafka = kafka;
    }

    /**
     * Every queue's figures summed: read from Redis (pipelined) at most once per
     * {@link #SUMMARY_FOR_NANOS}, however many ask; with 10,000 queues a walk takes a Redis round
     * trip per thousand of them.
     */
    private synchronized Summary summary() {
        Summary last = summary;
        if (last != null && System.nanoTime() - last.readNanos() < SUMMARY_FOR_NANOS) {
            return last;
        }
        List<Queue> queues = registry.list();
        Map<String, Long> totals = new TreeMap<>();
        views.totals(queues.stream().map(Queue::name).toList()).values().forEach(
                fields -> fields.forEach((type, value) -> totals.merge(type, Long.parseLong(value), Long::sum)));
        int active = (int) queues.stream().filter(Queue::isActive).count();
        Summary fresh = new Summary(queues.size(), active, totals, System.nanoTime());
        summary = fresh;
        return fresh;
    }

    @Get
    Overview overview() {
        Summary figures;
        String redisStatus;
        try {
            figures = summary();
            redisStatus = "up";
        } catch (RuntimeException e) {
            figures = new Summary(0, 0, Map.of(), 0);
            redisStatus = "down: " + e.getMessage();
        }
        String kafkaStatus;
        try {
            kafka.describeCluster(new DescribeClusterOptions().timeoutMs(2_000)).nodes().get(3, TimeUnit.SECONDS);
            kafkaStatus = "up";
        } catch (Exception e) {
            kafkaStatus = "down: " + e.getMessage();
        }
        return new Overview(figures.queues(), figures.active(), redisStatus, kafkaStatus, figures.totals());
    }
}
