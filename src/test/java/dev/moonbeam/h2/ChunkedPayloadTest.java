package dev.moonbeam.h2;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ChunkedPayloadTest {

    @ParameterizedTest
    @ValueSource(strings = {
        "5\r\nhello\r\n0\r\n\r\n",
        "5;ext=1\r\nhello\r\n6 ; a=\"b\"\r\n world\r\n0\r\n\r\n",
        "A\r\n0123456789\r\n0\r\nx-trailer: 1\r\ny: 2\r\n\r\n",
        "3\nabc\n0\n\n", // bare LF, when the parser was told to allow it
        "0\r\n\r\n",
    })
    void yieldsThePayloadForEverySplitOfTheBody(String body) {
        byte[] bytes = body.getBytes(StandardCharsets.ISO_8859_1);
        String expected = dechunkReference(body);
        for (int split = 0; split <= bytes.length; split++) {
            assertThat(payload(bytes, split, bytes.length)).as("split at %d", split).isEqualTo(expected);
        }
        assertThat(payload(bytes, 1, 1)).as("one byte at a time").isEqualTo(expected);
    }

    @org.junit.jupiter.api.Test
    void randomChunkingsRoundTrip() {
        Random random = new Random(7);
        for (int round = 0; round < 300; round++) {
            StringBuilder body = new StringBuilder();
            StringBuilder expected = new StringBuilder();
            int chunks = random.nextInt(5);
            for (int c = 0; c < chunks; c++) {
                int size = 1 + random.nextInt(40);
                StringBuilder data = new StringBuilder();
                for (int i = 0; i < size; i++) {
                    data.append((char) ('a' + random.nextInt(26)));
                }
                body.append(Integer.toHexString(size)).append(random.nextBoolean() ? ";x=y" : "").append("\r\n").append(data).append("\r\n");
                expected.append(data);
            }
            body.append("0\r\n\r\n");
            byte[] bytes = body.toString().getBytes(StandardCharsets.ISO_8859_1);
            int split = random.nextInt(bytes.length + 1);
            assertThat(payload(bytes, split, 1 + random.nextInt(9))).isEqualTo(expected.toString());
        }
    }

    /** Feeds the first {@code split} bytes, then the rest in pieces of {@code piece}. */
    private static String payload(byte[] bytes, int split, int piece) {
        ChunkedPayload chunked = new ChunkedPayload();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int pos = 0;
        int end = Math.min(split, bytes.length);
        while (pos < bytes.length) {
            if (end <= pos) {
                end = Math.min(bytes.length, pos + piece);
            }
            ByteBuffer slice = ByteBuffer.wrap(bytes, pos, end - pos);
            while (slice.hasRemaining()) {
                int n = chunked.skipFraming(slice);
                if (n == 0) {
                    break;
                }
                out.write(bytes, slice.position(), n);
                slice.position(slice.position() + n);
                chunked.took(n);
            }
            assertThat(slice.hasRemaining()).as("every framing byte is walked").isFalse();
            pos = end;
        }
        assertThat(chunked.isDone()).isTrue();
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    private static String dechunkReference(String body) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (true) {
            int lineEnd = body.indexOf('\n', i);
            String line = body.substring(i, lineEnd).replace("\r", "");
            int semi = line.indexOf(';');
            int size = Integer.parseInt((semi >= 0 ? line.substring(0, semi) : line).trim(), 16);
            i = lineEnd + 1;
            if (size == 0) {
                return out.toString();
            }
            out.append(body, i, i + size);
            i = body.indexOf('\n', i + size) + 1;
        }
    }
}
