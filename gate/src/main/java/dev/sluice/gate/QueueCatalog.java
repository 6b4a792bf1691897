package dev.sluice.gate;

import dev.sluice.core.Queue;
import dev.sluice.core.QueueName;
import dev.sluice.core.redis.QueueChangeWatcher;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.exceptions.JedisException;

/**
 * The queues the gate knows, as the registry last said: read whole at start, on a resync notice and
 * every resync interval (in case a notice was missed); one by one as change notices name them. Notices
 * come from any thread and are applied on the loop thread, coalesced. When Redis does not answer, what
 * was known stays known and the failure is reported; a failed read of one queue is tried again at the
 * next step, a failed full read a second later.
 */
final class QueueCatalog {

    /** What applying the notices changed. */
    record Update(boolean resynced, Set<QueueName> changed) {
        static final Update NONE = new Update(false, Set.of());

        boolean isEmpty() {
            return !resynced && changed.isEmpty();
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(QueueCatalog.class);
    /** Put among the notices only to end a wait for them (stop). */
    private static final String WAKE = "\u0000wake";
    /** A full read that failed is tried again this much later. */
    private static final long RETRY_NANOS = 1_000_000_000L;

    private final GateLoop.Registry registry;
    private final long resyncIntervalNanos;
    private final Consumer<JedisException> redisFailed;
    /** Queue names that changed, {@link QueueChangeWatcher#RESYNC}, or {@link #WAKE}; any thread adds. */
    private final LinkedBlockingQueue<String> notices = new LinkedBlockingQueue<>();
    private Map<QueueName, Queue> known = Map.of();
    private long nextResyncNanos;

    QueueCatalog(GateLoop.Registry registry, Duration resyncInterval, Consumer<JedisException> redisFailed) {
        this.registry = registry;
        this.resyncIntervalNanos = resyncInterval.toNanos();
        this.redisFailed = redisFailed;
    }

    /** Any thread: a queue changed, or {@link QueueChangeWatcher#RESYNC} to read them all. */
    void notice(String queue) {
        notices.add(queue);
    }

    /** Any thread: ends a {@link #awaitNotice} at once. */
    void wake() {
        notices.add(WAKE);
    }

    /** Waits up to {@code timeoutNanos} for a notice, leaving it to be applied. */
    void awaitNotice(long timeoutNanos) throws InterruptedException {
        String notice = notices.poll(timeoutNanos, TimeUnit.NANOSECONDS);
        if (notice != null && !notice.equals(WAKE)) {
            notices.add(notice); // the next apply takes it
        }
    }

    /** Applies the notices since the last call, or reads everything when a resync is due. */
    Update apply(long nowNanos) {
        boolean resync = nowNanos >= nextResyncNanos;
        Set<QueueName> changed = new HashSet<>();
        for (String name; (name = notices.poll()) != null; ) {
            if (name.equals(WAKE)) {
                continue;
            }
            if (name.equals(QueueChangeWatcher.RESYNC)) {
                resync = true;
            } else {
                try {
                    changed.add(QueueName.of(name));
                } catch (IllegalArgumentException foreign) {
                    LOG.debug("Ignoring change notice for \"{}\"", name);
                }
            }
        }
        if (resync) {
            return resync(nowNanos);
        }
        return changed.isEmpty() ? Update.NONE : refresh(changed);
    }

    private Update resync(long nowNanos) {
        nextResyncNanos = nowNanos + resyncIntervalNanos;
        try {
            Map<QueueName, Queue> all = new HashMap<>();
            for (Queue queue : registry.list()) {
                all.put(queue.name(), queue);
            }
            known = all;
            return new Update(true, Set.copyOf(all.keySet()));
        } catch (JedisException e) {
            redisFailed.accept(e);
            nextResyncNanos = nowNanos + Math.min(RETRY_NANOS, resyncIntervalNanos); // the notices it took included
            return Update.NONE;
        }
    }

    private Update refresh(Set<QueueName> changed) {
        Map<QueueName, Queue> updated = new HashMap<>(known);
        try {
            for (QueueName name : changed) {
                Optional<Queue> queue = registry.find(name);
                if (queue.isPresent()) {
                    updated.put(name, queue.get());
                } else {
                    updated.remove(name);
                }
            }
        } catch (JedisException e) {
            redisFailed.accept(e);
            changed.forEach(name -> notices.add(name.value())); // tried again at the next step
            return Update.NONE;
        }
        known = updated;
        return new Update(false, Set.copyOf(changed));
    }

    /** The queue as last read, or null when it is not known (removed, or never seen). */
    Queue get(QueueName name) {
        return known.get(name);
    }

    Set<QueueName> names() {
        return known.keySet();
    }
}
