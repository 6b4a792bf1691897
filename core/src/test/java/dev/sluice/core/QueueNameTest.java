package dev.sluice.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class QueueNameTest {

    @Test
    void generatesBatchUuid4Names() {
        Set<QueueName> names = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            QueueName name = QueueName.generate();
            assertThat(name.value()).matches("batch_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
            names.add(name);
        }
        assertThat(names).hasSize(1000);
    }

    @ParameterizedTest
    @ValueSource(strings = {"emails", "batch_123", "A-b_C-9", "x"})
    void acceptsLettersDigitsUnderscoreAndDash(String name) {
        assertThat(QueueName.of(name).value()).isEqualTo(name);
    }

    @Test
    void acceptsTwoHundredCharactersAndNoMore() {
        assertThat(QueueName.of("a".repeat(200)).value()).hasSize(200);
        assertThatThrownBy(() -> QueueName.of("a".repeat(201))).hasMessageContaining("at most 200");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "a{b     | '{'",
        "a}b     | '}'",
        "a.b     | '.'",
        "a/b     | '/'",
        "a b     | whitespace",
        "a:b     | ':'",
        "émails  | 'é'",
        "a*      | '*'",
    })
    void refusesCharactersThatWouldBreakATopicOrAHashTag(String name, String culprit) {
        assertThatThrownBy(() -> QueueName.of(name))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("invalid queue name")
                .hasMessageContaining(culprit);
    }

    @Test
    void refusesEmptyAndNull() {
        assertThatThrownBy(() -> QueueName.of("")).hasMessageContaining("empty");
        assertThatThrownBy(() -> QueueName.of(null)).isInstanceOf(NullPointerException.class);
    }
}
