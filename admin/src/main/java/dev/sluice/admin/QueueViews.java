package dev.sluice.admin;

import dev.sluice.core.Queue;
import dev.sluice.core.QueueName;
import dev.sluice.core.SluiceConfig;
import dev.sluice.core.kafka.Backlogs;
import dev.sluice.core.redis.BucketStatus;
import dev.sluice.core.redis.QueueRegistry;
import dev.sluice.core.redis.TokenBucket;
import jakarta.inject.Singleton;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;

/**
 * Queues as the API shows them, with their figures: metadata, buckets and statistics from Redis in
 * three pipelined round trips, backlogs from Kafka in three requests, however many queues.
 */
@Singleton
final class QueueViews {

    private final QueueRegistry registry;
    private final TokenBucket bucket;
    private final UnifiedJedis redis;
    private final SluiceConfig config;
    private final Backlogs backlogs;

    QueueViews(QueueRegistry registry, TokenBucket bucket, UnifiedJedis redis, SluiceConfig config, Backlogs backlogs) {
        this.registry = registry;
        this.bucket = bucket;
        this.redis = redis;
        this.config = config;
        this.backlogs = backlogs;
    }

    /** Every queue, in the registry's order. */
    List<QueueView> all() {
        return views(registry.list(), null);
    }

    /**
     * A page of queues as asked ({@link QueueQuery}).
     *
     * @param total how many queues pass the filters, on every page
     * @param next where the next page starts, or {@code null} on the last
     */
    record Page(List<QueueView> queues, int total, QueueQuery.Cursor next) {
    }

    /**
     * The queues a query asks for. Figures are read for the page's queues only; backlogs for every queue
     * that passes the other filters when the backlog filters or orders them (three Kafka requests).
     */
    Page page(QueueQuery query) {
        List<Queue> chosen = new ArrayList<>(registry.list().stream().filter(query::admits).toList());
        Map<QueueName, Backlogs.Backlog> waiting = null;
        if (query.backlogOnly() || query.sort() == QueueQuery.Sort.backlog) {
            Map<QueueName, Backlogs.Backlog> known = backlogs.of(chosen.stream().map(Queue::name).toList());
            waiting = known;
            if (query.backlogOnly()) {
                chosen.removeIf(q -> known.get(q.name()) == null || known.get(q.name()).waiting() == 0);
            }
            if (query.sort() == QueueQuery.Sort.backlog) {
                // the most waiting first; a backlog Kafka did not give, last; then by name
                chosen.sort(java.util.Comparator.<Queue>comparingLong(q -> known.get(q.name()) == null ? -1
                        : known.get(q.name()).waiting()).reversed().thenComparing(Queue::name));
            }
        }
        int total = chosen.size();
        int from = 0;
        if (query.after() != null) {
            if (query.sort() == QueueQuery.Sort.name) {
                String last = query.after().position();
                while (from < total && chosen.get(from).name().value().compareTo(last) <= 0) {
                    from++;
                }
            } else {
                from = Math.min(total, query.after().index());
            }
        }
        int to = query.limit() == null ? total : (int) Math.min(total, (long) from + query.limit());
        List<Queue> page = chosen.subList(from, to);
        QueueQuery.Cursor next = null;
        if (to < total && !page.isEmpty()) {
            next = query.sort() == QueueQuery.Sort.name
                    ? new QueueQuery.Cursor(QueueQuery.Sort.name, page.get(page.size() - 1).name().value())
                    : new QueueQuery.Cursor(QueueQuery.Sort.backlog, Integer.toString(to));
        }
        return new Page(views(page, waiting), total, next);
    }

    /** @throws dev.sluice.core.redis.UnknownQueueException when the queue does not exist */
    QueueView one(QueueName name) {
        return views(List.of(registry.get(name)), null).stream().findFirst()
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

    /** @param known the queues' backlogs when read already, else {@code null} */
    private List<QueueView> views(List<Queue> queues, Map<QueueName, Backlogs.Backlog> known) {
        List<QueueName> names = queues.stream().map(Queue::name).toList();
        Map<QueueName, BucketStatus> statuses = bucket.statusAll(names);
        Map<QueueName, Map<String, String>> totals = totals(names);
        Map<QueueName, Backlogs.Backlog> waiting = known != null ? known : backlogs.of(names);
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
