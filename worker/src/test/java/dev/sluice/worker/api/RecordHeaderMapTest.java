package dev.sluice.worker.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

class RecordHeaderMapTest {

    private static RecordHeaders headers(String... namesAndValues) {
        RecordHeaders headers = new RecordHeaders();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            String value = namesAndValues[i + 1];
            headers.add(namesAndValues[i], value == null ? null : value.getBytes(StandardCharsets.UTF_8));
        }
        return headers;
    }

    @Test
    void readsAsTheMapOfItsHeadersAsText() {
        RecordHeaderMap map = new RecordHeaderMap(headers("sluice-id", "t-1", "sluice-queue", "batch_ä", "empty", null));
        Map<String, String> expected = Map.of("sluice-id", "t-1", "sluice-queue", "batch_ä", "empty", "");

        assertThat(map.get("sluice-id")).isEqualTo("t-1");
        assertThat(map.get("sluice-queue")).isEqualTo("batch_ä");
        assertThat(map.get("empty")).isEmpty();
        assertThat(map.get("missing")).isNull();
        assertThat(map.containsKey("empty")).isTrue();
        assertThat(map.containsKey("missing")).isFalse();
        assertThat(map).isEqualTo(expected);
        assertThat(map.hashCode()).isEqualTo(expected.hashCode());
        assertThat(map.keySet()).containsExactly("sluice-id", "sluice-queue", "empty");
    }

    @Test
    void theLastHeaderOfARepeatedNameWins() {
        RecordHeaderMap map = new RecordHeaderMap(headers("a", "1", "b", "2", "a", "3"));

        assertThat(map.get("a")).isEqualTo("3");
        assertThat(map).hasSize(2).containsEntry("a", "3").containsEntry("b", "2");
    }

    @Test
    void isImmutableAndKeptAsItIsByTask() {
        RecordHeaders source = headers("a", "1");
        RecordHeaderMap map = new RecordHeaderMap(source);
        source.add("b", "2".getBytes(StandardCharsets.UTF_8)); // the record's headers change later

        assertThat(map).containsOnlyKeys("a");
        assertThatThrownBy(() -> map.put("b", "2")).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> map.entrySet().clear()).isInstanceOf(UnsupportedOperationException.class);
        Task task = new Task("t", "q", 0, new byte[0], map, Instant.EPOCH);
        assertThat(task.headers()).isSameAs(map);
        assertThat(new Task("t", "q", 0, new byte[0], new HashMap<>(Map.of("a", "1")), Instant.EPOCH).headers())
                .isEqualTo(map);
    }
}
