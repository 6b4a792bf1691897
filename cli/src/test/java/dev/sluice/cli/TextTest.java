package dev.sluice.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.client.AdminClient;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import static org.assertj.core.api.Assertions.assertThat;


class TextTest {

    private static JsonNode json(String text) throws Exception {
        return AdminClient.JSON.readTree(text);
    }

    @Test
    void tablesAlignColumnsAndRightAlignNumbers() {
        String table = Text.table(List.of("NAME", "WAITING"), List.of(List.of("a", "5"), List.of("longer", "1200")));

        assertThat(table).isEqualTo("""
                NAME    WAITING
                a             5
                longer     1200
                """);
    }

    @Test
    void durationsReadAtAGlance() {
        assertThat(Text.in(Duration.ofMillis(10))).isEqualTo("now");
        assertThat(Text.in(Duration.ofMillis(1500))).isEqualTo("in 1.5s");
        assertThat(Text.in(Duration.ofSeconds(200))).isEqualTo("in 3m 20s");
        assertThat(Text.in(Duration.ofSeconds(7500))).isEqualTo("in 2h 05m");
        assertThat(Text.in(Duration.ofHours(76))).isEqualTo("in 3d 4h");
    }

    @Test
    void drainsSaysEmptyPausedOrWhen() throws Exception {
        assertThat(Text.drains(json("{\"stats\":{\"waiting\":0}}"))).isEqualTo("empty");
        assertThat(Text.drains(json("{\"stats\":{\"waiting\":3}}"))).isEqualTo("paused");
        assertThat(Text.drains(json("{\"stats\":{\"waiting\":3},\"drainSeconds\":7200.0}"))).isEqualTo("in 2h 00m");
        assertThat(Text.drains(json("{\"stats\":{\"waiting\":null}}"))).isEqualTo("-");
    }

    @Test
    void nextTokenIsNowWhileTokensAreLeft() throws Exception {
        Instant now = Instant.parse("2026-11-27T12:00:00Z");
        assertThat(Text.nextToken(json("{\"rateLimitStatus\":{\"tokens\":2}}"), now)).isEqualTo("now");
        assertThat(Text.nextToken(json("{\"rateLimitStatus\":{\"tokens\":0,\"nextTokenAt\":\"2026-11-27T12:59:00Z\"}}"), now))
                .isEqualTo("in 59m 00s");
    }
}
