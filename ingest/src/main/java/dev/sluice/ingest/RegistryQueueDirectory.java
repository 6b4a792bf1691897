package dev.sluice.ingest;

import dev.sluice.core.Queue;
import dev.sluice.core.QueueName;
import dev.sluice.core.QueueState;
import dev.sluice.core.SluiceConfig;
import dev.sluice.core.redis.RedisConnections;
import dev.sluice.core.redis.QueueChangeWatcher;
import dev.sluice.core.redis.QueueRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisException;

/**
 * The router's view of the registry: a cache of every queue's state, kept current by the registry's
 * change notifications (within milliseconds) and read again in full after every reconnection. A
 * queue the cache does not know is looked up in Redis (it may have been created a moment ago), and an
 * unknown answer is remembered for a second, so a flood of submissions to a missing queue costs one
 * lookup a second. Thread-safe.
 *
 * <p>While Redis does not answer, a lookup waits for it (backing off to one try every 2 s) rather than
 * fail: failing, the router's stream thread was replaced and met the same record again, in a loop. A
 * lookup gives up after {@link #MAX_WAIT} (the stream thread must poll within
 * {@code max.poll.interval.ms}); its thread is then replaced and waits again. Known queues are routed
 * from the cache meanwhile, up to the first record that needs a lookup in its partition.
 */
public final class RegistryQueueDirectory implements QueueDirectory, AutoCloseable {

    private static final long NEGATIVE_TTL_NANOS = 1_000_000_000L;
    /** The longest one lookup waits for Redis. */
    static final Duration MAX_WAIT = Duration.ofSeconds(60);
    private static final Logger LOG = LoggerFactory.getLogger(RegistryQueueDirectory.class);

    private final UnifiedJedis redis;
    private final QueueRegistry registry;
    private final QueueChangeWatcher watcher;
    private final Map<QueueName, QueueState> states = new ConcurrentHashMap<>();
    private final Map<QueueName, Long> missingSince = new ConcurrentHashMap<>();

    public RegistryQueueDirectory(SluiceConfig config) {
        this.redis = RedisConnections.open(config);
        this.registry = new QueueRegistry(redis, config.keys());
        this.watcher = new QueueChangeWatcher(config, this::changed);
        reloadAll();
        watcher.start();
    }

    @Override
    public Optional<QueueState> stateOf(QueueName queue) {
        QueueState known = states.get(queue);
        if (known != null) {
            return Optional.of(known);
        }
        Long missing = missingSince.get(queue);
        if (missing != null && System.nanoTime() - missing < NEGATIVE_TTL_NANOS) {
            return Optional.empty();
        }
        return lookUp(queue);
    }

    /** Reads a queue's state from Redis, waiting for Redis while it does not answer. */
    private Optional<QueueState> lookUp(QueueName queue) {
        long since = 0;
        long backoffMillis = 100;
        while (true) {
            try {
                Optional<QueueState> state = reload(queue);
                if (since != 0) {
                    LOG.info("Redis answers again after {} ms: routing goes on", (System.nanoTime() - since) / 1_000_000);
                }
                return state;
            } catch (JedisException unreachable) {
                long now = System.nanoTime();
                if (since == 0) {
                    since = now;
                    LOG.warn("Redis does not answer ({}): routing waits for it to look up queue {}",
                            unreachable.getMessage(), queue);
                } else if (now - since >= MAX_WAIT.toNanos()) {
                    throw new IllegalStateException("Redis has not answered for " + MAX_WAIT.toSeconds()
                            + " s: queue " + queue + " cannot be looked up", unreachable);
                }
                try {
                    Thread.sleep(backoffMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for Redis", e);
                }
                backoffMillis = Math.min(backoffMillis * 2, 2_000);
            }
        }
    }

    private void changed(String name) {
        if (name.equals(QueueChangeWatcher.RESYNC)) {
            reloadAll();
            return;
        }
        try {
            reload(QueueName.of(name));
        } catch (IllegalArgumentException foreign) {
            // not a queue name: not ours
        }
    }

    private Optional<QueueState> reload(QueueName queue) {
        Optional<QueueState> state = registry.find(queue).map(Queue::state);
        if (state.isPresent()) {
            states.put(queue, state.get());
            missingSince.remove(queue);
        } else {
            states.remove(queue);
            missingSince.put(queue, System.nanoTime());
        }
        return state;
    }

    private void reloadAll() {
        Map<QueueName, QueueState> fresh = new ConcurrentHashMap<>();
        for (Queue queue : registry.list()) {
            fresh.put(queue.name(), queue.state());
        }
        states.keySet().retainAll(fresh.keySet());
        states.putAll(fresh);
        missingSince.clear();
    }

    @Override
    public void close() {
        watcher.close();
        redis.close();
    }
}
