package dev.sluice.gate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.QueueName;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class MarkerCommitsTest {

    private static Lane lane(String queue) {
        return new Lane(new TopicPartition("sluice.q." + queue, 0), QueueName.of(queue), 10);
    }

    @Test
    void onlyIdlePartitionsWhosePositionPassedTheCommittedOffsetAreCommitted() {
        MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest");
        Lane pastMarker = lane("past");
        Lane holding = lane("holding");
        Lane upToDate = lane("uptodate");
        Lane fresh = lane("fresh");
        Lane unassigned = lane("unassigned");
        consumer.assign(List.of(pastMarker.partition(), holding.partition(), upToDate.partition(), fresh.partition()));
        consumer.seek(pastMarker.partition(), 8);   // records up to 6 released and committed at 7, a marker at 7
        pastMarker.committedUpTo(7);
        consumer.seek(holding.partition(), 5);
        holding.add(new ConsumerRecord<>(holding.partition().topic(), 0, 4, new byte[0], new byte[0]));
        consumer.seek(upToDate.partition(), 3);
        upToDate.committedUpTo(3);
        consumer.seek(fresh.partition(), 0);       // nothing read yet: nothing to commit

        Map<Lane, Long> due = MarkerCommits.due(List.of(pastMarker, holding, upToDate, fresh, unassigned), consumer);

        assertThat(due).containsOnly(Map.entry(pastMarker, 8L));
    }
}
