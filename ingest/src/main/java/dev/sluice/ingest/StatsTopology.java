package dev.sluice.ingest;

import dev.sluice.core.QueueName;
import dev.sluice.core.TaskEvent;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.AutoOffsetReset;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;

/**
 * The statistics, written as absolute values to a {@link StatsSink}: per queue the total of each event
 * type from {@code sluice.events} (key = queue, summing each event's {@code count}), and the releases,
 * counted from {@code sluice.ready} itself (read committed: one per released record, by its
 * {@code sluice-queue} header), in total and in each 1 s window of their slot (kept 5 minutes).
 *
 * <p>Releases are not counted from the gate's {@code released} events, which it publishes after the
 * transaction that released the tasks: a gate killed between the two lost them for good (297 of 300
 * released, for good, after a kill of {@code sluice up}). A record of {@code sluice.ready} and its count
 * here are one fact. Events and records that are not Sluice's are skipped.
 */
public final class StatsTopology {

    static final Duration WINDOW = Duration.ofSeconds(1);
    static final Duration GRACE = Duration.ofSeconds(5);
    static final Duration RETENTION = Duration.ofMinutes(5);
    /**
     * Marks the key under which a queue's first releases are counted ({@code <queue>|first}): a release of
     * a task's first attempt never sent back through the limit. {@code |} is in no queue name.
     */
    static final String FIRST = "|first";

    private StatsTopology() {
    }

    public static Topology build(Topics topics, StatsSink sink) {
        StreamsBuilder builder = new StreamsBuilder();
        KStream<String, TaskEvent> events = builder
                // never counts a partition again from its earliest record: see SourceOffsets
                .stream(topics.events(), Consumed.with(Serdes.ByteArray(), Serdes.ByteArray())
                        .withOffsetResetPolicy(AutoOffsetReset.none()))
                .flatMap((key, value) -> {
                    try {
                        TaskEvent event = TaskEvent.fromJson(value);
                        QueueName.of(event.queue());
                        return event.type() == TaskEvent.Type.released ? java.util.List.of()
                                : java.util.List.of(KeyValue.pair(event.queue(), event));
                    } catch (IllegalArgumentException | NullPointerException notAnEvent) {
                        return java.util.List.of();
                    }
                });

        events.map((queue, event) -> KeyValue.pair(queue + "|" + event.type().name(), (long) event.count()))
                .groupByKey(Grouped.with(Serdes.String(), Serdes.Long()))
                .reduce(Long::sum, Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("totals")
                        .withKeySerde(Serdes.String()).withValueSerde(Serdes.Long()).withCachingDisabled())
                .toStream()
                .foreach((key, total) -> {
                    int bar = key.lastIndexOf('|');
                    sink.total(QueueName.of(key.substring(0, bar)), TaskEvent.Type.valueOf(key.substring(bar + 1)), total);
                });

        // one record per release: cached, so that the sink sees a queue's figure once per commit
        KStream<String, Long> releases = builder
                .stream(topics.ready(), Consumed.with(Serdes.ByteArray(), Serdes.ByteArray())
                        .withOffsetResetPolicy(AutoOffsetReset.none()))
                .process(ReleasedQueue::new);
        KGroupedStream<String, Long> byQueue = releases.groupByKey(Grouped.with("releases", Serdes.String(), Serdes.Long()));
        byQueue.reduce(Long::sum, Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("released-totals")
                        .withKeySerde(Serdes.String()).withValueSerde(Serdes.Long()).withCachingEnabled())
                .toStream()
                .foreach((key, total) -> {
                    if (key.endsWith(FIRST)) {
                        sink.firstReleases(QueueName.of(key.substring(0, key.length() - FIRST.length())), total);
                    } else {
                        sink.total(QueueName.of(key), TaskEvent.Type.released, total);
                    }
                });
        byQueue.windowedBy(TimeWindows.ofSizeAndGrace(WINDOW, GRACE))
                .reduce(Long::sum, Materialized.<String, Long, WindowStore<Bytes, byte[]>>as("released-per-second")
                        .withKeySerde(Serdes.String()).withValueSerde(Serdes.Long()).withRetention(RETENTION)
                        .withCachingEnabled())
                .toStream()
                .filter((window, count) -> !window.key().endsWith(FIRST))
                .foreach((window, count) -> sink.releasedInSecond(QueueName.of(window.key()),
                        window.window().start(), count));
        return builder.build();
    }

    /** A released record as (its queue, 1) at its own timestamp, its slot; nothing for a record of no queue. */
    private static final class ReleasedQueue implements Processor<byte[], byte[], String, Long> {

        private ProcessorContext<String, Long> context;

        @Override
        public void init(ProcessorContext<String, Long> context) {
            this.context = context;
        }

        @Override
        public void process(Record<byte[], byte[]> record) {
            Header queue = record.headers().lastHeader(TaskHeaders.QUEUE);
            if (queue == null || queue.value() == null) {
                return;
            }
            String name = new String(queue.value(), StandardCharsets.UTF_8);
            try {
                QueueName.of(name);
            } catch (IllegalArgumentException notAQueue) {
                return;
            }
            context.forward(new Record<>(name, 1L, record.timestamp()));
            if (isFirst(record.headers())) {
                context.forward(new Record<>(name + FIRST, 1L, record.timestamp()));
            }
        }

        /** Attempt 0 (or none said) and never sent back through the limit. */
        private static boolean isFirst(org.apache.kafka.common.header.Headers headers) {
            return isZero(headers.lastHeader(TaskHeaders.ATTEMPT)) && isZero(headers.lastHeader(TaskHeaders.REQUEUES));
        }

        private static boolean isZero(Header header) {
            return header == null || header.value() == null
                    || new String(header.value(), StandardCharsets.UTF_8).strip().equals("0");
        }
    }

    static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
