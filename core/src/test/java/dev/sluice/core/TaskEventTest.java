package dev.sluice.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class TaskEventTest {

    @Test
    void writesAndReadsOneTasksEvent() {
        TaskEvent event = TaskEvent.of(TaskEvent.Type.failed, QueueName.of("q"), "t-1", 2, 1_700_000_000_000L, "boom");

        String json = new String(event.toJson(), StandardCharsets.UTF_8);

        assertThat(json).isEqualTo("{\"type\":\"failed\",\"queue\":\"q\",\"id\":\"t-1\",\"attempt\":2,"
                + "\"at\":1700000000000,\"count\":1,\"detail\":\"boom\"}");
        assertThat(TaskEvent.fromJson(event.toJson())).isEqualTo(event);
    }

    @Test
    void aReleasedEventMayStandForSeveralTasksAndAMissingCountIsOne() {
        TaskEvent many = TaskEvent.released(QueueName.of("q"), 40, 1_000L);
        TaskEvent old = TaskEvent.fromJson("{\"type\":\"released\",\"queue\":\"q\",\"at\":5}"
                .getBytes(StandardCharsets.UTF_8));

        assertThat(TaskEvent.fromJson(many.toJson()).count()).isEqualTo(40);
        assertThat(many.id()).isNull();
        assertThat(old.count()).isEqualTo(1);
    }

    @Test
    void refusesWhatIsNotAnEvent() {
        assertThatThrownBy(() -> TaskEvent.fromJson("{\"type\":\"exploded\",\"queue\":\"q\"}"
                .getBytes(StandardCharsets.UTF_8))).hasMessageContaining("not a Sluice event");
        assertThatThrownBy(() -> TaskEvent.fromJson("nope".getBytes(StandardCharsets.UTF_8)))
                .hasMessageContaining("not a Sluice event: nope");
    }
}
