package dev.sluice.core;

/**
 * How a queue's schedule keeps its limit at the service its tasks call, not only at the gate (ADR 0005).
 *
 * <p>The gate gives every task a start slot on a schedule that runs a guard slower than the limit:
 * each period is stretched by {@code 1/}{@value #GUARD_DIVISOR} of itself, so N consecutive slots
 * span at least {@code P + P/100}. A worker starts a task at its slot and not earlier; a task it cannot
 * start within {@link #toleranceMicros tolerance} of its slot goes back through its queue's limit
 * instead of running late. Starts are then never closer than the tolerance less than the schedule (half
 * an interval, for intervals of 4 ms and more), and what is left of the guard covers the way from the
 * worker to the service: with calls that take equally long to arrive within half the guard, at most N
 * arrive in any window of P.
 *
 * <p>{@code bucket.lua} computes the same figures inside Redis; this class is its mirror for the code
 * that schedules without Redis (the gate's fail-open buckets, the drain forecast), and the tests hold
 * the two to each other.
 */
public final class StartGuard {

    /** Each period of the schedule is longer than the limit's by this fraction of it. */
    public static final long GUARD_DIVISOR = 100;
    /** No tolerance is shorter: a start this late is not sent back (periods under 100 ms hold only within it). */
    public static final long MIN_TOLERANCE_MICROS = 500;
    /**
     * Half an interval bounds the tolerance only down to this: below 4 ms intervals no worker keeps time
     * that finely, and the window of P, not the spacing, is what holds.
     */
    public static final long SPACING_FLOOR_MICROS = 2_000;

    private StartGuard() {
    }

    /** The period the schedule runs at for a limit whose period is {@code periodMicros}. */
    public static long guardedPeriodMicros(long periodMicros) {
        return periodMicros + ceilDiv(periodMicros, GUARD_DIVISOR);
    }

    /**
     * How late after its slot a task of a queue limited to {@code permits} per {@code periodMicros} may
     * still start: half the guard, and at most half the schedule's interval unless that is under
     * {@value #SPACING_FLOOR_MICROS} µs; at least {@value #MIN_TOLERANCE_MICROS} µs.
     */
    public static long toleranceMicros(long permits, long periodMicros) {
        double guarded = guardedPeriodMicros(periodMicros);
        double tolerance = Math.min((guarded - periodMicros) / 2, Math.max(guarded / permits / 2, SPACING_FLOOR_MICROS));
        return (long) Math.floor(Math.max(tolerance, MIN_TOLERANCE_MICROS));
    }

    private static long ceilDiv(long x, long y) {
        return -Math.floorDiv(-x, y);
    }
}
