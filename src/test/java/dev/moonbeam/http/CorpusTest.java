package dev.moonbeam.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The table-driven corpus: every case whole, at every split offset, and one byte at a time. */
class CorpusTest {

    static Stream<Corpus.Case> cases() {
        return Corpus.all().stream();
    }

    @Test
    void corpusIsLargeAndCoversBothDirectionsAndOutcomes() {
        assertThat(Corpus.all()).hasSizeGreaterThanOrEqualTo(150);
        assertThat(Corpus.all()).filteredOn(c -> c.setup().request()).hasSizeGreaterThan(100);
        assertThat(Corpus.all()).filteredOn(c -> !c.setup().request()).hasSizeGreaterThan(40);
        assertThat(Corpus.valid()).hasSizeGreaterThan(80);
        // Every error the parsers can report on input appears in the table at least once.
        for (HttpError error : HttpError.values()) {
            assertThat(Corpus.all()).as(error.name())
                    .anyMatch(c -> c.expectsError() && c.errorName().equals(error.name()));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void wholeInputGivesExpectedOutcome(Corpus.Case c) {
        Feeder.Outcome outcome = Feeder.whole(c.setup(), c.input());
        assertThat(outcome.violation()).isEmpty();
        Map<String, String> facts = outcome.facts();
        if (c.expectsError()) {
            assertThat(facts).containsEntry("result", "ERROR").containsEntry("error", c.errorName());
            int expectedStatus = c.setup().request() ? HttpError.valueOf(c.errorName()).status() : 502;
            assertThat(facts).containsEntry("status", String.valueOf(expectedStatus));
        } else {
            if (!c.expectedFacts().containsKey("result")) {
                assertThat(facts).containsEntry("result", "MESSAGE_COMPLETE");
            }
            assertThat(facts).containsAllEntriesOf(c.expectedFacts());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void everySplitOffsetGivesTheSameOutcome(Corpus.Case c) {
        Feeder.Outcome whole = Feeder.whole(c.setup(), c.input());
        int length = c.input().length;
        int step = length > 2000 ? length / 97 : 1; // huge limit cases: a spread of offsets
        for (int split = 0; split <= length; split += step) {
            Feeder.Outcome parts = Feeder.run(c.setup(), c.input(), new int[] {split});
            assertThat(parts.violation()).as("split at %d", split).isEmpty();
            assertThat(parts.summary()).as("split at %d", split).isEqualTo(whole.summary());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void oneByteAtATimeGivesTheSameOutcome(Corpus.Case c) {
        Feeder.Outcome whole = Feeder.whole(c.setup(), c.input());
        int[] cuts = IntStream.range(1, c.input().length).toArray();
        Feeder.Outcome bytewise = Feeder.run(c.setup(), c.input(), cuts);
        assertThat(bytewise.violation()).isEmpty();
        assertThat(bytewise.summary()).isEqualTo(whole.summary());
    }
}
