package dev.moonbeam.h2;

import static dev.moonbeam.h2.HpackRecorder.hex;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Prefixed integers (RFC 7541 §5.1): Appendix C.1, boundaries, truncation and overflow. */
class HpackIntegerTest {

    static Stream<Arguments> examples() {
        return Stream.of(
                Arguments.of("C.1.1: 10, 5-bit prefix", 5, 10, "0a"),
                Arguments.of("C.1.2: 1337, 5-bit prefix", 5, 1337, "1f9a0a"),
                Arguments.of("C.1.3: 42, 8-bit prefix", 8, 42, "2a"),
                Arguments.of("prefix minus one", 5, 30, "1e"),
                Arguments.of("prefix exactly", 5, 31, "1f00"),
                Arguments.of("7-bit prefix 127", 7, 127, "7f00"),
                Arguments.of("4-bit 15 + 127", 4, 142, "0f7f"),
                Arguments.of("4-bit 15 + 128", 4, 143, "0f8001"),
                Arguments.of("int max, 5-bit", 5, Integer.MAX_VALUE, "1fe0ffffff07"),
                Arguments.of("int max, 7-bit", 7, Integer.MAX_VALUE, "7f80ffffff07"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("examples")
    void encodesAndDecodes(String name, int prefixBits, int value, String bytes) {
        ByteBuffer out = ByteBuffer.allocate(HpackInteger.MAX_LENGTH);
        int written = HpackInteger.encode(out, 0, prefixBits, value);
        assertThat(hex(out.flip())).isEqualTo(bytes);
        assertThat(written).isEqualTo(bytes.length() / 2).isEqualTo(HpackInteger.length(prefixBits, value));

        byte[] in = hex(bytes);
        // Set the bits above the prefix: they belong to the representation, not the integer.
        in[0] |= (byte) (0xff << prefixBits);
        long decoded = HpackInteger.decode(ByteBuffer.wrap(in), 0, in.length, prefixBits);
        assertThat(HpackInteger.value(decoded)).isEqualTo(value);
        assertThat(HpackInteger.consumed(decoded)).isEqualTo(in.length);
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of("empty", "", HpackInteger.TRUNCATED),
                Arguments.of("continuation missing", "1f", HpackInteger.TRUNCATED),
                Arguments.of("continuation bit on the last byte", "1f9a8a", HpackInteger.TRUNCATED),
                Arguments.of("int max + 1", "1fe1ffffff07", HpackInteger.OVERFLOW),
                Arguments.of("a sixth continuation byte", "1f808080808001", HpackInteger.OVERFLOW),
                Arguments.of("large fifth byte", "1f80808080ff01", HpackInteger.OVERFLOW),
                // Zero continuations could go on forever; a sixth continuation byte is refused.
                Arguments.of("zero padded", "1f80808080808000", HpackInteger.OVERFLOW));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void rejects(String name, String bytes, long status) {
        byte[] in = hex(bytes);
        assertThat(HpackInteger.decode(ByteBuffer.wrap(in), 0, in.length, 5)).isEqualTo(status);
    }

    @Test
    void randomValuesRoundTripWithEveryPrefix() {
        Random random = new Random(5_1);
        ByteBuffer out = ByteBuffer.allocate(HpackInteger.MAX_LENGTH);
        for (int i = 0; i < 2_000; i++) {
            int value = random.nextInt(4) == 0 ? random.nextInt(300) : random.nextInt(Integer.MAX_VALUE);
            int prefixBits = 1 + random.nextInt(8);
            out.clear();
            HpackInteger.encode(out, 0, prefixBits, value);
            out.flip();
            long decoded = HpackInteger.decode(out, 0, out.limit(), prefixBits);
            assertThat(HpackInteger.value(decoded)).isEqualTo(value);
            assertThat(HpackInteger.consumed(decoded)).isEqualTo(out.limit());
        }
    }
}
