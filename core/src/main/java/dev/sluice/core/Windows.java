package dev.sluice.core;

import java.util.Arrays;

/** Checks of a rate limit against what happened: the most events in any window of a given length. */
public final class Windows {

    private Windows() {
    }

    /**
     * The most of {@code times} that fall in any half-open window {@code [t, t + length)}. A limit of N
     * per period P (burst B) holds when this is at most N (N + B - 1) for {@code length = P}.
     *
     * @param times event times in any unit and order; {@code length} in the same unit
     */
    public static int maxInAnyWindow(long[] times, long length) {
        long[] sorted = times.clone();
        Arrays.sort(sorted);
        int max = 0;
        int start = 0;
        for (int end = 0; end < sorted.length; end++) {
            while (sorted[end] - sorted[start] >= length) {
                start++;
            }
            max = Math.max(max, end - start + 1);
        }
        return max;
    }
}
