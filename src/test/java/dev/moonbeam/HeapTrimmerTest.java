package dev.moonbeam;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** When the heap is trimmed: once per crowd that left, never under a steady load or a small one. */
class HeapTrimmerTest {
    private final HeapTrimmer trimmer = new HeapTrimmer(() -> 0);

    @Test
    void aCrowdThatLeavesIsTrimmedOnceAfterTwoQuietChecks() {
        assertThat(trimmer.check(100)).isFalse();
        assertThat(trimmer.check(5000)).isFalse();
        assertThat(trimmer.check(300)).as("first quiet check: it may come back").isFalse();
        assertThat(trimmer.check(300)).as("second quiet check: trim").isTrue();
        assertThat(trimmer.check(300)).as("once per crowd").isFalse();
        assertThat(trimmer.check(250)).isFalse();
        assertThat(trimmer.check(200)).isFalse();
    }

    @Test
    void aSteadyOrSmallLoadNeverPaysForACollection() {
        for (int i = 0; i < 20; i++) {
            assertThat(trimmer.check(4000 + (i % 2) * 500)).isFalse(); // busy: never below a quarter of the peak
        }
        HeapTrimmer small = new HeapTrimmer(() -> 0);
        small.check(HeapTrimmer.MIN_PEAK - 1);
        assertThat(small.check(0)).isFalse();
        assertThat(small.check(0)).as("a peak under MIN_PEAK is not worth a pause").isFalse();
    }

    @Test
    void aDipThatRecoversDoesNotTrim() {
        trimmer.check(8000);
        assertThat(trimmer.check(1000)).isFalse();
        assertThat(trimmer.check(6000)).as("back up: the quiet count starts again").isFalse();
        assertThat(trimmer.check(1000)).isFalse();
        assertThat(trimmer.check(1000)).isTrue();
    }
}
