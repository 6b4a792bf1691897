package dev.sluice.gate;

import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;

/** Hands fetched records to their partition's lane. */
final class ConsumerRecordsSink {

    private ConsumerRecordsSink() {
    }

    static void drain(ConsumerRecords<byte[], byte[]> records, Map<TopicPartition, Lane> lanes) {
        for (TopicPartition partition : records.partitions()) {
            Lane lane = lanes.get(partition);
            if (lane == null) {
                continue; // revoked between fetch and now: the next owner fetches them again
            }
            for (ConsumerRecord<byte[], byte[]> record : records.records(partition)) {
                lane.add(record);
            }
        }
    }
}
