package dev.moonbeam.h2;

import static dev.moonbeam.h2.HpackRecorder.ascii;
import static dev.moonbeam.h2.HpackRecorder.hex;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** RFC 7541 Appendix B code: RFC examples, every byte value, padding rules (§5.2), fuzz vs a bitwise decoder. */
class HuffmanTest {
    private static final int RANDOM_CASES = 2_000;

    /** Every Huffman string of RFC 7541 Appendix C.4 and C.6. */
    static Stream<Arguments> rfcExamples() {
        return Stream.of(
                Arguments.of("www.example.com", "f1e3c2e5f23a6ba0ab90f4ff"),
                Arguments.of("no-cache", "a8eb10649cbf"),
                Arguments.of("custom-key", "25a849e95ba97d7f"),
                Arguments.of("custom-value", "25a849e95bb8e8b4bf"),
                Arguments.of("302", "6402"),
                Arguments.of("307", "640eff"),
                Arguments.of("private", "aec3771a4b"),
                Arguments.of("Mon, 21 Oct 2013 20:13:21 GMT", "d07abe941054d444a8200595040b8166e082a62d1bff"),
                Arguments.of("Mon, 21 Oct 2013 20:13:22 GMT", "d07abe941054d444a8200595040b8166e084a62d1bff"),
                Arguments.of("https://www.example.com", "9d29ad171863c78f0b97c8e9ae82ae43d3"),
                Arguments.of("gzip", "9bd9ab"),
                Arguments.of("foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
                        "94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007"),
                Arguments.of("", ""));
    }

    @ParameterizedTest(name = "\"{0}\"")
    @MethodSource("rfcExamples")
    void encodesAndDecodesTheRfcExamples(String plain, String coded) {
        byte[] src = ascii(plain);
        assertThat(Huffman.encodedLength(src, 0, src.length)).isEqualTo(coded.length() / 2);
        assertThat(encode(src)).isEqualTo(coded);
        assertThat(decode(hex(coded))).isEqualTo(src);
        assertThat(decodeDirect(hex(coded))).isEqualTo(src);
    }

    @Test
    void everyByteValueRoundTripsAloneAndTogether() {
        byte[] all = new byte[256];
        for (int b = 0; b < 256; b++) {
            all[b] = (byte) b;
            byte[] one = {(byte) b};
            assertThat(decode(hex(encode(one)))).as("byte %d", b).isEqualTo(one);
            assertThat(Huffman.encodedLength(one, 0, 1)).isEqualTo((Huffman.LENGTHS[b] + 7) / 8);
        }
        assertThat(decode(hex(encode(all)))).isEqualTo(all);
        assertThat(decodeDirect(hex(encode(all)))).isEqualTo(all);
    }

    @Test
    void theCodeIsCanonicalAndPrefixFree() {
        // Appendix B lists codes aligned to the most significant bit in symbol order within a length.
        for (int s = 0; s < 256; s++) {
            for (int t = s + 1; t <= 256; t++) {
                int ls = Huffman.LENGTHS[s];
                int lt = Huffman.LENGTHS[t];
                int shorter = Math.min(ls, lt);
                assertThat(Huffman.CODES[s] >>> (ls - shorter))
                        .as("%d is not a prefix of %d", s, t).isNotEqualTo(Huffman.CODES[t] >>> (lt - shorter));
            }
        }
        assertThat(Huffman.CODES[256]).isEqualTo(0x3fffffff);
        assertThat(Huffman.LENGTHS[256]).isEqualTo((byte) 30);
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                // 'a' is 00011; padding 000 is not a prefix of EOS.
                Arguments.of("padding of zeros", "18", Huffman.PADDING_NOT_EOS_PREFIX),
                // 'a' then a whole byte of ones: 11 bits of padding.
                Arguments.of("padding of 11 bits", "1fff", Huffman.PADDING_TOO_LONG),
                Arguments.of("a whole byte of padding", "ff", Huffman.PADDING_TOO_LONG),
                // Thirty ones are EOS itself (§5.2: MUST be treated as a decoding error).
                Arguments.of("EOS", "fffffffc", Huffman.EOS_IN_STRING),
                Arguments.of("EOS after a symbol", "1fffffffff", Huffman.EOS_IN_STRING),
                // '0' is 00000, then 110: an incomplete code that is not all ones.
                Arguments.of("incomplete code with a zero", "06", Huffman.PADDING_NOT_EOS_PREFIX));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void rejectsBadPaddingAndEos(String name, String coded, int status) {
        byte[] src = hex(coded);
        byte[] dst = new byte[64];
        assertThat(Huffman.decode(src, 0, src.length, dst, 0, dst.length)).isEqualTo(status);
        ByteBuffer direct = ByteBuffer.allocateDirect(src.length).put(src).flip();
        assertThat(Huffman.decode(direct, 0, src.length, dst, 0, dst.length)).isEqualTo(status);
        assertThat(BitwiseDecoder.decode(src)).isEqualTo(status);
    }

    @Test
    void stopsAtTheOutputLimit() {
        byte[] coded = hex("f1e3c2e5f23a6ba0ab90f4ff"); // www.example.com, 15 bytes
        byte[] dst = new byte[15];
        assertThat(Huffman.decode(coded, 0, coded.length, dst, 0, 14)).isEqualTo(Huffman.OUTPUT_TOO_LONG);
        assertThat(Huffman.decode(coded, 0, coded.length, dst, 0, 15)).isEqualTo(15);
    }

    @Test
    void randomStringsRoundTripAndRandomBytesDecodeLikeABitwiseDecoder() {
        Random random = new Random(7541);
        byte[] dst = new byte[256];
        for (int i = 0; i < RANDOM_CASES; i++) {
            byte[] plain = new byte[random.nextInt(40)];
            random.nextBytes(plain);
            assertThat(decode(hex(encode(plain)))).isEqualTo(plain);

            byte[] noise = new byte[random.nextInt(12)];
            random.nextBytes(noise);
            int status = Huffman.decode(noise, 0, noise.length, dst, 0, dst.length);
            int expected = BitwiseDecoder.decode(noise);
            assertThat(status).as("noise %s", Arrays.toString(noise)).isEqualTo(expected);
            if (status >= 0) {
                assertThat(Arrays.copyOf(dst, status)).isEqualTo(BitwiseDecoder.lastOutput);
            }
        }
    }

    private static String encode(byte[] src) {
        ByteBuffer out = ByteBuffer.allocate(Huffman.encodedLength(src, 0, src.length));
        int written = Huffman.encode(src, 0, src.length, out);
        assertThat(written).isEqualTo(out.capacity());
        return hex(out.flip());
    }

    private static byte[] decode(byte[] coded) {
        byte[] dst = new byte[Huffman.maxDecodedLength(coded.length) + 3];
        int n = Huffman.decode(coded, 0, coded.length, dst, 3, dst.length - 3);
        assertThat(n).isGreaterThanOrEqualTo(0);
        return Arrays.copyOfRange(dst, 3, 3 + n);
    }

    private static byte[] decodeDirect(byte[] coded) {
        ByteBuffer direct = ByteBuffer.allocateDirect(coded.length + 2);
        direct.position(2);
        direct.put(coded);
        byte[] dst = new byte[Huffman.maxDecodedLength(coded.length)];
        int n = Huffman.decode(direct, 2, coded.length, dst, 0, dst.length);
        assertThat(n).isGreaterThanOrEqualTo(0);
        return Arrays.copyOf(dst, n);
    }

    /** Reference: matches codes bit by bit against the code table, like the RFC describes it. */
    private static final class BitwiseDecoder {
        static byte[] lastOutput;

        static int decode(byte[] src) {
            ByteBuffer out = ByteBuffer.allocate(src.length * 2);
            long code = 0;
            int bits = 0;
            for (byte b : src) {
                for (int i = 7; i >= 0; i--) {
                    code = code << 1 | ((b >>> i) & 1);
                    bits++;
                    int symbol = lookup(code, bits);
                    if (symbol == 256) {
                        return Huffman.EOS_IN_STRING;
                    }
                    if (symbol >= 0) {
                        out.put((byte) symbol);
                        code = 0;
                        bits = 0;
                    }
                }
            }
            if (bits > 0) {
                boolean ones = code == (1L << bits) - 1;
                if (!ones) {
                    return Huffman.PADDING_NOT_EOS_PREFIX;
                }
                if (bits > 7) {
                    return Huffman.PADDING_TOO_LONG;
                }
            }
            lastOutput = Arrays.copyOf(out.array(), out.position());
            return out.position();
        }

        private static int lookup(long code, int bits) {
            for (int s = 0; s <= 256; s++) {
                if (Huffman.LENGTHS[s] == bits && Huffman.CODES[s] == code) {
                    return s;
                }
            }
            return -1;
        }
    }
}
