package dev.sluice.worker;

import java.util.Arrays;
import java.util.Optional;

/**
 * The tasks of a partition finished beyond its committed offset, as the commit's metadata carries them,
 * so that the partition's next owner (after a crash, a rebalance, a restart) skips them instead of
 * running them again. Only the tasks that were not finished then run twice.
 *
 * <p>The committed offset {@code P} is the first unfinished task; the metadata says that every offset
 * in {@code [P, P + span)} is finished except the listed ones. Offsets in that range that held no task
 * (transaction markers, aborted records) count as finished: they are never delivered anyway. The text
 * is {@code sluice1;<span>;<d1>,<d2>,...}: the unfinished offsets as gaps, the first from {@code P}, each
 * next one from the one before. Kafka keeps up to {@code offset.metadata.max.bytes} (4096 by default)
 * of it; an encoding longer than {@link #MAX_CHARS} is cut to the finished tasks that fit, and the ones
 * cut off run again. Immutable.
 */
final class FinishedOffsets {

    static final String PREFIX = "sluice1;";
    /** Well under the broker's default {@code offset.metadata.max.bytes} of 4096. */
    static final int MAX_CHARS = 3_000;
    static final FinishedOffsets NONE = new FinishedOffsets(0, 0, new long[0]);

    private final long position;
    private final long end;
    /** Sorted. */
    private final long[] unfinished;

    private FinishedOffsets(long position, long end, long[] unfinished) {
        this.position = position;
        this.end = end;
        this.unfinished = unfinished;
    }

    /**
     * The metadata for a commit at {@code position}, the first unfinished task.
     *
     * @param unfinished the offsets from {@code position} on not finished, in increasing order, the
     *     first of them {@code position}
     * @param end one past the last finished offset; {@code <= position} when none finished beyond it
     * @return the text, empty when nothing finished beyond {@code position}
     */
    static String encode(long position, long[] unfinished, int count, long end) {
        if (end <= position) {
            return "";
        }
        StringBuilder text = new StringBuilder(PREFIX);
        int spanAt = text.length();
        text.append(end - position).append(';');
        long previous = position;
        for (int i = 0; i < count && unfinished[i] < end; i++) {
            int before = text.length();
            if (i > 0 && unfinished[i - 1] >= unfinished[i]) {
                throw new IllegalArgumentException("unfinished offsets out of order at " + unfinished[i]);
            }
            if (i > 0 || unfinished[i] != position) { // the first is the position itself: implied
                text.append(unfinished[i] - previous).append(',');
            }
            previous = unfinished[i];
            if (text.length() > MAX_CHARS) {
                // cut here: the finished tasks before this unfinished one are kept, the rest run again
                text.setLength(before);
                text.replace(spanAt, text.indexOf(";", spanAt), Long.toString(unfinished[i] - position));
                break;
            }
        }
        if (text.charAt(text.length() - 1) == ',') {
            text.setLength(text.length() - 1);
        }
        return text.toString();
    }

    /**
     * Reads the metadata committed with {@code position}; nothing finished when it is empty, another
     * format or unreadable (then every task from {@code position} on runs: never fewer than needed).
     */
    static FinishedOffsets decode(long position, String metadata) {
        if (metadata == null || !metadata.startsWith(PREFIX)) {
            return NONE;
        }
        try {
            String[] parts = metadata.substring(PREFIX.length()).split(";", -1);
            long span = Long.parseLong(parts[0]);
            long[] unfinished = new long[8];
            int count = 0;
            unfinished[count++] = position;
            long previous = position;
            if (parts.length > 1 && !parts[1].isEmpty()) {
                for (String gap : parts[1].split(",")) {
                    long offset = previous + Long.parseLong(gap);
                    if (offset <= previous) {
                        return NONE;
                    }
                    if (count == unfinished.length) {
                        unfinished = Arrays.copyOf(unfinished, count * 2);
                    }
                    unfinished[count++] = offset;
                    previous = offset;
                }
            }
            return span <= 0 ? NONE : new FinishedOffsets(position, position + span, Arrays.copyOf(unfinished, count));
        } catch (RuntimeException unreadable) {
            return NONE;
        }
    }

    /** Whether the task at {@code offset} was finished by an earlier owner. */
    boolean finished(long offset) {
        return offset >= position && offset < end && Arrays.binarySearch(unfinished, offset) < 0;
    }

    /** One past the last offset this says anything about: later ones are not known finished. */
    long end() {
        return end;
    }

    /** How many tasks this marks finished, at most (offsets without a task included). */
    long count() {
        return Math.max(0, end - position - unfinished.length);
    }

    Optional<FinishedOffsets> nonEmpty() {
        return end > position ? Optional.of(this) : Optional.empty();
    }
}
