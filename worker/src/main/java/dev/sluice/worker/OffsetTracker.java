package dev.sluice.worker;

import java.util.OptionalLong;

/**
 * One partition's offsets between fetch and commit: which tasks were handed out and which finished.
 *
 * <p>Tasks finish in any order, but an offset may be committed only when every task before it has
 * finished, or a crash would lose the unfinished ones. The committable position is therefore the
 * smallest offset still in flight, or, with none in flight, one past the highest offset handed out.
 * Not thread-safe: the worker's loop thread owns it (completions reach it through a queue).
 *
 * <p>Offsets are handed out in increasing order, so the ones in flight are kept in that order in a
 * ring: a start appends, a finish marks its entry (found by binary search) and drops the finished
 * entries at the head. No allocation per task, unlike a sorted set of boxed offsets.
 */
final class OffsetTracker {

    /** The offsets handed out and not yet dropped, oldest at {@code head}, {@code size} of them. */
    private long[] offsets = new long[16];
    private boolean[] done = new boolean[16];
    private int head;
    private int size;
    /** Entries marked done but not yet dropped (they sit behind an unfinished one). */
    private int doneBehind;
    /** One past the highest offset ever handed out; -1 before the first. */
    private long next = -1;
    /** The last position committed (or known committed), -1 before the first commit. */
    private long committed = -1;
    /** A task beyond the first unfinished one finished since the last commit: the metadata changed. */
    private boolean finishedAheadChanged;

    /** A task at {@code offset} was handed to a handler. Offsets arrive in increasing order. */
    void started(long offset) {
        if (offset < next) {
            throw new IllegalArgumentException("offset " + offset + " handed out after " + (next - 1));
        }
        if (size == offsets.length) {
            grow();
        }
        int slot = (head + size) & (offsets.length - 1);
        offsets[slot] = offset;
        done[slot] = false;
        size++;
        next = offset + 1;
    }

    /** The task at {@code offset} finished (succeeded, or was handed to retry or dead letter). */
    void finished(long offset) {
        int index = indexOf(offset);
        if (index < 0) {
            throw new IllegalArgumentException("offset " + offset + " was not in flight");
        }
        done[slot(index)] = true;
        doneBehind++;
        if (index > 0) {
            finishedAheadChanged = true;
        }
        while (size > 0 && done[head]) {
            head = (head + 1) & (offsets.length - 1);
            size--;
            doneBehind--;
        }
    }

    int inFlight() {
        return size - doneBehind;
    }

    /**
     * The position to commit, when it is past the last one committed (every task before it finished) or
     * when tasks beyond it finished since (the {@link #metadata()} changed).
     */
    OptionalLong committable() {
        if (next < 0) {
            return OptionalLong.empty();
        }
        long position = size == 0 ? next : offsets[head];
        return position > committed || (finishedAheadChanged && doneBehind > 0) ? OptionalLong.of(position)
                : OptionalLong.empty();
    }

    /**
     * The tasks finished beyond the position to commit, as that commit's metadata
     * ({@link FinishedOffsets}): empty when none did.
     */
    String metadata() {
        if (doneBehind == 0 || size == 0) {
            return "";
        }
        long[] unfinished = new long[size - doneBehind];
        int count = 0;
        long lastDone = -1;
        for (int i = 0; i < size; i++) {
            int at = slot(i);
            if (done[at]) {
                lastDone = offsets[at];
            } else {
                unfinished[count++] = offsets[at];
            }
        }
        return FinishedOffsets.encode(offsets[head], unfinished, count, lastDone + 1);
    }

    /**
     * The consumer's position moved to {@code position} past offsets that held no task (the markers of
     * the gate's transactions, aborted records): with nothing in flight, the partition may be committed
     * there, so that its lag reads 0 once everything is done instead of 1 for good.
     */
    void passedTo(long position) {
        if (size == 0 && position > next) {
            next = position;
        }
    }

    /** The position was committed. */
    void committed(long position) {
        committed = Math.max(committed, position);
        finishedAheadChanged = false;
    }

    /**
     * The commit last taken ({@link #committed}) did not happen: the next {@link #committable()} offers
     * the position again, moved or not.
     */
    void commitFailed() {
        committed = -1;
        finishedAheadChanged = true;
    }

    /** The ring index (0 = head) holding {@code offset} and not finished, or -1. */
    private int indexOf(long offset) {
        int low = 0;
        int high = size - 1;
        while (low <= high) {
            int middle = (low + high) >>> 1;
            long value = offsets[slot(middle)];
            if (value < offset) {
                low = middle + 1;
            } else if (value > offset) {
                high = middle - 1;
            } else {
                return done[slot(middle)] ? -1 : middle;
            }
        }
        return -1;
    }

    private int slot(int index) {
        return (head + index) & (offsets.length - 1);
    }

    private void grow() {
        long[] moreOffsets = new long[offsets.length * 2];
        boolean[] moreDone = new boolean[done.length * 2];
        for (int i = 0; i < size; i++) {
            moreOffsets[i] = offsets[slot(i)];
            moreDone[i] = done[slot(i)];
        }
        offsets = moreOffsets;
        done = moreDone;
        head = 0;
    }
}
