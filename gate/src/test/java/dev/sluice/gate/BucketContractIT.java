package dev.sluice.gate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.QueueName;
import dev.sluice.core.QueueSpec;
import dev.sluice.core.RateLimit;
import dev.sluice.core.RedisKeys;
import dev.sluice.core.redis.Acquisition;
import dev.sluice.core.redis.QueueRegistry;
import dev.sluice.core.redis.TokenBucket;
import dev.sluice.embedded.SharedServers;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import redis.clients.jedis.RedisClient;

/**
 * One contract for both buckets: {@code acquire.lua} in a real Redis, and {@link LocalBuckets}, the
 * gate's stand-in while Redis is away when it fails open. The same calls at the same Redis times must
 * grant the same number of tokens at the same slots to the microsecond, the same next token and
 * tolerance, so that the two cannot drift apart. Rate changes on the way are part of it.
 * Each call's Redis time is the one the script answered with; the stand-in is given it.
 */
class BucketContractIT {

    private static final long LEAD_MICROS = 200_000;

    @ParameterizedTest(name = "{0} burst {1}")
    @CsvSource({"5/1s,1", "50/1s,1", "500/1s,1", "3/7s,1", "7/3s,2", "10/1s,3", "1/3600s,1", "2000/1s,1"})
    void theScriptAndTheStandInGrantTheSameSlots(String rate, int burst) throws Exception {
        RedisKeys keys = new RedisKeys("contract" + UUID.randomUUID().toString().substring(0, 8));
        try (RedisClient redis = RedisClient.create(URI.create(SharedServers.redisUri()))) {
            QueueRegistry registry = new QueueRegistry(redis, keys);
            QueueName queue = QueueName.generate();
            QueueSpec spec = QueueSpec.of(RateLimit.parse(rate)).withBurst(burst); // changed on the way
            registry.create(queue, spec);
            TokenBucket script = new TokenBucket(redis, keys, Duration.ZERO);
            LocalBuckets standIn = new LocalBuckets();
            SplittableRandom random = new SplittableRandom(rate.hashCode() * 31L + burst);
            List<Long> allSlots = new ArrayList<>();

            for (int call = 0; call < 40; call++) {
                if (call == 15 || call == 30) {
                    // the rate changes with slots reserved ahead: both convert the outstanding debt alike
                    RateLimit changed = new RateLimit(call == 15 ? spec.rateLimit().permits() * 2 : Math.max(1,
                            spec.rateLimit().permits() / 3), Duration.ofNanos(spec.rateLimit().periodMicros() * 1_000));
                    registry.updateRateLimit(queue, changed);
                    spec = spec.withRateLimit(changed);
                }
                int max = new int[] {0, 1, 3, 50, 5000}[random.nextInt(5)];
                Duration horizon = Duration.ofMillis(new int[] {0, 20, 100, 1000}[random.nextInt(4)]);
                Acquisition fromRedis = script.acquireAll(List.of(new TokenBucket.Request(queue, max)), horizon,
                        Duration.ofNanos(LEAD_MICROS * 1_000)).get(0);
                Acquisition local = standIn.acquire(queue, spec, max, fromRedis.nowMicros(), LEAD_MICROS,
                        horizon.toNanos() / 1_000);

                String at = "call " + call + " (max " + max + ", horizon " + horizon.toMillis() + " ms)";
                assertThat(local.granted()).as(at + ": granted").isEqualTo(fromRedis.granted());
                for (int i = 0; i < fromRedis.granted(); i++) {
                    assertThat(local.slotMicros(i)).as(at + ": slot " + i).isEqualTo(fromRedis.slotMicros(i));
                    if (call < 15) {
                        allSlots.add(fromRedis.slotMicros(i)); // under the first rate
                    }
                }
                assertThat(local.nextTokenMicros()).as(at + ": next").isEqualTo(fromRedis.nextTokenMicros());
                assertThat(local.toleranceMicros()).as(at + ": tolerance").isEqualTo(fromRedis.toleranceMicros());
                Thread.sleep(random.nextInt(60));
            }
            // and what both grant keeps the limit: at most permits + burst - 1 slots in any window of the period
            RateLimit firstRate = RateLimit.parse(rate);
            long period = firstRate.periodMicros();
            long allowed = firstRate.permits() + burst - 1;
            for (int first = 0; first < allSlots.size(); first++) {
                int last = first;
                while (last + 1 < allSlots.size() && allSlots.get(last + 1) < allSlots.get(first) + period) {
                    last++;
                }
                assertThat((long) (last - first + 1)).as("slots in the window from " + allSlots.get(first)).isLessThanOrEqualTo(allowed);
            }
            assertThat(allSlots).as("the calls granted something").isNotEmpty();
        }
    }
}
