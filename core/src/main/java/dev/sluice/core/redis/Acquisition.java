package dev.sluice.core.redis;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The answer of one {@link TokenBucket#acquire} call: how many tokens were granted, the time slot of
 * each (when its task may be released), and when the next token will be due.
 *
 * <p>Times are microseconds since the epoch, Redis server time. A slot may lie up to the bucket's
 * horizon after {@link #nowMicros()}: at high rates one call reserves the next few slots and the caller
 * releases each task at its slot.
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
    private final long[] slots;

    private Acquisition(Outcome outcome, long nowMicros, long nextMicros, long[] slots) {
        this.outcome = java.util.Objects.requireNonNull(outcome, "outcome");
        this.nowMicros = nowMicros;
        this.nextMicros = nextMicros;
        this.slots = slots;
    }

    /** An answer as the acquire script gives it (times in microseconds since the epoch). */
    public static Acquisition of(Outcome outcome, long nowMicros, long nextMicros, long... slots) {
        return new Acquisition(outcome, nowMicros, nextMicros, slots.clone());
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
                + (slots.length <= 8 ? ", slots=" + Arrays.toString(slots) : "") + "]";
    }
}
