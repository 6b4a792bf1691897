package dev.sluice.ingest;

import dev.sluice.core.QueueName;
import dev.sluice.core.TaskEvent;
import dev.sluice.core.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;

/**
 * The statistics: from {@code sluice.events} (key = queue), per queue the total of each event type
 * (summing each event's {@code count}) and the releases in each 1 s window (kept 5 minutes), written
 * as absolute values to a {@link StatsSink}. Events that are not Sluice events are skipped.
 */
public final class StatsTopology {

    static final Duration WINDOW = Duration.ofSeconds(1);
    static final Duration GRACE = Duration.ofSeconds(5);
    static final Duration RETENTION = Duration.ofMinutes(5);

    private StatsTopology() {
    }

    public static Topology build(Topics topics, StatsSink sink) {
        StreamsBuilder builder = new StreamsBuilder();
        KStream<String, TaskEvent> events = builder
                .stream(topics.events(), Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
                .flatMap((key, value) -> {
                    try {
                        TaskEvent event = TaskEvent.fromJson(value);
                        QueueName.of(event.queue());
                        return java.util.List.of(KeyValue.pair(event.queue(), event));
                    } catch (IllegalArgumentException | NullPointerException notAnEvent) {
                        return java.util.List.of();
                    }
                });

        events.map((queue, event) -> KeyValue.pair(queue + "|" + event.type().name(), (long) event.count()))
                .groupByKey(Grouped.with(Serdes.String(), Serdes.Long()))
                .reduce(Long::sum, Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("totals")
                        .withKeySerde(Serdes.String()).withValueSerde(Serdes.Long()))
                .toStream()
                .foreach((key, total) -> {
                    int bar = key.lastIndexOf('|');
                    sink.total(QueueName.of(key.substring(0, bar)), TaskEvent.Type.valueOf(key.substring(bar + 1)), total);
                });

        events.filter((queue, event) -> event.type() == TaskEvent.Type.released)
                .mapValues(event -> (long) event.count())
                .groupByKey(Grouped.with(Serdes.String(), Serdes.Long()))
                .windowedBy(TimeWindows.ofSizeAndGrace(WINDOW, GRACE))
                .reduce(Long::sum, Materialized.<String, Long, WindowStore<Bytes, byte[]>>as("released-per-second")
                        .withKeySerde(Serdes.String()).withValueSerde(Serdes.Long()).withRetention(RETENTION))
                .toStream()
                .foreach((window, count) -> sink.releasedInSecond(QueueName.of(window.key()),
                        window.window().start(), count));
        return builder.build();
    }

    static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
