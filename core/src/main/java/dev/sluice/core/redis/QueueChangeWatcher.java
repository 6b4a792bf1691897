package dev.sluice.core.redis;

import dev.sluice.core.RedisKeys;
import dev.sluice.core.SluiceConfig;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.JedisPubSub;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisException;

/**
 * Listens on the registry's change channel ({@link QueueRegistry} announces every change there) and
 * hands each changed queue name to a listener, so a new, paused, resumed, re-rated or removed queue is
 * seen within milliseconds. Pub/sub forgets what is
 * sent while nobody listens: after every (re)connection the gate is told to read the whole list.
 */
public final class QueueChangeWatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(QueueChangeWatcher.class);
    /** Handed to the listener when everything must be read again (after every (re)connection). */
    public static final String RESYNC = "";

    private final SluiceConfig config;
    private final RedisKeys keys;
    private final Consumer<String> onChange;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile JedisPubSub subscription;

    /** @param onChange called with a queue name, or with {@link #RESYNC} when everything must be re-read */
    public QueueChangeWatcher(SluiceConfig config, Consumer<String> onChange) {
        this.config = config;
        this.keys = config.keys();
        this.onChange = onChange;
        this.thread = new Thread(this::run, "sluice-queue-changes");
        this.thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    private void run() {
        long delayMillis = 100;
        boolean warned = false;
        while (running) {
            JedisPubSub listener = new JedisPubSub() {
                @Override
                public void onSubscribe(String channel, int count) {
                    onChange.accept(RESYNC);
                }

                @Override
                public void onMessage(String channel, String message) {
                    onChange.accept(message);
                }
            };
            subscription = listener;
            // a client of its own: a subscription holds its connection (on a cluster, one node's; Redis
            // Cluster hands every PUBLISH to every node)
            try (UnifiedJedis redis = RedisConnections.open(config)) {
                redis.subscribe(listener, keys.changesChannel());
                delayMillis = 100;
                warned = false;
            } catch (JedisException | IllegalStateException e) {
                if (!running) {
                    return;
                }
                if (!warned) {
                    LOG.warn("Cannot listen for queue changes on Redis ({}); retrying", e.getMessage());
                    warned = true;
                }
                sleepMillis(delayMillis);
                delayMillis = Math.min(5_000, delayMillis * 2);
            }
        }
    }

    private void sleepMillis(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    @Override
    public void close() {
        running = false;
        JedisPubSub listener = subscription;
        if (listener != null && listener.isSubscribed()) {
            try {
                listener.unsubscribe();
            } catch (JedisException ignored) {
                // the connection is gone already
            }
        }
        thread.interrupt();
        try {
            thread.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
