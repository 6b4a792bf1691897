package dev.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class FinishedOffsetsTest {

    @Test
    void theFinishedTasksBeyondThePositionSurviveTheTripThroughTheCommitsMetadata() {
        // position 100 unfinished, 101-104 finished, 105 unfinished, 106-109 finished, 110 unfinished
        String text = FinishedOffsets.encode(100, new long[] {100, 105, 110}, 3, 110);
        assertThat(text).isEqualTo("sluice1;10;5");

        FinishedOffsets read = FinishedOffsets.decode(100, text);
        assertThat(LongStream.range(95, 115).filter(read::finished).toArray())
                .containsExactly(101, 102, 103, 104, 106, 107, 108, 109);
        assertThat(read.end()).isEqualTo(110);
    }

    @Test
    void nothingFinishedBeyondThePositionIsAnEmptyText() {
        assertThat(FinishedOffsets.encode(7, new long[] {7, 8}, 2, 7)).isEmpty();
        assertThat(FinishedOffsets.decode(7, "").finished(8)).isFalse();
        assertThat(FinishedOffsets.decode(7, "").nonEmpty()).isEmpty();
    }

    @Test
    void anUnreadableOrForeignTextMarksNothingFinished() {
        for (String text : new String[] {null, "something else", "sluice1;x;1", "sluice1;5;0", "sluice1;5;2,-1",
                "sluice1;-4;"}) {
            FinishedOffsets read = FinishedOffsets.decode(10, text);
            assertThat(LongStream.range(0, 30).filter(read::finished).toArray()).as(text).isEmpty();
        }
    }

    @Test
    void aTextThatWouldBeTooLongIsCutAndTheTasksCutOffRunAgain() {
        // every other offset unfinished over 10,000 offsets: far more than the metadata may hold
        long[] unfinished = LongStream.range(0, 5_000).map(i -> 1_000 + 2 * i).toArray();
        String text = FinishedOffsets.encode(1_000, unfinished, unfinished.length, 11_000);

        assertThat(text.length()).isLessThanOrEqualTo(FinishedOffsets.MAX_CHARS);
        FinishedOffsets read = FinishedOffsets.decode(1_000, text);
        assertThat(read.finished(1_001)).isTrue();
        assertThat(read.finished(1_002)).isFalse();
        assertThat(read.end()).isLessThan(11_000);
        // nothing unfinished is ever marked finished, whatever was cut
        for (long offset : unfinished) {
            assertThat(read.finished(offset)).as("offset %d", offset).isFalse();
        }
        assertThat(read.finished(10_999)).isFalse(); // cut off: runs again
    }
}
