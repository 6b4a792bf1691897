package dev.sluice.gate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.QueueName;
import dev.sluice.core.Topics;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/** The Forwarder's fault paths, on Kafka's MockProducer (the broker tests are GateRecoveryIT and GateKafkaOutageIT). */
class ForwarderTest {

    private static final QueueName QUEUE = QueueName.of("emails");
    private static final TopicPartition PARTITION = new TopicPartition("sluice.q.emails", 0);

    /** A producer whose commits time out a number of times first, as during a Kafka outage. */
    private static final class OutageProducer extends MockProducer<byte[], byte[]> {
        private int timeoutsLeft;
        private int commits;

        OutageProducer(int timeouts) {
            super(true, null, new ByteArraySerializer(), new ByteArraySerializer());
            this.timeoutsLeft = timeouts;
        }

        @Override
        public void commitTransaction() {
            commits++;
            if (timeoutsLeft-- > 0) {
                throw new TimeoutException("Timeout expired after 60000ms while awaiting EndTxn(true)");
            }
            super.commitTransaction();
        }

        @Override
        public void abortTransaction() {
            if (commits > 0 && !transactionCommitted()) {
                // what KafkaProducer does after a commit timed out
                throw new IllegalStateException("Cannot attempt operation `abortTransaction` because the previous"
                        + " call to `commitTransaction` timed out and must be retried");
            }
            super.abortTransaction();
        }
    }

    private static Map<Lane, List<Lane.Grant>> oneGrant() {
        Lane lane = new Lane(PARTITION, QUEUE, 4);
        ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>(PARTITION.topic(), 0, 7, new byte[0], new byte[0]);
        return Map.of(lane, List.of(new Lane.Grant(record, 1_000_000_000L, 5_000)));
    }

    @Test
    void aCommitThatTimesOutIsTriedAgainUntilKafkaAnswersAndNeverAborted() {
        OutageProducer producer = new OutageProducer(3);
        producer.initTransactions();
        Forwarder forwarder = new Forwarder(producer, Topics.defaults(), q -> 3);

        Forwarder.Open open = forwarder.send(oneGrant(), new ConsumerGroupMetadata("sluice-gate"));
        int forwarded = forwarder.commit(open);

        assertThat(forwarded).isEqualTo(1);
        assertThat(producer.commits).isEqualTo(4);
        assertThat(producer.transactionCommitted()).isTrue();
        assertThat(producer.transactionAborted()).isFalse();
        assertThat(producer.history()).hasSize(1);
    }

    @Test
    void aGateStoppingGivesUpAfterTheCommitThatTimedOut() {
        OutageProducer producer = new OutageProducer(Integer.MAX_VALUE);
        producer.initTransactions();
        Forwarder forwarder = new Forwarder(producer, Topics.defaults(), q -> 3);
        Forwarder.Open open = forwarder.send(oneGrant(), new ConsumerGroupMetadata("sluice-gate"));

        forwarder.stopping();

        assertThat(forwarder.commit(open)).isEqualTo(-1);
        assertThat(producer.commits).isEqualTo(1);
    }
}
