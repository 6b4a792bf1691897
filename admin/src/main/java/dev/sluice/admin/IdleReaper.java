package dev.sluice.admin;

import dev.sluice.core.Queue;
import dev.sluice.core.QueueName;
import dev.sluice.core.kafka.Backlogs;
import dev.sluice.core.kafka.TopicProvisioner;
import dev.sluice.core.redis.QueueRegistry;
import io.micronaut.context.annotation.Requires;
import io.micronaut.scheduling.annotation.Scheduled;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes queues idle for their TTL (default 1 hour; TTL 0 = never): nothing waits in the queue topic
 * and neither its end offset nor its event totals changed for the TTL. Looks every
 * {@code sluice.reaper.interval} (30 s by default); {@code sluice.reaper.enabled=false} turns it off.
 * Right before removing, the end offset is read again, so a task submitted since the look keeps its queue.
 */
@Singleton
@Requires(property = "sluice.reaper.enabled", notEquals = "false")
final class IdleReaper {

    private static final Logger LOG = LoggerFactory.getLogger(IdleReaper.class);

    /** What a queue's activity mark is made of: a submission moves the end, processing moves the totals. */
    private record Mark(long endOffset, long events) {
    }

    private final QueueRegistry registry;
    private final QueueViews views;
    private final Backlogs backlogs;
    private final TopicProvisioner topics;
    private final Clock clock;
    private final IdleTracker tracker = new IdleTracker();

    IdleReaper(QueueRegistry registry, QueueViews views, Backlogs backlogs, TopicProvisioner topics, Clock clock) {
        this.registry = registry;
        this.views = views;
        this.backlogs = backlogs;
        this.topics = topics;
        this.clock = clock;
    }

    @Scheduled(fixedDelay = "${sluice.reaper.interval:30s}", initialDelay = "${sluice.reaper.interval:30s}")
    synchronized void reap() {
        try {
            reapOnce();
        } catch (RuntimeException e) {
            LOG.debug("Idle queues not looked at this time: {}", e.toString());
        }
    }

    private void reapOnce() {
        List<Queue> queues = registry.list();
        List<QueueName> names = queues.stream().map(Queue::name).toList();
        Map<QueueName, Backlogs.Backlog> backlogOf = backlogs.of(names);
        Map<QueueName, Map<String, String>> totals = views.totals(names);
        tracker.retain(names.stream().map(QueueName::value).collect(Collectors.toSet()));
        for (Queue queue : queues) {
            Backlogs.Backlog backlog = backlogOf.get(queue.name());
            if (backlog == null) {
                continue; // Kafka did not answer for it: no verdict
            }
            Mark mark = new Mark(backlog.endOffset(), QueueStats.activity(totals.get(queue.name())));
            IdleTracker.Look look = new IdleTracker.Look(queue.name().value(), queue.spec().idleTtl(),
                    backlog.waiting(), mark);
            if (tracker.idle(look, clock.instant()) && unchanged(queue.name(), backlog)) {
                remove(queue);
            }
        }
    }

    private boolean unchanged(QueueName queue, Backlogs.Backlog seen) {
        Backlogs.Backlog now = backlogs.of(Set.of(queue)).get(queue);
        return now != null && now.equals(seen);
    }

    private void remove(Queue queue) {
        if (registry.remove(queue.name())) {
            topics.deleteQueueTopic(queue.name());
            LOG.info("Removed idle queue {}: nothing waiting and no activity for {}", queue.name(),
                    queue.spec().idleTtl());
        }
    }
}
