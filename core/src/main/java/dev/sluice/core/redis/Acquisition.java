package dev.sluice.core.redis;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The answer of one {@link TokenBucket#acquire} call: how many tokens were granted, the time slot of
 * each (when its task may start), how late after its slot a task may still start, and when the next
 * token will be due.
 *
 * <p>Times are microseconds since the epoch, Redis server time. A slot lies at least the caller's lead
 * and at most its lead plus horizon after {@link #nowMicros()}: the gate forwards each task at once,
 * and the worker starts it at its slot.
 */
public final class Acquisition {

    /** Why an acquisition granted what it granted. */
    public enum Outcome {
        /** The queue is active; zero or more tokens were granted. */
        OK,
        /** The queue does not exist; nothing is granted. */
        UNKNOWN_QUEUE,
        /** The queue is inactive; nothing is granted. */
        INACTIVE
    }

    private final Outcome outcome;
    private final long nowMicros;
    private final long nextMicros;
    private final long toleranceMicros;
    private final long[] slots;

    private Acquisition(Outcome outcome, long nowMicros, long nextMicros, long toleranceMicros, long[] slots) {
        this.outcome = java.util.Objects.requireNonNull(outcome, "outcome");
        this.nowMicros = nowMicros;
        this.nextMicros = nextMicros;
        this.toleranceMicros = toleranceMicros;
        this.slots = slots;
    }

    /** An answer as the acquire script gives it (times in microseconds since the epoch). */
    public static Acquisition of(Outcome outcome, long nowMicros, long nextMicros, long toleranceMicros,
                                 long... slots) {
        return new Acquisition(outcome, nowMicros, nextMicros, toleranceMicros, slots.clone());
    }

    public Outcome outcome() {
        return outcome;
    }

    public int granted() {
        return slots.length;
    }

    /** The slot of granted token {@code i} (0-based), in microseconds since the epoch. */
    public long slotMicros(int i) {
        return slots[i];
    }

    public List<Instant> slots() {
        List<Instant> list = new ArrayList<>(slots.length);
        for (long slot : slots) {
            list.add(toInstant(slot));
        }
        return list;
    }

    /** Redis's clock when the call ran. */
    public long nowMicros() {
        return nowMicros;
    }

    /**
     * How late after its slot each granted task may still start (the queue's {@code StartGuard}
     * tolerance); 0 when nothing could be granted.
     */
    public long toleranceMicros() {
        return toleranceMicros;
    }

    /** When a further token can be had; -1 when the queue cannot grant (unknown or inactive). */
    public long nextTokenMicros() {
        return nextMicros;
    }

    /** How long until a further token can be had, measured on Redis's clock; empty when never. */
    public java.util.Optional<Duration> waitForNext() {
        if (nextMicros < 0) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(Duration.of(Math.max(0, nextMicros - nowMicros), ChronoUnit.MICROS));
    }

    static Instant toInstant(long micros) {
        return Instant.EPOCH.plus(micros, ChronoUnit.MICROS);
    }

    @Override
    public String toString() {
        return "Acquisition[" + outcome + ", granted=" + slots.length + ", now=" + nowMicros + ", next=" + nextMicros
                + ", tolerance=" + toleranceMicros
                + (slots.length <= 8 ? ", slots=" + Arrays.toString(slots) : "") + "]";
    }
}
