package dev.sluice.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class WindowsTest {

    @Test
    void countsEventsInHalfOpenWindows() {
        long[] evenlySpaced = {0, 200, 400, 600, 800, 1000, 1200};

        assertThat(Windows.maxInAnyWindow(evenlySpaced, 1000)).isEqualTo(5);
        assertThat(Windows.maxInAnyWindow(evenlySpaced, 1001)).isEqualTo(6);
    }

    @Test
    void findsTheBusiestWindowWhateverTheOrder() {
        long[] times = {5000, 0, 10, 4990, 20, 4995};

        assertThat(Windows.maxInAnyWindow(times, 100)).isEqualTo(3);
        assertThat(Windows.maxInAnyWindow(new long[0], 100)).isZero();
        assertThat(Windows.maxInAnyWindow(new long[] {7, 7, 7}, 1)).isEqualTo(3);
    }
}
