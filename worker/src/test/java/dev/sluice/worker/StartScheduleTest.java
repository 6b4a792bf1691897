package dev.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.StartGuard;
import dev.sluice.core.TaskHeaders;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class StartScheduleTest {

    private static final TopicPartition ZERO = new TopicPartition("sluice.ready", 0);
    private static final TopicPartition ONE = new TopicPartition("sluice.ready", 1);

    private static ConsumerRecord<byte[], byte[]> record(TopicPartition partition, long offset, String startAt,
                                                         String startBy) {
        ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>(partition.topic(), partition.partition(), offset,
                new byte[0], new byte[0]);
        if (startAt != null) {
            record.headers().add(TaskHeaders.START_AT, startAt.getBytes(StandardCharsets.UTF_8));
        }
        if (startBy != null) {
            record.headers().add(TaskHeaders.START_BY, startBy.getBytes(StandardCharsets.UTF_8));
        }
        return record;
    }

    @Test
    void tasksComeOutEarliestSlotFirstWhateverTheirPartitionAndOffset() {
        StartSchedule schedule = new StartSchedule();
        schedule.offer(ZERO, record(ZERO, 5, "3000", "3500"));
        schedule.offer(ONE, record(ONE, 9, "1000", "1500"));
        schedule.offer(ZERO, record(ZERO, 6, "2000", "2500"));
        schedule.offer(ONE, record(ONE, 10, "2000", "2600"));

        assertThat(List.of(schedule.poll(), schedule.poll(), schedule.poll(), schedule.poll()))
                .extracting(e -> e.record().offset()).containsExactly(9L, 6L, 10L, 5L);
        assertThat(schedule.isEmpty()).isTrue();
    }

    @Test
    void aRecordWithoutASlotIsNotTaken() {
        StartSchedule schedule = new StartSchedule();

        assertThat(schedule.offer(ZERO, record(ZERO, 1, null, null))).isFalse();
        assertThat(schedule.size()).isZero();
    }

    @Test
    void aSlotWeCannotReadIsMissedAndAMissingLatestStartGetsTheLeastTolerance() {
        StartSchedule schedule = new StartSchedule();
        schedule.offer(ZERO, record(ZERO, 1, "12x", "99999"));
        schedule.offer(ZERO, record(ZERO, 2, "5000", null));

        StartSchedule.Entry unreadable = schedule.poll();
        assertThat(unreadable.record().offset()).isEqualTo(1);
        assertThat(unreadable.byMicros()).isZero(); // long past: it goes back through the limit
        assertThat(schedule.poll().byMicros()).isEqualTo(5000 + StartGuard.MIN_TOLERANCE_MICROS);
    }

    @Test
    void forgetsTheTasksOfPartitionsThatLeft() {
        StartSchedule schedule = new StartSchedule();
        schedule.offer(ZERO, record(ZERO, 1, "1000", "1500"));
        schedule.offer(ONE, record(ONE, 1, "2000", "2500"));

        schedule.forget(List.of(ZERO));

        assertThat(schedule.size()).isOne();
        assertThat(schedule.peek().partition()).isEqualTo(ONE);
    }
}
