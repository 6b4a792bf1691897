package dev.sluice.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.QueueName;
import dev.sluice.core.TaskEvent;
import dev.sluice.core.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class StatsTopologyTest {

    private static final QueueName EMAILS = QueueName.of("emails");
    private static final QueueName SMS = QueueName.of("sms");

    /** The latest value written for each (queue, type) and (queue, second). */
    private final Map<String, Long> written = new HashMap<>();
    private TopologyTestDriver driver;
    private TestInputTopic<byte[], byte[]> events;
    private TestInputTopic<byte[], byte[]> ready;

    @BeforeEach
    void setUp() {
        StatsSink sink = new StatsSink() {
            @Override
            public void total(QueueName queue, TaskEvent.Type type, long total) {
                written.put(queue + " " + type, total);
            }

            @Override
            public void releasedInSecond(QueueName queue, long secondStartMillis, long count) {
                written.put(queue + " @" + secondStartMillis, count);
            }

            @Override
            public void firstReleases(QueueName queue, long total) {
                written.put(queue + " first", total);
            }
        };
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "sluice-stats-test");
        props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
        driver = new TopologyTestDriver(StatsTopology.build(Topics.defaults(), sink), props);
        events = driver.createInputTopic(Topics.defaults().events(), Serdes.ByteArray().serializer(),
                Serdes.ByteArray().serializer());
        ready = driver.createInputTopic(Topics.defaults().ready(), Serdes.ByteArray().serializer(),
                Serdes.ByteArray().serializer());
    }

    /** {@code count} tasks of {@code queue} released at slot {@code atMillis}, as the gate writes them. */
    private void release(QueueName queue, int count, long atMillis) {
        release(queue, count, atMillis, Map.of());
    }

    private void release(QueueName queue, int count, long atMillis, Map<String, String> more) {
        for (int i = 0; i < count; i++) {
            org.apache.kafka.common.header.internals.RecordHeaders headers = new org.apache.kafka.common.header.internals.RecordHeaders();
            more.forEach((name, value) -> headers.add(name, value.getBytes(StandardCharsets.UTF_8)));
            headers.add(dev.sluice.core.TaskHeaders.QUEUE, queue.value().getBytes(StandardCharsets.UTF_8));
            headers.add(dev.sluice.core.TaskHeaders.ID, ("t-" + i).getBytes(StandardCharsets.UTF_8));
            ready.pipeInput(new org.apache.kafka.streams.test.TestRecord<>(("t-" + i).getBytes(StandardCharsets.UTF_8),
                    "{}".getBytes(StandardCharsets.UTF_8), headers, Instant.ofEpochMilli(atMillis)));
        }
    }

    @AfterEach
    void tearDown() {
        driver.close();
    }

    private void send(TaskEvent event) {
        events.pipeInput(event.queue().getBytes(StandardCharsets.UTF_8), event.toJson(), Instant.ofEpochMilli(event.at()));
    }

    @Test
    void countsEveryTypeAcrossQueuesSummingCountsAndReleasesFromTheReadyTopic() {
        release(EMAILS, 30, 1_000);
        release(EMAILS, 12, 1_500);
        send(TaskEvent.of(TaskEvent.Type.completed, EMAILS, "t-1", 0, 1_600));
        send(TaskEvent.of(TaskEvent.Type.failed, SMS, "t-2", 0, 1_700, "503"));
        send(TaskEvent.of(TaskEvent.Type.dead, SMS, "t-2", 2, 1_800, "503"));

        assertThat(written).containsEntry("emails released", 42L).containsEntry("emails completed", 1L)
                .containsEntry("sms failed", 1L).containsEntry("sms dead", 1L)
                .doesNotContainKey("sms released");
    }

    @Test
    void theGatesReleasedEventsAreNotCountedTwice() {
        release(EMAILS, 3, 1_000);
        send(TaskEvent.released(EMAILS, 3, 1_000)); // the gate's, after its transaction: maybe never, after a crash

        assertThat(written).containsEntry("emails released", 3L).containsEntry("emails @1000", 3L);
    }

    @Test
    void countsReleasesInOneSecondWindowsOfTheirSlots() {
        release(EMAILS, 5, 10_000);
        release(EMAILS, 3, 10_999);
        release(EMAILS, 7, 11_000);
        release(SMS, 1, 10_500);
        release(EMAILS, 2, 10_200); // late, within the grace: still counted in its second

        assertThat(written).containsEntry("emails @10000", 10L).containsEntry("emails @11000", 7L)
                .containsEntry("sms @10000", 1L);
    }

    @Test
    void skipsWhatIsNotAnEventOrARelease() {
        events.pipeInput("emails".getBytes(StandardCharsets.UTF_8), "garbage".getBytes(StandardCharsets.UTF_8));
        events.pipeInput("emails".getBytes(StandardCharsets.UTF_8),
                "{\"type\":\"completed\",\"queue\":\"a.b\",\"at\":1}".getBytes(StandardCharsets.UTF_8));
        ready.pipeInput("x".getBytes(StandardCharsets.UTF_8), "{}".getBytes(StandardCharsets.UTF_8), 1_000L); // no queue
        release(EMAILS, 1, 1_000);

        assertThat(written).containsEntry("emails released", 1L).containsEntry("emails first", 1L).hasSize(3);
    }

    @Test
    void countsFirstReleasesApartFromRetriesAndTasksSentBackThroughTheLimit() {
        release(EMAILS, 4, 1_000, Map.of(dev.sluice.core.TaskHeaders.ATTEMPT, "0"));
        release(EMAILS, 2, 2_000, Map.of(dev.sluice.core.TaskHeaders.ATTEMPT, "1")); // retries
        release(EMAILS, 1, 3_000, Map.of(dev.sluice.core.TaskHeaders.ATTEMPT, "0", dev.sluice.core.TaskHeaders.REQUEUES, "1"));

        assertThat(written).containsEntry("emails released", 7L).containsEntry("emails first", 4L)
                .containsEntry("emails @1000", 4L).containsEntry("emails @2000", 2L).containsEntry("emails @3000", 1L)
                .doesNotContainKey("emails|first @1000");
    }
}
