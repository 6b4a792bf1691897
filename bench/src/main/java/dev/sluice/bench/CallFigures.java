package dev.sluice.bench;

import dev.sluice.core.RateLimit;
import dev.sluice.core.Windows;
import java.util.Arrays;
import java.util.Locale;

/**
 * What the service a queue's tasks call saw of them, against the queue's limit of N per P: the most
 * calls in any window of P, the gaps between consecutive calls against P/N, and the time they took
 * against the time N per P takes for as many.
 *
 * @param arrivalsNanos when each call arrived, sorted
 */
public record CallFigures(RateLimit limit, long[] arrivalsNanos, int distinct) {

    public CallFigures {
        arrivalsNanos = arrivalsNanos.clone();
        Arrays.sort(arrivalsNanos);
    }

    public int calls() {
        return arrivalsNanos.length;
    }

    private long periodNanos() {
        return limit.period().toNanos();
    }

    /** The interval of the limit, P/N, in nanoseconds. */
    public double intervalNanos() {
        return (double) periodNanos() / limit.permits();
    }

    /** The most calls in any half-open window [t, t + P). */
    public int maxInAnyWindow() {
        return Windows.maxInAnyWindow(arrivalsNanos, periodNanos());
    }

    /** As {@link #maxInAnyWindow()}, among the calls from {@code skipNanos} after the first on. */
    public int maxInAnyWindowAfter(long skipNanos) {
        if (arrivalsNanos.length == 0) {
            return 0;
        }
        long from = arrivalsNanos[0] + skipNanos;
        return Windows.maxInAnyWindow(Arrays.stream(arrivalsNanos).filter(t -> t >= from).toArray(), periodNanos());
    }

    /** The gaps between consecutive calls, sorted, in nanoseconds. */
    public long[] gaps() {
        long[] gaps = new long[Math.max(0, arrivalsNanos.length - 1)];
        for (int i = 1; i < arrivalsNanos.length; i++) {
            gaps[i - 1] = arrivalsNanos[i] - arrivalsNanos[i - 1];
        }
        Arrays.sort(gaps);
        return gaps;
    }

    /** The {@code p}th percentile of the gaps (nearest rank), in nanoseconds; 0 without gaps. */
    public long gapPercentile(double p) {
        long[] gaps = gaps();
        if (gaps.length == 0) {
            return 0;
        }
        return gaps[Math.min(gaps.length - 1, Math.max(0, (int) Math.ceil(p / 100.0 * gaps.length) - 1))];
    }

    /** Gaps shorter than half the interval. */
    public int gapsUnderHalfTheInterval() {
        double half = intervalNanos() / 2;
        return (int) Arrays.stream(gaps()).filter(g -> g < half).count();
    }

    /** From the first call to the last. */
    public long spanNanos() {
        return arrivalsNanos.length < 2 ? 0 : arrivalsNanos[arrivalsNanos.length - 1] - arrivalsNanos[0];
    }

    /** The least span the limit allows for as many calls: (calls - 1) x P/N. */
    public double idealSpanNanos() {
        return Math.max(0, arrivalsNanos.length - 1) * intervalNanos();
    }

    /** One line: the figures against the limit. */
    public String summary() {
        double interval = intervalNanos();
        return String.format(Locale.ROOT,
                "%d calls (%d tasks), most in any %s window %d (allowed %d; %d after the first 2 s),"
                        + " gaps p1/p50/p99 %.2f/%.2f/%.2f x P/N (%d under half), span %.2f s / ideal %.2f s = %.3f",
                calls(), distinct, limit.format().substring(limit.format().indexOf('/') + 1), maxInAnyWindow(),
                limit.permits(), maxInAnyWindowAfter(2_000_000_000L), gapPercentile(1) / interval,
                gapPercentile(50) / interval, gapPercentile(99) / interval, gapsUnderHalfTheInterval(),
                spanNanos() / 1e9, idealSpanNanos() / 1e9, spanNanos() / Math.max(1, idealSpanNanos()));
    }
}
