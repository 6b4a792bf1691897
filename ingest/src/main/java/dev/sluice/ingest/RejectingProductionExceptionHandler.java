package dev.sluice.ingest;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A routed task Kafka refuses for what it is (too large for its queue topic, invalid) would stop the
 * router on every retry. Such a task goes to the rejected topic instead, with the reason and its
 * headers (its payload only if that was not the problem), and the router goes on. A queue topic that
 * vanished (the queue was removed) is handled the same way. Other errors are retried or fail as
 * Kafka Streams would.
 */
public final class RejectingProductionExceptionHandler implements ProductionExceptionHandler {

    private static final Logger LOG = LoggerFactory.getLogger(RejectingProductionExceptionHandler.class);
    static final String REJECTED_TOPIC = "sluice.rejected.topic";

    private String rejectedTopic;

    @Override
    public void configure(Map<String, ?> configs) {
        Object topic = configs.get(REJECTED_TOPIC);
        if (topic == null) {
            throw new IllegalArgumentException(REJECTED_TOPIC + " is not configured");
        }
        rejectedTopic = topic.toString();
    }

    @Override
    public Response handleError(ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record, Exception exception) {
        boolean refused = exception instanceof RecordTooLargeException || exception instanceof InvalidRecordException;
        if (!refused && !(exception instanceof UnknownTopicOrPartitionException)) {
            return exception instanceof RetriableException ? Response.retry() : Response.fail();
        }
        ProducerRecord<byte[], byte[]> rejected = new ProducerRecord<>(rejectedTopic, null, record.timestamp(),
                record.key(), exception instanceof RecordTooLargeException ? null : record.value(), record.headers());
        rejected.headers().add(RoutingProcessor.REJECT_REASON, ("Kafka refused it for " + record.topic() + ": "
                + exception.getMessage()).getBytes(StandardCharsets.UTF_8));
        LOG.warn("A task for {} was refused by Kafka and went to {}: {}", record.topic(), rejectedTopic, exception.toString());
        return Response.resume(List.of(rejected));
    }
}
