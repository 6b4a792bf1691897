package dev.sluice.ingest;

import dev.sluice.core.QueueName;
import dev.sluice.core.RecordLimits;
import dev.sluice.core.TaskHeaders;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Decides each submission's fate: routed to its queue (re-keyed by task id, headers completed) or
 * rejected with the reason in {@value #REJECT_REASON} and its bytes untouched. Inactive queues are
 * routed: their tasks wait in Kafka.
 */
final class RoutingProcessor implements Processor<byte[], byte[], byte[], byte[]> {

    static final String REJECT_REASON = TaskHeaders.REJECT_REASON;
    static final String ROUTED = "routed";
    static final String REJECTED = "rejected";

    private final QueueDirectory directory;
    private final RecordLimits limits;
    private ProcessorContext<byte[], byte[]> context;

    RoutingProcessor(QueueDirectory directory, RecordLimits limits) {
        this.directory = directory;
        this.limits = limits;
    }

    @Override
    public void init(ProcessorContext<byte[], byte[]> context) {
        this.context = context;
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
        String reason = rejection(record);
        if (reason != null) {
            Headers headers = new RecordHeaders(record.headers().toArray());
            headers.add(REJECT_REASON, reason.getBytes(StandardCharsets.UTF_8));
            context.forward(record.withHeaders(headers), REJECTED);
            return;
        }
        String queue = new String(record.key(), StandardCharsets.UTF_8);
        Headers headers = new RecordHeaders(record.headers().toArray());
        String id = text(headers.lastHeader(TaskHeaders.ID));
        if (id == null) {
            id = UUID.randomUUID().toString();
            headers.add(TaskHeaders.ID, utf8(id));
        }
        if (headers.lastHeader(TaskHeaders.QUEUE) == null) {
            headers.add(TaskHeaders.QUEUE, utf8(queue));
        }
        if (headers.lastHeader(TaskHeaders.SUBMITTED_AT) == null) {
            headers.add(TaskHeaders.SUBMITTED_AT, utf8(Long.toString(record.timestamp())));
        }
        if (headers.lastHeader(TaskHeaders.ATTEMPT) == null) {
            headers.add(TaskHeaders.ATTEMPT, utf8("0"));
        }
        context.forward(record.withKey(utf8(id)).withHeaders(headers), ROUTED);
    }

    /** Why the record cannot be routed, or null when it can. */
    private String rejection(Record<byte[], byte[]> record) {
        if (record.key() == null || record.key().length == 0) {
            return "missing key: the key must be the queue name";
        }
        String text = new String(record.key(), StandardCharsets.UTF_8);
        QueueName queue;
        try {
            queue = QueueName.of(text);
        } catch (IllegalArgumentException e) {
            return "invalid key: " + e.getMessage();
        }
        String overLimit = limits.violation(record.value(), record.headers());
        if (overLimit != null) {
            return overLimit;
        }
        String malformed = malformedHeaders(record.headers(), queue);
        if (malformed != null) {
            return malformed;
        }
        if (directory.stateOf(queue).isEmpty()) {
            return "unknown queue \"" + queue + "\": create it first";
        }
        return null;
    }

    private static String malformedHeaders(Headers headers, QueueName queue) {
        Header id = headers.lastHeader(TaskHeaders.ID);
        if (id != null) {
            String value = text(id);
            if (value == null || value.isBlank() || value.length() > 200) {
                return "malformed " + TaskHeaders.ID + " header: must be 1 to 200 characters";
            }
        }
        Header named = headers.lastHeader(TaskHeaders.QUEUE);
        if (named != null && !queue.value().equals(text(named))) {
            return "malformed " + TaskHeaders.QUEUE + " header: \"" + text(named) + "\" is not the key \""
                    + queue + "\"";
        }
        for (String numeric : new String[] {TaskHeaders.ATTEMPT, TaskHeaders.SUBMITTED_AT}) {
            Header header = headers.lastHeader(numeric);
            if (header != null) {
                try {
                    if (Long.parseLong(String.valueOf(text(header)).strip()) < 0) {
                        return "malformed " + numeric + " header: must not be negative";
                    }
                } catch (NumberFormatException e) {
                    return "malformed " + numeric + " header: \"" + text(header) + "\" is not a whole number";
                }
            }
        }
        return null;
    }

    private static String text(Header header) {
        return header == null || header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
