package dev.sluice.bench;

import dev.sluice.core.QueueName;
import dev.sluice.core.QueueSpec;
import dev.sluice.core.RateLimit;
import dev.sluice.core.RedisKeys;
import dev.sluice.core.redis.QueueRegistry;
import dev.sluice.core.redis.TokenBucket;
import dev.sluice.embedded.SharedServers;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.function.IntSupplier;
import redis.clients.jedis.RedisClient;

/**
 * Token acquisitions per second through {@link TokenBucket#acquire}, one caller on one connection,
 * against {@code PING} on the same connection in the same run: the ratio says what the script costs
 * beyond a round trip.
 *
 * <p>The queue's limit (1,000,000 per millisecond) is far above what one connection can ask for, so
 * every call is granted in full and the figures are the bucket's own cost, not the limit.
 */
public final class TokenBucketBenchmark {

    private TokenBucketBenchmark() {
    }

    public static void main(String[] args) {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 3.0;
        String uri = SharedServers.redisUri();
        // a pool of one connection: every call of this single thread uses the same socket
        try (RedisClient redis = RedisClient.builder()
                .fromURI(URI.create(uri))
                .poolConfig(onePooledConnection())
                .build()) {
            RedisKeys keys = new RedisKeys("bench" + System.nanoTime());
            QueueName queue = QueueName.generate();
            new QueueRegistry(redis, keys).create(queue, QueueSpec.of(RateLimit.parse("1000000/1ms")));
            TokenBucket bucket = new TokenBucket(redis, keys, Duration.ofMillis(50));

            System.out.printf("Token bucket on %s (%s), one connection, %.0f s per case after %.0f s warm-up%n",
                    uri, redis.info("server").lines().filter(l -> l.startsWith("redis_version:"))
                            .findFirst().orElse("redis_version:?"), seconds, seconds);
            Case ping = new Case("PING", () -> {
                redis.ping();
                return 0;
            });
            Case one = new Case("acquire(max 1)", () -> bucket.acquire(queue, 1).granted());
            Case hundred = new Case("acquire(max 100)", () -> bucket.acquire(queue, 100).granted());
            for (Case c : new Case[] {ping, one, hundred}) {
                c.measure(seconds); // warm-up
            }
            Result pingResult = ping.measure(seconds);
            Result oneResult = one.measure(seconds);
            Result hundredResult = hundred.measure(seconds);

            System.out.printf("%-18s %12s %14s %16s%n", "case", "calls/s", "tokens/s", "calls vs PING");
            print(pingResult, pingResult);
            print(oneResult, pingResult);
            print(hundredResult, pingResult);
            System.out.printf(Locale.ROOT, "tokens/s acquire(max 100) / acquire(max 1): %.1fx%n",
                    hundredResult.tokensPerSecond() / oneResult.tokensPerSecond());
            redis.del(keys.meta(queue), keys.bucket(queue), keys.index());
        }
        System.exit(0); // the embedded redis-server is stopped by its shutdown hook
    }

    private static redis.clients.jedis.ConnectionPoolConfig onePooledConnection() {
        redis.clients.jedis.ConnectionPoolConfig config = new redis.clients.jedis.ConnectionPoolConfig();
        config.setMaxTotal(1);
        config.setMaxIdle(1);
        config.setMinIdle(1);
        return config;
    }

    private static void print(Result result, Result baseline) {
        System.out.printf(Locale.ROOT, "%-18s %12.0f %14s %15.2fx%n", result.name(), result.callsPerSecond(),
                result.tokens() == 0 ? "-" : String.format(Locale.ROOT, "%.0f", result.tokensPerSecond()),
                result.callsPerSecond() / baseline.callsPerSecond());
    }

    private record Case(String name, IntSupplier call) {
        Result measure(double seconds) {
            long calls = 0;
            long tokens = 0;
            long start = System.nanoTime();
            long end = start + (long) (seconds * 1e9);
            long now;
            do {
                for (int i = 0; i < 100; i++) {
                    tokens += call.getAsInt();
                }
                calls += 100;
                now = System.nanoTime();
            } while (now < end);
            return new Result(name, calls, tokens, (now - start) / 1e9);
        }
    }

    private record Result(String name, long calls, long tokens, double seconds) {
        double callsPerSecond() {
            return calls / seconds;
        }

        double tokensPerSecond() {
            return tokens / seconds;
        }
    }
}
