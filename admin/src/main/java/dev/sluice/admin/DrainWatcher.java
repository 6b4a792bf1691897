package dev.sluice.admin;

import dev.sluice.core.QueueName;
import dev.sluice.core.SluiceConfig;
import dev.sluice.core.TaskEvent;
import dev.sluice.core.kafka.Backlogs;
import dev.sluice.core.redis.LuaScript;
import dev.sluice.core.redis.QueueRegistry;
import dev.sluice.core.redis.ScriptRunner;
import io.micronaut.context.annotation.Requires;
import io.micronaut.scheduling.annotation.Scheduled;
import jakarta.inject.Singleton;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.UnifiedJedis;

/**
 * Publishes one {@code drained} event on the events topic when a queue's work is done: nothing waits in
 * its topic, nothing runs, and every task released on its first attempt completed or died (so a retry
 * waiting out its backoff keeps the queue open). {@code count} is the queue's tasks so far; more tasks
 * that finish later make another event with the larger count. Each count is announced once, whichever
 * admin service sees it first: the count is claimed in the queue's statistics ({@value #ANNOUNCED}) by
 * one Lua call before the event is written, and given up again if Kafka refuses it. A queue must look
 * done, with the same totals, at two looks in a row: the statistics count a release a moment after the
 * gate commits it, and in that moment a queue whose last task was released but not yet counted looked
 * done. Looks every {@code sluice.drain-events.interval} (2 s); {@code sluice.drain-events.enabled=false}
 * turns it off.
 */
@Singleton
@Requires(property = "sluice.drain-events.enabled", notEquals = "false")
final class DrainWatcher {

    private static final Logger LOG = LoggerFactory.getLogger(DrainWatcher.class);
    /** The stats hash field holding the count of tasks last announced drained. */
    static final String ANNOUNCED = "drained_tasks";

    private final QueueRegistry registry;
    private final QueueViews views;
    private final Backlogs backlogs;
    private final SluiceConfig config;
    private final ScriptRunner scripts;
    private final UnifiedJedis redis;
    private final KafkaProducer<byte[], byte[]> producer;
    /** The queues that looked done at the last look, with their totals then. */
    private Map<QueueName, Map<String, String>> doneAtLastLook = Map.of();

    DrainWatcher(QueueRegistry registry, QueueViews views, Backlogs backlogs, SluiceConfig config, UnifiedJedis redis,
                 KafkaProducer<byte[], byte[]> producer) {
        this.producer = producer;
        this.registry = registry;
        this.views = views;
        this.backlogs = backlogs;
        this.config = config;
        this.redis = redis;
        this.scripts = new ScriptRunner(redis);
    }

    @Scheduled(fixedDelay = "${sluice.drain-events.interval:2s}", initialDelay = "${sluice.drain-events.interval:2s}")
    synchronized void look() {
        try {
            List<QueueName> names = registry.names();
            Map<QueueName, Map<String, String>> totals = views.totals(names);
            List<QueueName> finished = new ArrayList<>();
            for (QueueName name : names) {
                Map<String, String> queueTotals = totals.getOrDefault(name, Map.of());
                // done but for the backlog, which is read from Kafka for these only
                if (QueueStats.firstReleases(queueTotals) > number(queueTotals, ANNOUNCED)
                        && QueueStats.done(0L, queueTotals)) {
                    finished.add(name);
                }
            }
            Map<QueueName, Map<String, String>> doneNow = new java.util.HashMap<>();
            Map<QueueName, Backlogs.Backlog> waiting = finished.isEmpty() ? Map.of() : backlogs.of(finished);
            for (QueueName name : finished) {
                Backlogs.Backlog backlog = waiting.get(name);
                if (backlog != null && QueueStats.done(backlog.waiting(), totals.get(name))) {
                    doneNow.put(name, totals.get(name));
                    if (totals.get(name).equals(doneAtLastLook.get(name))) {
                        announce(name, totals.get(name));
                    }
                }
            }
            doneAtLastLook = doneNow;
        } catch (RuntimeException e) {
            LOG.warn("Looking for drained queues failed, trying again at the next look: {}", e.toString());
        }
    }

    private void announce(QueueName name, Map<String, String> totals) {
        long tasks = QueueStats.firstReleases(totals);
        long claimed = (Long) scripts.run(LuaScript.STATS_SET, List.of(config.keys().meta(name), config.keys().stats(name)),
                List.of("max", ANNOUNCED, Long.toString(tasks)));
        if (claimed == 0) {
            return; // announced already, by this service or another
        }
        String detail = "completed " + number(totals, TaskEvent.Type.completed.name()) + ", dead "
                + number(totals, TaskEvent.Type.dead.name());
        TaskEvent event = new TaskEvent(TaskEvent.Type.drained, name.value(), null, 0, System.currentTimeMillis(),
                (int) Math.min(Integer.MAX_VALUE, tasks), detail);
        try {
            producer.send(new ProducerRecord<>(config.topics().events(), null, event.at(),
                    name.value().getBytes(StandardCharsets.UTF_8), event.toJson())).get(30, TimeUnit.SECONDS);
            LOG.info("Queue {} drained: {} tasks, {}", name, tasks, detail);
        } catch (Exception refused) {
            // not announced: given up, so that the next look tries again
            redis.hdel(config.keys().stats(name), ANNOUNCED);
            if (refused instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            LOG.warn("The drained event of {} was not written, trying again at the next look: {}", name, refused.toString());
        }
    }

    private static long number(Map<String, String> totals, String field) {
        String value = totals.get(field);
        return value == null ? 0 : Long.parseLong(value);
    }
}
