package dev.sluice.ingest;

import dev.sluice.core.Queue;
import dev.sluice.core.QueueName;
import dev.sluice.core.QueueState;
import dev.sluice.core.RedisKeys;
import dev.sluice.core.redis.QueueChangeWatcher;
import dev.sluice.core.redis.QueueRegistry;
import java.net.URI;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import redis.clients.jedis.RedisClient;

/**
 * The router's view of the registry: a cache of every queue's state, kept current by the registry's
 * change notifications (within milliseconds) and read again in full after every reconnection. A
 * queue the cache does not know is looked up in Redis (it may have been created a moment ago), and an
 * unknown answer is remembered for a second, so a flood of submissions to a missing queue costs one
 * lookup a second. Thread-safe.
 */
public final class RegistryQueueDirectory implements QueueDirectory, AutoCloseable {

    private static final long NEGATIVE_TTL_NANOS = 1_000_000_000L;

    private final RedisClient redis;
    private final QueueRegistry registry;
    private final QueueChangeWatcher watcher;
    private final Map<QueueName, QueueState> states = new ConcurrentHashMap<>();
    private final Map<QueueName, Long> missingSince = new ConcurrentHashMap<>();

    public RegistryQueueDirectory(URI redisUri, RedisKeys keys) {
        this.redis = RedisClient.create(redisUri);
        this.registry = new QueueRegistry(redis, keys);
        this.watcher = new QueueChangeWatcher(redisUri, keys, this::changed);
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
        return reload(queue);
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
