package dev.sluice.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.junit.jupiter.api.Test;

class RejectingProductionExceptionHandlerTest {

    private final RejectingProductionExceptionHandler handler = new RejectingProductionExceptionHandler();
    private final ProducerRecord<byte[], byte[]> task = new ProducerRecord<>("sluice.q.emails", null, 5L,
            "id".getBytes(StandardCharsets.UTF_8), new byte[10]);

    {
        handler.configure(Map.of(RejectingProductionExceptionHandler.REJECTED_TOPIC, "sluice.rejected"));
    }

    @Test
    void aRefusedTaskGoesToTheRejectedTopicWithTheReasonAndTheRouterGoesOn() {
        ProductionExceptionHandler.Response response = handler.handleError(null, task,
                new RecordTooLargeException("too big"));

        assertThat(response.result()).isEqualTo(ProductionExceptionHandler.Result.RESUME);
        assertThat(response.deadLetterQueueRecords()).singleElement().satisfies(rejected -> {
            assertThat(rejected.topic()).isEqualTo("sluice.rejected");
            assertThat(rejected.value()).isNull();
            assertThat(new String(rejected.headers().lastHeader(RoutingProcessor.REJECT_REASON).value(),
                    StandardCharsets.UTF_8)).isEqualTo("Kafka refused it for sluice.q.emails: too big");
        });
    }

    @Test
    void otherErrorsAreRetriedOrFailAsUsual() {
        assertThat(handler.handleError(null, task, new NotLeaderOrFollowerException("moving")).result())
                .isEqualTo(ProductionExceptionHandler.Result.RETRY);
        assertThat(handler.handleError(null, task, new SaslAuthenticationException("no")).result())
                .isEqualTo(ProductionExceptionHandler.Result.FAIL);
    }
}
