package dev.sluice.admin;

import dev.sluice.core.Queue;
import dev.sluice.core.QueueName;
import dev.sluice.core.SluiceConfig;
import dev.sluice.core.redis.BucketStatus;
import dev.sluice.core.redis.QueueRegistry;
import dev.sluice.core.redis.TokenBucket;
import jakarta.inject.Singleton;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.Response;

/**
 * Queues as the API shows them, with their figures: metadata, buckets and statistics from Redis in
 * three pipelined round trips, backlogs from Kafka in three requests, however many queues.
 */
@Singleton
final class QueueViews {

    private final QueueRegistry registry;
    private final TokenBucket bucket;
    private final RedisClient redis;
    private final SluiceConfig config;
    private final Backlogs backlogs;

    QueueViews(QueueRegistry registry, TokenBucket bucket, RedisClient redis, SluiceConfig config, Backlogs backlogs) {
        this.registry = registry;
        this.bucket = bucket;
        this.redis = redis;
        this.config = config;
        this.backlogs = backlogs;
    }

    /** Every queue, in the registry's order. */
    List<QueueView> all() {
        return views(registry.list());
    }

    /** @throws dev.sluice.core.redis.UnknownQueueException when the queue does not exist */
    QueueView one(QueueName name) {
        return views(List.of(registry.get(name))).stream().findFirst()
                .orElseThrow(() -> new dev.sluice.core.redis.UnknownQueueException(name));
    }

    /** The statistics' totals of each queue (field = event type). */
    Map<QueueName, Map<String, String>> totals(List<QueueName> queues) {
        List<Response<Map<String, String>>> responses = new ArrayList<>(queues.size());
        try (AbstractPipeline pipeline = redis.pipelined()) {
            for (QueueName queue : queues) {
                responses.add(pipeline.hgetAll(config.keys().stats(queue)));
            }
            pipeline.sync();
        }
        Map<QueueName, Map<String, String>> totals = new java.util.HashMap<>();
        for (int i = 0; i < queues.size(); i++) {
            totals.put(queues.get(i), responses.get(i).get());
        }
        return totals;
    }

    private List<QueueView> views(List<Queue> queues) {
        List<QueueName> names = queues.stream().map(Queue::name).toList();
        Map<QueueName, BucketStatus> statuses = bucket.statusAll(names);
        Map<QueueName, Map<String, String>> totals = totals(names);
        Map<QueueName, Backlogs.Backlog> waiting = backlogs.of(names);
        List<QueueView> views = new ArrayList<>(queues.size());
        for (Queue queue : queues) {
            BucketStatus status = statuses.get(queue.name());
            if (status == null) {
                continue; // removed while we read
            }
            Backlogs.Backlog backlog = waiting.get(queue.name());
            QueueStats stats = QueueStats.of(backlog == null ? null : backlog.waiting(), totals.get(queue.name()));
            views.add(QueueView.of(queue, status, stats));
        }
        return views;
    }
}
