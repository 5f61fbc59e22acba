package dev.moonbeam.h2;

import java.nio.ByteBuffer;

/**
 * Encodes an HTTP/1.1 trailer section ("name: value" lines, CRLF or LF ended, already validated by
 * the response parser) as HTTP/2 trailer fields: names lowercased, fields HTTP/2 forbids in
 * trailers left out (RFC 9113 §8.1, §8.2.2). Stateless.
 */
public final class TrailerLines {
    private TrailerLines() {
    }

    /**
     * @param nameScratch room to lowercase a name into; longer names are left out
     * @return how many fields were encoded into {@code block}
     */
    public static int encode(byte[] lines, int length, HpackEncoder encoder, ByteBuffer block, byte[] nameScratch) {
        int fields = 0;
        for (int at = 0; at < length; ) {
            int end = at;
            while (end < length && lines[end] != '\n') {
                end++;
            }
            int lineEnd = end > at && lines[end - 1] == '\r' ? end - 1 : end;
            int colon = at;
            while (colon < lineEnd && lines[colon] != ':') {
                colon++;
            }
            int nameLength = colon - at;
            int valueStart = colon + 1;
            while (valueStart < lineEnd && isSpace(lines[valueStart])) {
                valueStart++;
            }
            int valueEnd = lineEnd;
            while (valueEnd > valueStart && isSpace(lines[valueEnd - 1])) {
                valueEnd--;
            }
            if (colon < lineEnd && nameLength > 0 && nameLength <= nameScratch.length) {
                for (int k = 0; k < nameLength; k++) {
                    byte b = lines[at + k];
                    nameScratch[k] = b >= 'A' && b <= 'Z' ? (byte) (b + 32) : b;
                }
                if (RequestHeadBuilder.isValidTrailer(nameScratch, 0, nameLength, lines, valueStart, valueEnd - valueStart)) {
                    encoder.header(nameScratch, 0, nameLength, lines, valueStart, valueEnd - valueStart, block);
                    fields++;
                }
            }
            at = end + 1;
        }
        return fields;
    }

    private static boolean isSpace(byte b) {
        return b == ' ' || b == '\t';
    }
}
