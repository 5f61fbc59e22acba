package dev.moonbeam.h2;

import static dev.moonbeam.h2.HpackRecorder.ascii;
import static dev.moonbeam.h2.HpackRecorder.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.moonbeam.h2.HpackEncoder.HuffmanUse;
import dev.moonbeam.h2.HpackRecorder.Field;
import dev.moonbeam.loop.Allocations;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Encoder policy: representations, sensitive fields (§7.1.3), Huffman choice, size updates (§4.2). */
class HpackEncoderTest {

    static Stream<Arguments> statuses() {
        return Stream.of(
                Arguments.of(200, "88"), Arguments.of(204, "89"), Arguments.of(206, "8a"),
                Arguments.of(304, "8b"), Arguments.of(400, "8c"), Arguments.of(404, "8d"),
                Arguments.of(500, "8e"),
                // Literal with incremental indexing, name :status (static 8), raw digits.
                Arguments.of(302, "4803333032"), Arguments.of(100, "4803313030"), Arguments.of(999, "4803393939"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("statuses")
    void statusUsesTheStaticTableOrAnIndexedNameLiteral(int code, String expected) {
        HpackEncoder encoder = new HpackEncoder(4096, HuffmanUse.NEVER);
        ByteBuffer out = ByteBuffer.allocate(HpackEncoder.MAX_STATUS_LENGTH);
        encoder.status(code, out);
        assertThat(hex(out.flip())).isEqualTo(expected);
        if (expected.length() > 2) {
            ByteBuffer again = ByteBuffer.allocate(HpackEncoder.MAX_STATUS_LENGTH);
            encoder.status(code, again);
            assertThat(hex(again.flip())).as("now in the dynamic table").isEqualTo("be");
        }
    }

    @Test
    void statusOutsideThreeDigitsIsAProgrammingError() {
        HpackEncoder encoder = new HpackEncoder(4096);
        ByteBuffer out = ByteBuffer.allocate(16);
        assertThatThrownBy(() -> encoder.status(99, out)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> encoder.status(1000, out)).isInstanceOf(IllegalArgumentException.class);
        assertThat(out.position()).isZero();
    }

    static Stream<Arguments> fields() {
        String longCookie = "session=0123456789abcdef";
        return Stream.of(
                // name, value, first encoding, second encoding, entries added
                Arguments.of("authorization", "Bearer x", "1f0808" + hexOf("Bearer x"), "1f0808" + hexOf("Bearer x"), 0),
                Arguments.of("set-cookie", "a=b", "1f2803" + hexOf("a=b"), "1f2803" + hexOf("a=b"), 0),
                Arguments.of("cookie", "a=b", "1f1103" + hexOf("a=b"), "1f1103" + hexOf("a=b"), 0),
                Arguments.of("cookie", longCookie, "6018" + hexOf(longCookie), "be", 1),
                Arguments.of("content-type", "text/html", "5f09" + hexOf("text/html"), "be", 1),
                Arguments.of("accept-encoding", "gzip, deflate", "90", "90", 0),
                Arguments.of(":path", "/", "84", "84", 0),
                Arguments.of("x-new", "1", "4005" + hexOf("x-new") + "0131", "be", 1),
                Arguments.of("x-empty", "", "4007" + hexOf("x-empty") + "00", "be", 1));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("fields")
    void choosesTheRepresentation(String name, String value, String first, String second, int added) {
        HpackEncoder encoder = new HpackEncoder(4096, HuffmanUse.NEVER);
        assertThat(encodeOne(encoder, name, value)).isEqualTo(first);
        assertThat(encodeOne(encoder, name, value)).isEqualTo(second);
        assertThat(encoder.tableLength()).isEqualTo(added);
    }

    @Test
    void prefersTheStaticNameAndFallsBackToADynamicName() {
        HpackEncoder encoder = new HpackEncoder(4096, HuffmanUse.NEVER);
        encodeOne(encoder, "x-a", "1");
        // A dynamic name gives index 62; a static name (content-type, 31) fits the 6-bit prefix.
        assertThat(encodeOne(encoder, "x-a", "2")).isEqualTo("7e0132");
        assertThat(encodeOne(encoder, "content-type", "a")).isEqualTo("5f01" + "61");
    }

    @Test
    void huffmanOnlyWhenStrictlyShorter() {
        HpackEncoder encoder = new HpackEncoder(4096, HuffmanUse.WHEN_SHORTER);
        assertThat(encodeOne(encoder, "x-host", "www.example.com"))
                .isEqualTo("40" + literal("x-host") + "8cf1e3c2e5f23a6ba0ab90f4ff");
        // "x-c" and "307": the Huffman code is as long as the raw string, so they stay raw.
        assertThat(literal("x-c")).isEqualTo("03782d63");
        assertThat(encodeOne(encoder, "x-c", "307")).isEqualTo("40" + "03782d63" + "03333037");
        // Bytes with long codes would grow.
        assertThat(encodeOne(encoder, "x-c", "\u00ff\u00fe")).isEqualTo("7e" + "02fffe");
    }

    @Test
    void aFieldLargerThanTheTableIsNotIndexedAndLeavesTheTableAlone() {
        HpackEncoder encoder = new HpackEncoder(64, HuffmanUse.NEVER);
        ByteBuffer out = ByteBuffer.allocate(16);
        encoder.beginBlock(out); // the size update to 64
        assertThat(hex(out.flip())).isEqualTo("3f21");
        encodeOne(encoder, "a", "1");
        // 1 + 32 + 32 = 65 > 64: sent without indexing (§6.2.2).
        assertThat(encodeOne(encoder, "b", "x".repeat(32))).startsWith("0001" + hexOf("b") + "20");
        assertThat(encoder.tableLength()).isEqualTo(1);
        assertThat(encoder.tableSize()).isEqualTo(34);
    }

    static Stream<Arguments> sizeUpdates() {
        return Stream.of(
                Arguments.of("none when nothing changed", 4096, new int[] {}, ""),
                Arguments.of("a cap below 4096 is announced", 1024, new int[] {}, "3fe107"),
                Arguments.of("peer lowers", 4096, new int[] {256}, "3fe101"),
                Arguments.of("peer lowers to zero", 4096, new int[] {0}, "20"),
                Arguments.of("peer raises past our cap: we say we stay", 4096, new int[] {65536}, "3fe11f"),
                Arguments.of("peer repeats the initial size", 4096, new int[] {4096}, ""),
                Arguments.of("peer raises within our cap", 16384, new int[] {8192}, "3fe13f"),
                Arguments.of("lowered then raised: minimum then final", 4096, new int[] {100, 4096}, "3f453fe11f"),
                Arguments.of("lowered twice then raised", 4096, new int[] {200, 0, 300}, "203f8d02"),
                Arguments.of("changed and changed back", 4096, new int[] {8192, 4096}, ""));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sizeUpdates")
    void emitsSizeUpdatesAtTheNextBlock(String title, int cap, int[] peerSizes, String expected) {
        HpackEncoder encoder = new HpackEncoder(cap);
        for (int size : peerSizes) {
            encoder.setPeerMaxTableSize(size);
        }
        ByteBuffer out = ByteBuffer.allocate(HpackEncoder.MAX_BLOCK_PREFIX_LENGTH);
        encoder.beginBlock(out);
        assertThat(hex(out.flip())).isEqualTo(expected);
        ByteBuffer next = ByteBuffer.allocate(HpackEncoder.MAX_BLOCK_PREFIX_LENGTH);
        encoder.beginBlock(next);
        assertThat(next.position()).as("only once").isZero();
    }

    @Test
    void loweringTheTableEvictsOnBothSides() {
        HpackEncoder encoder = new HpackEncoder(4096);
        HpackDecoder decoder = new HpackDecoder(4096, 65536);
        List<Field> fields = List.of(Field.of("x-a", "1"), Field.of("x-b", "2"), Field.of("x-c", "3"));
        roundTrip(encoder, decoder, fields);
        assertThat(decoder.tableLength()).isEqualTo(3);
        encoder.setPeerMaxTableSize(72); // two 36-byte entries
        roundTrip(encoder, decoder, List.of(Field.of(":method", "GET")));
        assertThat(decoder.tableLength()).isEqualTo(2);
        assertThat(encoder.tableLength()).isEqualTo(2);
        assertThat(HpackRecorder.table(decoder)).containsExactly("x-c: 3", "x-b: 2");
    }

    @Test
    void tooLittleRoomThrowsBeforeWritingOrIndexing() {
        HpackEncoder encoder = new HpackEncoder(4096, HuffmanUse.NEVER);
        byte[] name = ascii("x-name");
        byte[] value = ascii("some value");
        ByteBuffer small = ByteBuffer.allocate(18); // needs 1 + 1 + 6 + 1 + 10 = 19
        small.put((byte) 7);
        assertThatThrownBy(() -> encoder.header(name, 0, name.length, value, 0, value.length, small))
                .isInstanceOf(BufferOverflowException.class);
        assertThat(small.position()).isEqualTo(1);
        assertThat(encoder.tableLength()).isZero();
        ByteBuffer enough = ByteBuffer.allocate(HpackEncoder.maxEncodedLength(name.length, value.length));
        encoder.header(name, 0, name.length, value, 0, value.length, enough);
        assertThat(enough.position()).isEqualTo(19);

        HpackEncoder lowered = new HpackEncoder(4096);
        lowered.setPeerMaxTableSize(0);
        assertThatThrownBy(() -> lowered.beginBlock(ByteBuffer.allocate(0))).isInstanceOf(BufferOverflowException.class);
        ByteBuffer prefix = ByteBuffer.allocate(1);
        lowered.beginBlock(prefix);
        assertThat(hex(prefix.flip())).isEqualTo("20");
    }

    @Test
    void encodingWarmFieldsAllocatesNothing() {
        assumeTrue(Allocations.supported(), "thread allocation counter not available");
        HpackEncoder encoder = new HpackEncoder(4096);
        byte[][] names = {ascii("content-type"), ascii("server"), ascii("set-cookie"), ascii("x-request-id")};
        byte[][] values = {ascii("text/html"), ascii("moonbeam"), ascii("id=1"), ascii("abc")};
        ByteBuffer out = ByteBuffer.allocate(4096);
        int sum = encodeRounds(encoder, names, values, out, 100);
        long before = Allocations.allocatedBytes();
        sum += encodeRounds(encoder, names, values, out, 10_000);
        assertThat(Allocations.allocatedBytes() - before).isLessThan(1024);
        assertThat(sum).isPositive();
    }

    private static int encodeRounds(HpackEncoder encoder, byte[][] names, byte[][] values, ByteBuffer out, int rounds) {
        int sum = 0;
        for (int r = 0; r < rounds; r++) {
            out.clear();
            encoder.beginBlock(out);
            encoder.status(r % 2 == 0 ? 200 : 302, out);
            for (int i = 0; i < names.length; i++) {
                encoder.header(names[i], 0, names[i].length, values[i], 0, values[i].length, out);
            }
            sum += out.position();
        }
        return sum;
    }

    private static void roundTrip(HpackEncoder encoder, HpackDecoder decoder, List<Field> fields) {
        byte[] block = HpackDecoderTest.encode(encoder, fields, null);
        HpackRecorder sink = new HpackRecorder();
        assertThat(decoder.decode(ByteBuffer.wrap(block), sink)).isEqualTo(HpackStatus.OK);
        assertThat(sink.fields).containsExactlyElementsOf(fields);
    }

    private static String encodeOne(HpackEncoder encoder, String name, String value) {
        byte[] n = ascii(name);
        byte[] v = ascii(value);
        ByteBuffer out = ByteBuffer.allocate(HpackEncoder.maxEncodedLength(n.length, v.length));
        encoder.header(n, 0, n.length, v, 0, v.length, out);
        return hex(out.flip());
    }

    private static String hexOf(String ascii) {
        return hex(ByteBuffer.wrap(ascii(ascii)));
    }

    /** A string literal as WHEN_SHORTER writes it (short strings only: one length byte). */
    private static String literal(String ascii) {
        byte[] b = ascii(ascii);
        int coded = Huffman.encodedLength(b, 0, b.length);
        if (coded >= b.length) {
            return String.format("%02x", b.length) + hexOf(ascii);
        }
        ByteBuffer out = ByteBuffer.allocate(coded);
        Huffman.encode(b, 0, b.length, out);
        return String.format("%02x", 0x80 | coded) + hex(out.flip());
    }
}
