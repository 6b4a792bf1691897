package dev.sluice.gate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.QueueName;
import dev.sluice.core.QueueSpec;
import dev.sluice.core.RateLimit;
import dev.sluice.core.redis.Acquisition;
import dev.sluice.core.redis.TokenBucket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.exceptions.JedisConnectionException;

/** The gate's tokens through a Redis outage, with a bucket that fails when told to. */
class TokenSourceTest {

    private static final QueueName QUEUE = QueueName.of("emails");
    private static final QueueSpec SPEC = QueueSpec.of(RateLimit.parse("10/1s"));
    private static final Duration LEAD = Duration.ofMillis(200);
    private static final long HORIZON = Duration.ofMillis(100).toNanos();

    /** Answers each request with one slot a lead ahead of a Redis clock at the local clock, or fails while down. */
    private static final class FakeBuckets implements TokenSource.Buckets {
        final List<List<TokenBucket.Request>> calls = new ArrayList<>();
        boolean down;

        @Override
        public List<Acquisition> acquireAll(List<TokenBucket.Request> requests, Duration horizon, Duration lead) {
            calls.add(requests);
            if (down) {
                throw new JedisConnectionException("Connection refused");
            }
            long now = System.nanoTime() / 1_000;
            long slot = now + lead.toNanos() / 1_000;
            return requests.stream().map(r -> Acquisition.of(Acquisition.Outcome.OK, now, slot + 100_000, 5_000, slot)).toList();
        }
    }

    private static Lane laneWith(int records) {
        Lane lane = new Lane(new TopicPartition("sluice.q.emails", 0), QUEUE, 100);
        for (long offset = 0; offset < records; offset++) {
            lane.add(new ConsumerRecord<>("sluice.q.emails", 0, offset, new byte[0], new byte[0]));
        }
        return lane;
    }

    @Test
    void failingClosedGrantsNothingWhileRedisIsDownAndAsksItAgainOnlyAfterTheBackoff() throws Exception {
        FakeBuckets buckets = new FakeBuckets();
        AtomicInteger resyncs = new AtomicInteger();
        TokenSource tokens = new TokenSource(buckets, false, LEAD, HORIZON, 5000, new GateMetrics(), resyncs::incrementAndGet,
                new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(2)));
        Lane lane = laneWith(3);
        buckets.down = true;

        tokens.acquire(List.of(lane), System.nanoTime(), HORIZON, queue -> SPEC);
        tokens.acquire(List.of(lane), System.nanoTime(), HORIZON, queue -> SPEC);

        assertThat(buckets.calls).hasSize(1);
        assertThat(tokens.redisDown()).isTrue();
        assertThat(lane.hasGrants()).isFalse();
        assertThat(lane.wantsTokens(System.nanoTime())).as("it waits for the next try").isFalse();

        Thread.sleep(1_100); // past the first backoff
        buckets.down = false;
        tokens.acquire(List.of(lane), System.nanoTime(), HORIZON, queue -> SPEC);

        assertThat(buckets.calls).hasSize(2);
        assertThat(tokens.redisDown()).isFalse();
        assertThat(resyncs).hasValue(1);
        assertThat(lane.takeGranted()).hasSize(1);
    }

    @Test
    void theBackoffGrowsWhileRedisStaysDown() throws Exception {
        FakeBuckets buckets = new FakeBuckets();
        TokenSource tokens = new TokenSource(buckets, false, LEAD, HORIZON, 5000, new GateMetrics(), () -> { });
        Lane lane = laneWith(1);
        buckets.down = true;
        long started = System.nanoTime();
        while (System.nanoTime() - started < Duration.ofMillis(700).toNanos()) {
            tokens.acquire(List.of(lane), System.nanoTime(), HORIZON, queue -> SPEC);
            Thread.sleep(5);
        }
        // 100, 200, 400 ms between tries: 3 or 4 calls in 700 ms, not one per step (140 steps)
        assertThat(buckets.calls).hasSizeBetween(3, 4);
    }

    @Test
    void failingOpenGrantsAtTheLastKnownRateOnlyForKnownQueuesAndDropsItsBucketsWhenRedisIsBack() throws Exception {
        FakeBuckets buckets = new FakeBuckets();
        AtomicInteger resyncs = new AtomicInteger();
        TokenSource tokens = new TokenSource(buckets, true, LEAD, HORIZON, 5000, new GateMetrics(), resyncs::incrementAndGet);
        Lane known = laneWith(5);
        Lane unknown = new Lane(new TopicPartition("sluice.q.ghost", 0), QueueName.of("ghost"), 100);
        unknown.add(new ConsumerRecord<>("sluice.q.ghost", 0, 0, new byte[0], new byte[0]));
        buckets.down = true;

        long before = System.currentTimeMillis() * 1_000;
        tokens.acquire(List.of(known, unknown), System.nanoTime(), HORIZON, queue -> queue.equals(QUEUE) ? SPEC : null);

        List<Lane.Grant> granted = known.takeGranted();
        // 10/1s on the guarded period: one slot every 101 ms, a horizon of 100 ms: one slot, a lead ahead
        assertThat(granted).hasSize(1);
        assertThat(granted.get(0).slotMicros()).isGreaterThanOrEqualTo(before + LEAD.toNanos() / 1_000);
        assertThat(unknown.hasGrants()).as("no rate known, nothing granted").isFalse();
        Thread.sleep(120);
        tokens.acquire(List.of(known), System.nanoTime(), HORIZON, queue -> SPEC);
        List<Lane.Grant> next = known.takeGranted();
        assertThat(next).hasSize(1);
        assertThat(next.get(0).slotMicros() - granted.get(0).slotMicros()).isGreaterThanOrEqualTo(101_000);

        buckets.down = false;
        Thread.sleep(250); // past the second backoff (200 ms), set when the call after 120 ms failed
        tokens.acquire(List.of(known), System.nanoTime(), HORIZON, queue -> SPEC);
        assertThat(resyncs).hasValue(1);
        assertThat(tokens.redisDown()).isFalse();
        assertThat(known.takeGranted()).hasSize(1); // from Redis now
        assertThat(buckets.calls.get(buckets.calls.size() - 1)).extracting(TokenBucket.Request::queue).containsExactly(QUEUE);
    }
}
