package dev.sluice.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.QueueName;
import dev.sluice.core.QueueState;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.Topics;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RouterTopologyTest {

    private static final Topics TOPICS = Topics.defaults();

    private final Map<QueueName, QueueState> queues = new HashMap<>();
    private TopologyTestDriver driver;
    private TestInputTopic<byte[], byte[]> submissions;
    private TestOutputTopic<byte[], byte[]> emails;
    private TestOutputTopic<byte[], byte[]> rejected;

    @BeforeEach
    void setUp() {
        queues.put(QueueName.of("emails"), QueueState.ACTIVE);
        queues.put(QueueName.of("paused"), QueueState.INACTIVE);
        QueueDirectory directory = queue -> Optional.ofNullable(queues.get(queue));
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "sluice-router-test");
        driver = new TopologyTestDriver(RouterTopology.build(TOPICS, directory, 100), props);
        submissions = driver.createInputTopic(TOPICS.tasks(), Serdes.ByteArray().serializer(),
                Serdes.ByteArray().serializer());
        emails = driver.createOutputTopic(TOPICS.queue(QueueName.of("emails")), Serdes.ByteArray().deserializer(),
                Serdes.ByteArray().deserializer());
        rejected = driver.createOutputTopic(TOPICS.rejected(), Serdes.ByteArray().deserializer(),
                Serdes.ByteArray().deserializer());
    }

    @AfterEach
    void tearDown() {
        driver.close();
    }

    private static byte[] utf8(String text) {
        return text == null ? null : text.getBytes(StandardCharsets.UTF_8);
    }

    private static String header(TestRecord<byte[], byte[]> record, String name) {
        var header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    private void submit(String key, String value, String... headerPairs) {
        Headers headers = new RecordHeaders();
        for (int i = 0; i < headerPairs.length; i += 2) {
            headers.add(headerPairs[i], utf8(headerPairs[i + 1]));
        }
        submissions.pipeInput(new TestRecord<>(utf8(key), utf8(value), headers, 1_700_000_000_000L));
    }

    @Test
    void routesToTheQueueTopicKeyedByTaskIdWithHeadersCompleted() {
        submit("emails", "{\"to\":\"a@b.c\"}");
        submit("emails", "second", TaskHeaders.ID, "mine-1");

        List<TestRecord<byte[], byte[]>> routed = emails.readRecordsToList();

        assertThat(routed).hasSize(2);
        TestRecord<byte[], byte[]> first = routed.get(0);
        assertThat(new String(first.value(), StandardCharsets.UTF_8)).isEqualTo("{\"to\":\"a@b.c\"}");
        assertThat(header(first, TaskHeaders.ID)).isNotBlank();
        assertThat(new String(first.key(), StandardCharsets.UTF_8)).isEqualTo(header(first, TaskHeaders.ID));
        assertThat(header(first, TaskHeaders.QUEUE)).isEqualTo("emails");
        assertThat(header(first, TaskHeaders.ATTEMPT)).isEqualTo("0");
        assertThat(header(first, TaskHeaders.SUBMITTED_AT)).isEqualTo("1700000000000");
        assertThat(header(routed.get(1), TaskHeaders.ID)).isEqualTo("mine-1");
        assertThat(rejected.isEmpty()).isTrue();
    }

    @Test
    void routesTasksOfAnInactiveQueueToWaitInKafka() {
        TestOutputTopic<byte[], byte[]> paused = driver.createOutputTopic(TOPICS.queue(QueueName.of("paused")),
                Serdes.ByteArray().deserializer(), Serdes.ByteArray().deserializer());

        submit("paused", "x");

        assertThat(paused.readRecordsToList()).hasSize(1);
        assertThat(rejected.isEmpty()).isTrue();
    }

    @Test
    void rejectsWithTheReasonAndTheOriginalBytes() {
        submit(null, "no key");
        submit("a.b", "bad key");
        submit("ghost", "unknown queue");
        submit("emails", "x".repeat(101));
        submit("emails", "v", TaskHeaders.ATTEMPT, "two");
        submit("emails", "v", TaskHeaders.QUEUE, "other");
        submit("emails", "v", TaskHeaders.ID, " ");
        submit("emails", "v", TaskHeaders.SUBMITTED_AT, "-5");
        submit("emails", "v", "x-padding", "p".repeat(17_000));

        List<TestRecord<byte[], byte[]>> refused = rejected.readRecordsToList();

        assertThat(refused).extracting(r -> header(r, RoutingProcessor.REJECT_REASON)).satisfiesExactly(
                reason -> assertThat(reason).startsWith("missing key"),
                reason -> assertThat(reason).startsWith("invalid key").contains("'.'"),
                reason -> assertThat(reason).isEqualTo("unknown queue \"ghost\": create it first"),
                reason -> assertThat(reason).isEqualTo("payload of 101 bytes is over the limit of 100 bytes (SLUICE_MAX_PAYLOAD_BYTES)"),
                reason -> assertThat(reason).contains("sluice-attempt").contains("not a whole number"),
                reason -> assertThat(reason).contains("sluice-queue").contains("is not the key"),
                reason -> assertThat(reason).contains("sluice-id"),
                reason -> assertThat(reason).contains("sluice-submitted-at").contains("negative"),
                reason -> assertThat(reason).contains("headers of 17009 bytes").contains("SLUICE_MAX_HEADER_BYTES"));
        assertThat(refused.get(2).value()).isEqualTo(utf8("unknown queue"));
        assertThat(refused.get(2).key()).isEqualTo(utf8("ghost"));
        assertThat(emails.isEmpty()).isTrue();
    }

    @Test
    void aQueueRemovedMeanwhileGetsItsLaterTasksRejected() {
        submit("emails", "before");
        queues.remove(QueueName.of("emails"));
        submit("emails", "after");

        assertThat(emails.readRecordsToList()).hasSize(1);
        assertThat(rejected.readRecordsToList()).singleElement()
                .satisfies(r -> assertThat(header(r, RoutingProcessor.REJECT_REASON)).startsWith("unknown queue"));
    }
}
