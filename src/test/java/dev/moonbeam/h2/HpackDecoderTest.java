package dev.moonbeam.h2;

import static dev.moonbeam.h2.HpackRecorder.ascii;
import static dev.moonbeam.h2.HpackRecorder.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.moonbeam.h2.HpackRecorder.Field;
import dev.moonbeam.loop.Allocations;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Decoder errors and limits: every invalid block is a status, never an exception. */
class HpackDecoderTest {
    private static final int LIST_LIMIT = 16 * 1024;

    static Stream<Arguments> compressionErrors() {
        return Stream.of(
                Arguments.of("index 0 (§6.1)", "80", "index 0"),
                Arguments.of("index past the static table, empty dynamic", "be", "index past the end of the tables"),
                Arguments.of("name index past the tables", "7f00", "index past the end of the tables"),
                Arguments.of("never-indexed name index past the tables", "1f3000", "index past the end of the tables"),
                Arguments.of("size update above the advertised 4096", "3fe21f", "table size update above SETTINGS_HEADER_TABLE_SIZE"),
                Arguments.of("size update after a field (§4.2)", "8220", "table size update after a field"),
                Arguments.of("size update after a literal", "0001610162" + "3f00", "table size update after a field"),
                Arguments.of("index that overflows an int", "ffffffffff0f", "integer too large"),
                Arguments.of("string length that overflows an int", "407fffffffff0f", "integer too large"),
                Arguments.of("size update that overflows an int", "3fffffffff0f", "integer too large"),
                Arguments.of("endless zero continuation", "ff8080808080808000", "integer too large"),
                Arguments.of("string longer than the block", "400a6375", "header block ends inside a field"),
                Arguments.of("literal without its name", "00", "header block ends inside a field"),
                Arguments.of("literal without its value", "0001ff", "header block ends inside a field"),
                Arguments.of("index cut inside its integer", "ff", "header block ends inside a field"),
                Arguments.of("Huffman name with EOS", "4084ffffffff0161", "EOS in a Huffman string"),
                Arguments.of("Huffman value padded with zeros", "41" + "8118", "Huffman padding not a prefix of EOS"),
                Arguments.of("Huffman value padded with 8 ones", "41" + "82" + "1fff", "Huffman padding longer than 7 bits"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("compressionErrors")
    void rejectsWithCompressionErrorAndStaysBroken(String title, String block, String reason) {
        HpackDecoder decoder = new HpackDecoder(4096, LIST_LIMIT);
        assertThat(decoder.decode(ByteBuffer.wrap(hex(block)), new HpackRecorder()))
                .isEqualTo(HpackStatus.COMPRESSION_ERROR);
        assertThat(decoder.lastError()).isEqualTo(reason);
        // The table may be out of sync now (RFC 9113 §4.3): the connection must close.
        assertThat(decoder.decode(ByteBuffer.wrap(hex("82")), new HpackRecorder()))
                .isEqualTo(HpackStatus.COMPRESSION_ERROR);
    }

    static Stream<Arguments> sizeUpdates() {
        return Stream.of(
                Arguments.of("to the advertised maximum", "3fe11f82", 4096),
                Arguments.of("to zero", "2082", 0),
                Arguments.of("lowered then raised (§4.2: at most two)", "203fe11f82", 4096),
                Arguments.of("three in a row", "203fe11f2082", 0));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sizeUpdates")
    void acceptsSizeUpdatesAtTheStartOfABlock(String title, String block, int maxSize) {
        HpackDecoder decoder = new HpackDecoder(4096, LIST_LIMIT);
        HpackRecorder sink = new HpackRecorder();
        assertThat(decoder.decode(ByteBuffer.wrap(hex(block)), sink)).isEqualTo(HpackStatus.OK);
        assertThat(decoder.tableMaxSize()).isEqualTo(maxSize);
        assertThat(sink.fields).containsExactly(Field.of(":method", "GET"));
    }

    @Test
    void sizeUpdateEvictsAndLaterLiteralsIndexUnderTheNewSize() {
        HpackDecoder decoder = new HpackDecoder(4096, LIST_LIMIT);
        decode(decoder, "400a637573746f6d2d6b65790d637573746f6d2d686561646572"); // 55 bytes
        assertThat(decoder.tableLength()).isEqualTo(1);
        // Shrink to 54: the entry no longer fits.
        assertThat(decoder.decode(ByteBuffer.wrap(hex("3f1782")), new HpackRecorder())).isEqualTo(HpackStatus.OK);
        assertThat(decoder.tableLength()).isZero();
        assertThat(decoder.decode(ByteBuffer.wrap(hex("be")), new HpackRecorder()))
                .isEqualTo(HpackStatus.COMPRESSION_ERROR);
    }

    @Test
    void listOverTheLimitStopsDeliveringButKeepsTheTableInSync() {
        // The custom-key literals count 10 + 13 + 32 = 55 and 56: both do not fit in 100.
        HpackDecoder decoder = new HpackDecoder(4096, 100);
        String first = "400a637573746f6d2d6b65790d637573746f6d2d686561646572";
        String second = "400a637573746f6d2d6b65790e637573746f6d2d6865616465723f"; // value "custom-header?"
        HpackRecorder sink = new HpackRecorder();
        ByteBuffer block = ByteBuffer.wrap(hex(first + second + "82"));
        assertThat(decoder.decode(block, sink)).isEqualTo(HpackStatus.HEADER_LIST_TOO_LARGE);
        assertThat(decoder.lastError()).isEqualTo("header list larger than the limit");
        assertThat(block.hasRemaining()).isFalse();
        assertThat(sink.fields).containsExactly(Field.of("custom-key", "custom-header"));
        assertThat(HpackRecorder.table(decoder))
                .containsExactly("custom-key: custom-header?", "custom-key: custom-header");

        // The next block refers to the entry the rejected field added: still in sync.
        HpackRecorder next = new HpackRecorder();
        assertThat(decoder.decode(ByteBuffer.wrap(hex("be")), next)).isEqualTo(HpackStatus.OK);
        assertThat(next.fields).containsExactly(Field.of("custom-key", "custom-header?"));
        assertThat(decoder.lastError()).isNull();
    }

    static Stream<Arguments> listSizes() {
        // :method GET = 42, :scheme http = 43, :path / = 38: 123 in all (RFC 9113 §6.5.2).
        return Stream.of(
                Arguments.of(123, HpackStatus.OK, 3),
                Arguments.of(122, HpackStatus.HEADER_LIST_TOO_LARGE, 2),
                Arguments.of(85, HpackStatus.HEADER_LIST_TOO_LARGE, 2),
                Arguments.of(84, HpackStatus.HEADER_LIST_TOO_LARGE, 1),
                Arguments.of(0, HpackStatus.HEADER_LIST_TOO_LARGE, 0));
    }

    @ParameterizedTest(name = "limit {0}")
    @MethodSource("listSizes")
    void listSizeCountsNameValueAnd32(int limit, HpackStatus status, int delivered) {
        HpackDecoder decoder = new HpackDecoder(4096, limit);
        HpackRecorder sink = new HpackRecorder();
        assertThat(decoder.decode(ByteBuffer.wrap(hex("828684")), sink)).isEqualTo(status);
        assertThat(sink.fields).hasSize(delivered);
    }

    static Stream<Arguments> bombs() {
        return Stream.of(
                Arguments.of("raw value, not indexed", false, false),
                Arguments.of("raw value, incremental indexing", true, false),
                Arguments.of("Huffman value, not indexed", false, true),
                Arguments.of("Huffman value, incremental indexing", true, true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bombs")
    void hugeLiteralIsSkippedWithoutCopyingAndTheTableStaysInSync(String title, boolean indexed, boolean huffman) {
        HpackDecoder decoder = new HpackDecoder(4096, 8192);
        decode(decoder, "400a637573746f6d2d6b65790d637573746f6d2d686561646572"); // one entry
        byte[] value = new byte[1 << 20];
        Arrays.fill(value, (byte) 'a');
        ByteBuffer block = ByteBuffer.allocate(value.length + 64);
        block.put((byte) 0x82);
        block.put((byte) (indexed ? 0x40 : 0x00));
        HpackInteger.encode(block, 0, 7, 1);
        block.put((byte) 'x');
        if (huffman) {
            HpackInteger.encode(block, 0x80, 7, Huffman.encodedLength(value, 0, value.length));
            Huffman.encode(value, 0, value.length, block);
        } else {
            HpackInteger.encode(block, 0, 7, value.length);
            block.put(value);
        }
        block.put((byte) 0x84);
        block.flip();

        HpackRecorder sink = new HpackRecorder();
        HpackStatus status = decodeMeasured(decoder, block, sink);
        assertThat(status).isEqualTo(HpackStatus.HEADER_LIST_TOO_LARGE);
        assertThat(sink.fields).containsExactly(Field.of(":method", "GET"));
        // Indexing an entry larger than the table empties the table (§4.4); otherwise it is untouched.
        assertThat(decoder.tableLength()).isEqualTo(indexed ? 0 : 1);
        assertThat(decoder.decode(ByteBuffer.wrap(hex("be")), new HpackRecorder()))
                .isEqualTo(indexed ? HpackStatus.COMPRESSION_ERROR : HpackStatus.OK);
    }

    @Test
    void huffmanStringThatDecodesPastTheLimitIsCutOff() {
        // 1,000 'a's (5 bits each) code to 625 bytes; the lower bound (166) passes the first check.
        byte[] value = new byte[1000];
        Arrays.fill(value, (byte) 'a');
        ByteBuffer block = ByteBuffer.allocate(700);
        block.put((byte) 0x00).put((byte) 0x01).put((byte) 'x');
        HpackInteger.encode(block, 0x80, 7, Huffman.encodedLength(value, 0, value.length));
        Huffman.encode(value, 0, value.length, block);
        block.put((byte) 0x82).flip();
        HpackDecoder decoder = new HpackDecoder(4096, 500);
        HpackRecorder sink = new HpackRecorder();
        assertThat(decoder.decode(block, sink)).isEqualTo(HpackStatus.HEADER_LIST_TOO_LARGE);
        assertThat(sink.fields).isEmpty();
    }

    @Test
    void truncatingAWarmBlockAnywhereIsACompressionErrorOrAShorterValidBlock() {
        HpackEncoder encoder = new HpackEncoder(4096);
        List<Field> warm = List.of(Field.of(":authority", "www.example.com"), Field.of("x-long", "v".repeat(300)));
        List<Field> fields = List.of(Field.of(":status", "200"), Field.of(":authority", "www.example.com"),
                Field.of("x-long", "v".repeat(300)), Field.of("content-type", "text/html; charset=utf-8"),
                new Field("authorization", "Bearer abc", true), Field.of("x-raw", "\u00ff\u00fe"),
                Field.of("x-new-" + "n".repeat(200), "w".repeat(150)));
        byte[] warmBlock = encode(encoder, warm, null);
        encoder.setPeerMaxTableSize(2048);
        List<Integer> boundaries = new ArrayList<>();
        byte[] block = encode(encoder, fields, boundaries);
        assertThat(boundaries.get(0)).as("starts with a size update").isGreaterThan(0);

        for (boolean direct : new boolean[] {false, true}) {
            for (int cut = 0; cut < block.length; cut++) {
                HpackDecoder decoder = new HpackDecoder(4096, LIST_LIMIT);
                assertThat(decoder.decode(ByteBuffer.wrap(warmBlock), new HpackRecorder())).isEqualTo(HpackStatus.OK);
                HpackRecorder sink = new HpackRecorder();
                ByteBuffer in = direct ? ByteBuffer.allocateDirect(cut) : ByteBuffer.allocate(cut);
                in.put(block, 0, cut).flip();
                HpackStatus status = decoder.decode(in, sink);
                int complete = boundaries.indexOf(cut);
                if (cut == 0 || complete >= 0) {
                    assertThat(status).as("cut %d at a field boundary", cut).isEqualTo(HpackStatus.OK);
                    assertThat(sink.fields).containsExactlyElementsOf(fields.subList(0, Math.max(0, complete)));
                } else {
                    assertThat(status).as("cut %d", cut).isEqualTo(HpackStatus.COMPRESSION_ERROR);
                }
            }
        }
    }

    @Test
    void decodingAWarmBlockAllocatesNothing() {
        assumeTrue(Allocations.supported(), "thread allocation counter not available");
        HpackEncoder encoder = new HpackEncoder(4096);
        List<Field> fields = List.of(Field.of(":method", "GET"), Field.of(":path", "/search?q=moonbeam&page=2"),
                Field.of(":authority", "www.example.com"), Field.of("user-agent", "Mozilla/5.0 (X11; Linux x86_64)"),
                Field.of("accept", "text/html,application/xhtml+xml"), Field.of("cookie", "session=0123456789abcdef0123"),
                Field.of("authorization", "Bearer secret"));
        byte[] first = encode(encoder, fields, null);
        byte[] steady = encode(encoder, fields, null); // every field is now indexed or never indexed
        // A block of literals without indexing (raw and Huffman) exercises the scratch arrays.
        byte[] literals = hex("0004782d616109616263646566676869" // x-aa: abcdefghi, raw
                + "0f2b04782d6262" // user-agent (static 58): x-bb
                + "1004782d63638cf1e3c2e5f23a6ba0ab90f4ff"); // x-cc: www.example.com, Huffman, never indexed;
        HpackDecoder decoder = new HpackDecoder(4096, LIST_LIMIT);
        CountingSink sink = new CountingSink();
        assertThat(decoder.decode(ByteBuffer.wrap(first), sink)).isEqualTo(HpackStatus.OK);
        ByteBuffer steadyIn = ByteBuffer.wrap(steady);
        ByteBuffer literalIn = ByteBuffer.wrap(literals);
        for (int i = 0; i < 1000; i++) {
            decodeBoth(decoder, steadyIn, literalIn, sink);
        }
        long before = Allocations.allocatedBytes();
        for (int i = 0; i < 10_000; i++) {
            decodeBoth(decoder, steadyIn, literalIn, sink);
        }
        long allocated = Allocations.allocatedBytes() - before;
        // 100,000 fields; one small object per field would be megabytes.
        assertThat(allocated).isLessThan(1024);
        assertThat(sink.count).isEqualTo(7 + 11_000 * 10);
    }

    private static void decodeBoth(HpackDecoder decoder, ByteBuffer steady, ByteBuffer literals, CountingSink sink) {
        steady.rewind();
        literals.rewind();
        if (decoder.decode(steady, sink) != HpackStatus.OK || decoder.decode(literals, sink) != HpackStatus.OK) {
            throw new AssertionError(decoder.lastError());
        }
    }

    /** Counts fields and touches every byte, allocating nothing. */
    private static final class CountingSink implements HpackSink {
        int count;
        int checksum;

        @Override
        public void header(byte[] name, int nameOff, int nameLen, byte[] value, int valueOff, int valueLen,
                boolean neverIndexed) {
            count++;
            for (int i = 0; i < nameLen; i++) {
                checksum += name[nameOff + i];
            }
            for (int i = 0; i < valueLen; i++) {
                checksum += value[valueOff + i];
            }
        }
    }

    /** Decodes, asserting (when measurable) that skipping a huge literal allocated little. */
    private static HpackStatus decodeMeasured(HpackDecoder decoder, ByteBuffer block, HpackSink sink) {
        if (!Allocations.supported()) {
            return decoder.decode(block, sink);
        }
        long before = Allocations.allocatedBytes();
        HpackStatus status = decoder.decode(block, sink);
        assertThat(Allocations.allocatedBytes() - before).as("bytes allocated").isLessThan(64 * 1024);
        return status;
    }

    /** Encodes a block with the encoder's policy; records the offset after the prefix and each field. */
    static byte[] encode(HpackEncoder encoder, List<Field> fields, List<Integer> boundaries) {
        ByteBuffer out = ByteBuffer.allocate(8192);
        encoder.beginBlock(out);
        if (boundaries != null) {
            boundaries.add(out.position());
        }
        for (Field field : fields) {
            if (field.name().equals(":status")) {
                encoder.status(Integer.parseInt(field.value()), out);
            } else {
                byte[] name = ascii(field.name());
                byte[] value = ascii(field.value());
                encoder.header(name, 0, name.length, value, 0, value.length, out);
            }
            if (boundaries != null) {
                boundaries.add(out.position());
            }
        }
        return Arrays.copyOf(out.array(), out.position());
    }

    private static void decode(HpackDecoder decoder, String hex) {
        assertThat(decoder.decode(ByteBuffer.wrap(hex(hex)), new HpackRecorder())).isEqualTo(HpackStatus.OK);
    }
}
