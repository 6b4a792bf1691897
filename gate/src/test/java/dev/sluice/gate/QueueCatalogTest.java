package dev.sluice.gate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.Queue;
import dev.sluice.core.QueueName;
import dev.sluice.core.QueueSpec;
import dev.sluice.core.QueueState;
import dev.sluice.core.RateLimit;
import dev.sluice.core.redis.QueueChangeWatcher;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisException;

/** The gate's view of the registry, against a registry that can be made to fail. */
class QueueCatalogTest {

    private static final long SECOND = 1_000_000_000L;

    private final Map<QueueName, Queue> stored = new HashMap<>();
    private final List<String> reads = new ArrayList<>();
    private final List<JedisException> failures = new ArrayList<>();
    private boolean down;

    private final GateLoop.Registry registry = new GateLoop.Registry() {
        @Override
        public List<Queue> list() {
            reads.add("list");
            fail();
            return List.copyOf(stored.values());
        }

        @Override
        public Optional<Queue> find(QueueName name) {
            reads.add("find " + name);
            fail();
            return Optional.ofNullable(stored.get(name));
        }
    };

    private void fail() {
        if (down) {
            throw new JedisConnectionException("Connection refused");
        }
    }

    private final QueueCatalog catalog = new QueueCatalog(registry, Duration.ofSeconds(30), failures::add);

    private void store(String name, QueueState state) {
        QueueName queue = QueueName.of(name);
        stored.put(queue, new Queue(queue, QueueSpec.of(RateLimit.parse("5/1s")), state, Instant.EPOCH, Instant.EPOCH));
    }

    @Test
    void readsEverythingFirstThenOnlyWhatNoticesNameCoalescedAndEverythingAgainEachInterval() {
        store("a", QueueState.ACTIVE);
        store("b", QueueState.ACTIVE);

        QueueCatalog.Update first = catalog.apply(0);
        assertThat(first.resynced()).isTrue();
        assertThat(catalog.names()).extracting(QueueName::value).containsExactlyInAnyOrder("a", "b");

        store("a", QueueState.INACTIVE);
        stored.remove(QueueName.of("b"));
        catalog.notice("a");
        catalog.notice("a");
        catalog.notice("b");
        catalog.notice("not a queue name!");
        reads.clear();
        QueueCatalog.Update changes = catalog.apply(SECOND);

        assertThat(changes.resynced()).isFalse();
        assertThat(changes.changed()).extracting(QueueName::value).containsExactlyInAnyOrder("a", "b");
        assertThat(reads).containsExactlyInAnyOrder("find a", "find b"); // one read each, no list
        assertThat(catalog.get(QueueName.of("a")).state()).isEqualTo(QueueState.INACTIVE);
        assertThat(catalog.get(QueueName.of("b"))).isNull();
        assertThat(catalog.apply(2 * SECOND).isEmpty()).isTrue();

        reads.clear();
        assertThat(catalog.apply(31 * SECOND).resynced()).isTrue(); // the interval has passed
        assertThat(reads).containsExactly("list");
        catalog.notice(QueueChangeWatcher.RESYNC);
        assertThat(catalog.apply(32 * SECOND).resynced()).isTrue(); // a resync notice
    }

    @Test
    void whileRedisIsDownWhatWasKnownStaysAndNoNoticeIsLost() {
        store("a", QueueState.ACTIVE);
        catalog.apply(0);
        down = true;
        store("a", QueueState.INACTIVE);
        catalog.notice("a");

        assertThat(catalog.apply(SECOND).isEmpty()).isTrue();
        assertThat(failures).hasSize(1);
        assertThat(catalog.get(QueueName.of("a")).state()).isEqualTo(QueueState.ACTIVE);
        assertThat(catalog.apply(31 * SECOND).isEmpty()).as("a failed resync changes nothing").isTrue();
        assertThat(catalog.get(QueueName.of("a"))).isNotNull();

        down = false;
        QueueCatalog.Update later = catalog.apply(32 * SECOND);
        assertThat(later.changed()).extracting(QueueName::value).containsExactly("a"); // the notice was kept
        assertThat(catalog.get(QueueName.of("a")).state()).isEqualTo(QueueState.INACTIVE);
    }
}
