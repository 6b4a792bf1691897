package dev.sluice.ingest;

import dev.sluice.core.QueueName;
import dev.sluice.core.RecordLimits;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.Topics;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.AutoOffsetReset;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.TopicNameExtractor;

/**
 * The router: {@code sluice.tasks} (key = queue name) to {@code sluice.q.<queue>} (key = task id), or
 * to {@code sluice.rejected} with the reason. Built apart from any running application so it can be
 * tested with {@code TopologyTestDriver}.
 */
public final class RouterTopology {

    /** The default limit on a payload: 1 MiB. */
    public static final int DEFAULT_MAX_PAYLOAD_BYTES = RecordLimits.DEFAULTS.maxPayloadBytes();

    private RouterTopology() {
    }

    /** With the default header limit. */
    public static Topology build(Topics topics, QueueDirectory directory, int maxPayloadBytes) {
        return build(topics, directory, new RecordLimits(maxPayloadBytes, RecordLimits.DEFAULTS.maxHeaderBytes()));
    }

    public static Topology build(Topics topics, QueueDirectory directory, RecordLimits limits) {
        TopicNameExtractor<byte[], byte[]> queueTopic = (key, value, context) -> {
            var header = context.headers().lastHeader(TaskHeaders.QUEUE);
            return topics.queue(QueueName.of(new String(header.value(), StandardCharsets.UTF_8)));
        };
        Topology topology = new Topology();
        // never starts a partition over from its earliest record: see SourceOffsets
        topology.addSource(AutoOffsetReset.none(), "submissions", Serdes.ByteArray().deserializer(), Serdes.ByteArray().deserializer(),
                topics.tasks());
        topology.addProcessor("route", () -> new RoutingProcessor(directory, limits), "submissions");
        topology.addSink(RoutingProcessor.ROUTED, queueTopic, Serdes.ByteArray().serializer(),
                Serdes.ByteArray().serializer(), "route");
        topology.addSink(RoutingProcessor.REJECTED, topics.rejected(), Serdes.ByteArray().serializer(),
                Serdes.ByteArray().serializer(), "route");
        return topology;
    }
}
