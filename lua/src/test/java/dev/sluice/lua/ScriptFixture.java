package dev.sluice.lua;

import dev.sluice.embedded.SharedServers;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import redis.clients.jedis.RedisClient;

/**
 * Calls the scripts exactly as shipped, by SHA, against the shared real redis-server, with raw
 * keys and arguments: no Sluice Java code in between.
 */
final class ScriptFixture implements AutoCloseable {

    final RedisClient redis;
    private final String acquireSha;
    private final String statusSha;

    ScriptFixture() {
        this.redis = RedisClient.create(URI.create(SharedServers.redisUri()));
        this.acquireSha = redis.scriptLoad(source("bucket") + source("acquire"));
        this.statusSha = redis.scriptLoad(source("bucket") + source("status"));
    }

    static String source(String name) {
        try (InputStream in = ScriptFixture.class.getResourceAsStream("/dev/sluice/lua/" + name + ".lua")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String randomQueue() {
        return "t_" + UUID.randomUUID().toString().replace("-", "");
    }

    static String meta(String queue) {
        return "sluice:{" + queue + "}:meta";
    }

    static String bucket(String queue) {
        return "sluice:{" + queue + "}:bucket";
    }

    static String stats(String queue) {
        return "sluice:{" + queue + "}:stats";
    }

    /** Writes the meta fields the scripts read, as the registry does. */
    void defineQueue(String queue, long permits, long periodMicros, long burst) {
        redis.hset(meta(queue), java.util.Map.of(
                "permits", String.valueOf(permits),
                "period_us", String.valueOf(periodMicros),
                "burst", String.valueOf(burst),
                "state", "active"));
    }

    Grant acquire(String queue, int max, long horizonMicros) {
        return acquire(queue, max, horizonMicros, 0);
    }

    Grant acquire(String queue, int max, long horizonMicros, long leadMicros) {
        List<?> reply = (List<?>) redis.evalsha(acquireSha, List.of(meta(queue), bucket(queue)),
                List.of(String.valueOf(max), String.valueOf(horizonMicros), String.valueOf(leadMicros)));
        List<Long> slots = new ArrayList<>();
        for (int i = 5; i < reply.size(); i++) {
            slots.add((Long) reply.get(i));
        }
        return new Grant((Long) reply.get(0), (Long) reply.get(1), (Long) reply.get(2), (Long) reply.get(3),
                (Long) reply.get(4), slots);
    }

    Status status(String queue) {
        List<?> reply = (List<?>) redis.evalsha(statusSha, List.of(meta(queue), bucket(queue)), List.of());
        return new Status((Long) reply.get(0), (Long) reply.get(1), (Long) reply.get(2), (Long) reply.get(3),
                (Long) reply.get(4), (Long) reply.get(5), (Long) reply.get(6));
    }

    @Override
    public void close() {
        redis.close();
    }

    record Grant(long status, long granted, long now, long next, long tolerance, List<Long> slots) {
    }

    record Status(long status, long tokens, long capacity, long permits, long periodMicros, long now, long next) {
    }

    /** The most slots that fall in any half-open window [t, t + length). */
    static int maxInAnyWindow(List<Long> sortedSlots, long length) {
        int max = 0;
        int start = 0;
        for (int end = 0; end < sortedSlots.size(); end++) {
            while (sortedSlots.get(end) - sortedSlots.get(start) >= length) {
                start++;
            }
            max = Math.max(max, end - start + 1);
        }
        return max;
    }

    static void sleepMicros(long micros) {
        if (micros <= 0) {
            return;
        }
        try {
            Thread.sleep(micros / 1000, (int) (micros % 1000) * 1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
