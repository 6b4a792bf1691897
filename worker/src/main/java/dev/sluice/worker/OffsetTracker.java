package dev.sluice.worker;

import java.util.OptionalLong;
import java.util.TreeSet;

/**
 * One partition's offsets between fetch and commit: which tasks were handed out and which finished.
 *
 * <p>Tasks finish in any order, but an offset may be committed only when every task before it has
 * finished, or a crash would lose the unfinished ones. The committable position is therefore the
 * smallest offset still in flight, or, with none in flight, one past the highest offset handed out.
 * Not thread-safe: the worker's loop thread owns it (completions reach it through a queue).
 */
final class OffsetTracker {

    /** Offsets handed to a handler and not finished yet, smallest first. */
    private final TreeSet<Long> inFlight = new TreeSet<>();
    /** One past the highest offset ever handed out; -1 before the first. */
    private long next = -1;
    /** The last position committed (or known committed), -1 before the first commit. */
    private long committed = -1;

    /** A task at {@code offset} was handed to a handler. Offsets arrive in increasing order. */
    void started(long offset) {
        if (offset < next) {
            throw new IllegalArgumentException("offset " + offset + " handed out after " + (next - 1));
        }
        inFlight.add(offset);
        next = offset + 1;
    }

    /** The task at {@code offset} finished (succeeded, or was handed to retry or dead letter). */
    void finished(long offset) {
        if (!inFlight.remove(offset)) {
            throw new IllegalArgumentException("offset " + offset + " was not in flight");
        }
    }

    int inFlight() {
        return inFlight.size();
    }

    /** The position to commit, when it is past the last one committed: every task before it finished. */
    OptionalLong committable() {
        if (next < 0) {
            return OptionalLong.empty();
        }
        long position = inFlight.isEmpty() ? next : inFlight.first();
        return position > committed ? OptionalLong.of(position) : OptionalLong.empty();
    }

    /** The position was committed. */
    void committed(long position) {
        committed = Math.max(committed, position);
    }
}
