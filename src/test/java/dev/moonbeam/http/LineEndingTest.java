package dev.moonbeam.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every valid corpus case with its head written with bare LF line endings: strict parsing
 * rejects it (RFC 9112 §2.2 permits, MoonBeam refuses by default), and with
 * {@link Leniency#BARE_LF_LINE_ENDINGS} it parses exactly like the CRLF original, whole and one
 * byte at a time.
 */
class LineEndingTest {

    static Stream<Corpus.Case> cases() {
        return Corpus.valid().stream().filter(c -> headEnd(c.input()) > 0);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void bareLfHeadIsRefusedStrictlyAndEquivalentWhenLenient(Corpus.Case c) {
        byte[] lf = lfHead(c.input());
        Feeder.Outcome strict = Feeder.whole(c.setup(), lf);
        assertThat(strict.facts()).containsEntry("result", "ERROR").containsEntry("error", "BARE_LF");

        HttpLimits lenientLimits = c.setup().limits().withLeniencies(EnumSet.of(Leniency.BARE_LF_LINE_ENDINGS));
        Feeder.Setup lenient = new Feeder.Setup(c.setup().request(), c.setup().requestMethod(), lenientLimits);
        Feeder.Outcome original = Feeder.whole(lenient, c.input());
        Feeder.Outcome whole = Feeder.whole(lenient, lf);
        Feeder.Outcome bytewise = Feeder.run(lenient, lf, IntStream.range(1, lf.length).toArray());
        assertThat(whole.violation()).isEmpty();
        assertThat(bytewise.violation()).isEmpty();
        assertThat(whole.summary()).isEqualTo(original.summary());
        assertThat(bytewise.summary()).isEqualTo(original.summary());
    }

    /** Index just past the first CRLFCRLF, or -1. */
    private static int headEnd(byte[] input) {
        String text = new String(input, StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n\r\n");
        return end < 0 ? -1 : end + 4;
    }

    private static byte[] lfHead(byte[] input) {
        int end = headEnd(input);
        String text = new String(input, StandardCharsets.ISO_8859_1);
        String head = text.substring(0, end).replace("\r\n", "\n");
        return (head + text.substring(end)).getBytes(StandardCharsets.ISO_8859_1);
    }
}
