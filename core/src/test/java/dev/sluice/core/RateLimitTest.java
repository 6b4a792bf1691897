package dev.sluice.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class RateLimitTest {

    @ParameterizedTest
    @CsvSource({
        "10/60s,    10, 60000",
        "1/3600s,    1, 3600000",
        "100/10s,  100, 10000",
        "300/1m,   300, 60000",
        "1/1h,       1, 3600000",
        "500/1s,   500, 1000",
        "5/250ms,    5, 250",
        "1000000/1s, 1000000, 1000",
        "1/720h,     1, 2592000000",
    })
    void parsesTheOriginalFormatAndTheUnits(String text, long permits, long periodMillis) {
        RateLimit limit = RateLimit.parse(text);

        assertThat(limit.permits()).isEqualTo(permits);
        assertThat(limit.period()).isEqualTo(Duration.ofMillis(periodMillis));
    }

    @ParameterizedTest
    @ValueSource(strings = {"10/60s", "1/3600s", "100/10s", "5/250ms", "20000/1s", "7/1500ms"})
    void formatsCanonicalTextBackUnchanged(String text) {
        assertThat(RateLimit.parse(text).format()).isEqualTo(text);
    }

    @ParameterizedTest
    @ValueSource(strings = {"300/1m", "1/1h", "3/7s", "2/1000ms", "9/90m", "4/36h"})
    void formatThenParseGivesTheSameLimit(String text) {
        RateLimit limit = RateLimit.parse(text);

        assertThat(RateLimit.parse(limit.format())).isEqualTo(limit);
    }

    @Test
    void writesMinutesAndHoursInSecondsAsTheOriginalSystemDid() {
        assertThat(RateLimit.parse("300/1m").format()).isEqualTo("300/60s");
        assertThat(RateLimit.parse("1/1h").format()).isEqualTo("1/3600s");
        assertThat(RateLimit.parse("2/1000ms").format()).isEqualTo("2/1s");
    }

    @Test
    void ignoresWhitespaceAroundTheWholeText() {
        assertThat(RateLimit.parse("  5/60s\t")).isEqualTo(RateLimit.parse("5/60s"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "abc            | expected N/P with a unit",
        "0/1s           | at least 1",
        "5/0s           | longer than 0",
        "-1/1s          | at least 1",
        "5/-1s          | longer than 0",
        "5/60x          | unknown unit \"x\"",
        "5/60           | has no unit",
        "5/s            | does not start with a whole number",
        "99999999999/1s | at most 1000000",
        "1000001/1s     | at most 1000000",
        "5 / 60s        | is not a whole number",
        "5/6 0s         | unknown unit",
        "1.5/1s         | is not a whole number",
        "5/60s/2        | expected N/P with a unit",
        "1/721h         | at most 720h",
        "1/99999999999h | at most 720h",
        "5/60S          | unknown unit \"S\"",
    })
    void refusesWithAMessageThatNamesTheProblem(String text, String message) {
        assertThatThrownBy(() -> RateLimit.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("invalid rate limit \"" + text + "\"")
                .hasMessageContaining(message);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "\t\n"})
    void refusesEmptyAndBlankText(String text) {
        assertThatThrownBy(() -> RateLimit.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("empty");
    }

    @Test
    void refusesNull() {
        assertThatThrownBy(() -> RateLimit.parse(null)).hasMessageContaining("empty");
    }

    @Test
    void constructorValidatesLikeParse() {
        assertThatThrownBy(() -> RateLimit.of(0, Duration.ofSeconds(1))).hasMessageContaining("at least 1");
        assertThatThrownBy(() -> RateLimit.of(1, Duration.ZERO)).hasMessageContaining("longer than 0");
        assertThatThrownBy(() -> RateLimit.of(1, Duration.ofNanos(1_500_000)))
                .hasMessageContaining("whole number of milliseconds");
    }

    @Test
    void reportsMicrosecondsAndRatePerSecond() {
        RateLimit limit = RateLimit.parse("3/7s");

        assertThat(limit.periodMicros()).isEqualTo(7_000_000L);
        assertThat(limit.perSecond()).isEqualTo(3 / 7.0, org.assertj.core.api.Assertions.within(1e-12));
    }
}
