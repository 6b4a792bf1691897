package dev.sluice.gate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.QueueName;
import dev.sluice.core.TaskEvent;
import org.junit.jupiter.api.Test;

class ReleaseTallyTest {

    private final QueueName fast = QueueName.of("fast");
    private final QueueName slow = QueueName.of("slow");

    @Test
    void oneEventPerQueueAndSecondWithItsCountAndFirstRelease() {
        ReleaseTally tally = new ReleaseTally();
        tally.add(fast, 10_500);
        tally.add(fast, 10_100);
        tally.add(fast, 11_000);
        tally.add(slow, 10_999);

        assertThat(tally.events()).containsExactlyInAnyOrder(
                TaskEvent.released(fast, 2, 10_100),
                TaskEvent.released(fast, 1, 11_000),
                TaskEvent.released(slow, 1, 10_999));
        assertThat(tally.total()).isEqualTo(4);
    }

    @Test
    void addingAnotherTallySumsTheSameSecondsAndKeepsTheEarliestRelease() {
        ReleaseTally committed = new ReleaseTally();
        committed.add(fast, 20_300);
        ReleaseTally next = new ReleaseTally();
        next.add(fast, 20_200);
        next.add(fast, 21_000);

        committed.addAll(next);

        assertThat(committed.events()).containsExactlyInAnyOrder(
                TaskEvent.released(fast, 2, 20_200),
                TaskEvent.released(fast, 1, 21_000));
        assertThat(new ReleaseTally().isEmpty()).isTrue();
        assertThat(committed.isEmpty()).isFalse();
    }
}
