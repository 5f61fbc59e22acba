package dev.moonbeam.h2;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moonbeam.h2.HpackEncoder.HuffmanUse;
import dev.moonbeam.h2.HpackRecorder.Field;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Seeded random properties (a plain loop; jqwik is not in the build): header lists survive
 * encode then decode across blocks that share encoder and decoder state, with table size
 * changes; and no input, random or mutated, makes the decoder throw.
 */
class HpackRoundTripTest {
    private static final int CASES = 2_000;
    private static final long SEED = 0x7541L;
    private static final String[] NAMES = {
        ":status", ":path", ":authority", "content-type", "content-length", "date", "server", "cache-control",
        "set-cookie", "cookie", "authorization", "location", "vary", "etag", "x-request-id", "x-custom",
        "accept-encoding", "", "x-" + "long".repeat(40)};
    private static final String[] VALUES = {
        "", "200", "404", "text/html", "gzip, deflate", "/", "private", "max-age=3600", "www.example.com",
        "Mon, 21 Oct 2013 20:13:21 GMT", "session=0123456789abcdef0123"};
    private static final int[] TABLE_SIZES = {0, 64, 256, 4096, 16384};

    @Test
    void headerListsRoundTripAcrossBlocksAndTableSizeChanges() {
        Random random = new Random(SEED);
        for (int c = 0; c < CASES; c++) {
            int advertised = TABLE_SIZES[1 + random.nextInt(TABLE_SIZES.length - 1)];
            int cap = TABLE_SIZES[random.nextInt(TABLE_SIZES.length)];
            HuffmanUse huffman = random.nextBoolean() ? HuffmanUse.NEVER : HuffmanUse.WHEN_SHORTER;
            HpackEncoder encoder = new HpackEncoder(cap, huffman);
            HpackDecoder decoder = new HpackDecoder(advertised, 1 << 20);
            encoder.setPeerMaxTableSize(advertised);
            int blocks = 1 + random.nextInt(6);
            for (int b = 0; b < blocks; b++) {
                if (random.nextInt(4) == 0) {
                    encoder.setPeerMaxTableSize(random.nextInt(advertised + 1));
                    if (random.nextBoolean()) {
                        encoder.setPeerMaxTableSize(random.nextInt(advertised + 1));
                    }
                }
                List<Field> fields = randomFields(random);
                ByteBuffer out = ByteBuffer.allocate(bound(fields));
                encode(encoder, fields, out);
                out.flip();
                ByteBuffer in = random.nextBoolean() ? out : ByteBuffer.allocateDirect(out.remaining()).put(out).flip();
                HpackRecorder sink = new HpackRecorder();
                String context = "case " + c + " block " + b;
                assertThat(decoder.decode(in, sink)).as(context + ": " + decoder.lastError()).isEqualTo(HpackStatus.OK);
                assertThat(sink.fields).as(context).containsExactlyElementsOf(fields);
                assertThat(decoder.tableSize()).as(context).isEqualTo(encoder.tableSize());
                assertThat(decoder.tableLength()).as(context).isEqualTo(encoder.tableLength());
                assertThat(decoder.tableMaxSize()).as(context).isEqualTo(encoder.tableMaxSize());
            }
        }
    }

    @Test
    void randomAndMutatedBlocksNeverThrow() {
        Random random = new Random(SEED + 1);
        HpackEncoder encoder = new HpackEncoder(4096);
        int[] outcomes = new int[HpackStatus.values().length];
        for (int c = 0; c < CASES; c++) {
            int listLimit = random.nextBoolean() ? 1 << 16 : random.nextInt(300);
            // Random bytes into a fresh decoder.
            byte[] noise = new byte[random.nextInt(200)];
            random.nextBytes(noise);
            outcomes[new HpackDecoder(4096, listLimit).decode(ByteBuffer.wrap(noise), new HpackRecorder()).ordinal()]++;

            // A valid block with a few bytes changed, into a decoder warmed by a valid block.
            HpackDecoder decoder = new HpackDecoder(4096, listLimit);
            List<Field> fields = randomFields(random);
            ByteBuffer warm = ByteBuffer.allocate(bound(fields));
            encode(encoder, fields, warm);
            decoder.decode(warm.flip(), new HpackRecorder());
            ByteBuffer block = ByteBuffer.allocate(bound(fields));
            encode(encoder, fields, block);
            byte[] bytes = Arrays.copyOf(block.array(), block.position());
            for (int m = random.nextInt(4); m >= 0 && bytes.length > 0; m--) {
                bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
            }
            HpackStatus status = decoder.decode(ByteBuffer.wrap(bytes), new HpackRecorder());
            outcomes[status.ordinal()]++;
            // Whatever happened, the decoder answers the next block without throwing.
            decoder.decode(ByteBuffer.wrap(bytes), new HpackRecorder());
            encoder = new HpackEncoder(4096); // the mutated block desynchronised this pair
        }
        // Every outcome occurs, so the loop exercised every path, not only the first check.
        assertThat(outcomes).doesNotContain(0);
    }

    private static List<Field> randomFields(Random random) {
        List<Field> fields = new ArrayList<>();
        if (random.nextBoolean()) {
            fields.add(Field.of(":status", Integer.toString(100 + random.nextInt(900))));
        }
        int count = random.nextInt(16);
        for (int i = 0; i < count; i++) {
            String name = random.nextInt(5) == 0 ? "x-" + randomText(random, 1 + random.nextInt(12), true)
                    : NAMES[random.nextInt(NAMES.length)];
            if (name.equals(":status")) {
                name = ":path";
            }
            String value = switch (random.nextInt(6)) {
                case 0 -> randomText(random, random.nextInt(40), false);
                case 1 -> randomText(random, random.nextInt(5000), false); // often larger than the table
                default -> VALUES[random.nextInt(VALUES.length)];
            };
            fields.add(new Field(name, value, neverIndexed(name, value)));
        }
        return fields;
    }

    /** The encoder's §7.1.3 policy, as the decoder reports it. */
    private static boolean neverIndexed(String name, String value) {
        return name.equals("authorization") || name.equals("set-cookie")
                || (name.equals("cookie") && value.length() < HpackEncoder.SHORT_COOKIE);
    }

    private static String randomText(Random random, int length, boolean lowercaseToken) {
        char[] chars = new char[length];
        for (int i = 0; i < length; i++) {
            chars[i] = lowercaseToken ? (char) ('a' + random.nextInt(26))
                    : (char) (random.nextInt(3) == 0 ? random.nextInt(256) : 32 + random.nextInt(95));
        }
        return new String(chars);
    }

    private static int bound(List<Field> fields) {
        int bound = HpackEncoder.MAX_BLOCK_PREFIX_LENGTH;
        for (Field field : fields) {
            bound += HpackEncoder.maxEncodedLength(field.name().length(), field.value().length());
        }
        return bound;
    }

    private static void encode(HpackEncoder encoder, List<Field> fields, ByteBuffer out) {
        encoder.beginBlock(out);
        for (Field field : fields) {
            if (field.name().equals(":status")) {
                int before = out.position();
                encoder.status(Integer.parseInt(field.value()), out);
                assertThat(out.position() - before).isLessThanOrEqualTo(HpackEncoder.MAX_STATUS_LENGTH);
            } else {
                byte[] name = field.name().getBytes(StandardCharsets.ISO_8859_1);
                byte[] value = field.value().getBytes(StandardCharsets.ISO_8859_1);
                encoder.header(name, 0, name.length, value, 0, value.length, out);
            }
        }
    }
}
