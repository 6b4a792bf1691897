package dev.sluice.ingest;

import dev.sluice.core.QueueName;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.Topics;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.TopicNameExtractor;

/**
 * The router: {@code sluice.tasks} (key = queue name) to {@code sluice.q.<queue>} (key = task id), or
 * to {@code sluice.rejected} with the reason. Built apart from any running application so it can be
 * tested with {@code TopologyTestDriver}.
 */
public final class RouterTopology {

    /** The default limit on a payload: 1 MiB. */
    public static final int DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

    private RouterTopology() {
    }

    public static Topology build(Topics topics, QueueDirectory directory, int maxPayloadBytes) {
        if (maxPayloadBytes < 1) {
            throw new IllegalArgumentException("the payload limit must be at least 1 byte, got " + maxPayloadBytes);
        }
        TopicNameExtractor<byte[], byte[]> queueTopic = (key, value, context) -> {
            var header = context.headers().lastHeader(TaskHeaders.QUEUE);
            return topics.queue(QueueName.of(new String(header.value(), StandardCharsets.UTF_8)));
        };
        Topology topology = new Topology();
        topology.addSource("submissions", Serdes.ByteArray().deserializer(), Serdes.ByteArray().deserializer(),
                topics.tasks());
        topology.addProcessor("route", () -> new RoutingProcessor(directory, maxPayloadBytes), "submissions");
        topology.addSink(RoutingProcessor.ROUTED, queueTopic, Serdes.ByteArray().serializer(),
                Serdes.ByteArray().serializer(), "route");
        topology.addSink(RoutingProcessor.REJECTED, topics.rejected(), Serdes.ByteArray().serializer(),
                Serdes.ByteArray().serializer(), "route");
        return topology;
    }
}
