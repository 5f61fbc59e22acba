package dev.moonbeam.http;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Small, complete error responses, encoded once: status line, {@code Content-Length},
 * {@code Content-Type: text/plain}, {@code Connection: close} and a one-line body; a 503 also says
 * {@code Retry-After: 1} (RFC 9110 §10.2.3: overload and shutdown pass quickly). Immutable and
 * shared by all loops. An unknown status falls back to 500 rather than failing on the error path.
 */
public final class ErrorResponses {
    private static final int[] STATUSES = {400, 408, 413, 414, 431, 500, 501, 502, 503, 504};
    private static final String[] REASONS = {"Bad Request", "Request Timeout", "Content Too Large",
        "URI Too Long", "Request Header Fields Too Large", "Internal Server Error",
        "Not Implemented", "Bad Gateway", "Service Unavailable", "Gateway Timeout"};
    private static final byte[][] ENCODED = new byte[STATUSES.length][];
    private static final ByteBuffer[] SHARED = new ByteBuffer[STATUSES.length];

    static {
        for (int i = 0; i < STATUSES.length; i++) {
            String body = STATUSES[i] + " " + REASONS[i] + "\n";
            String text = "HTTP/1.1 " + STATUSES[i] + " " + REASONS[i] + "\r\n"
                    + "Content-Type: text/plain\r\n"
                    + "Content-Length: " + body.length() + "\r\n"
                    + (STATUSES[i] == 503 ? "Retry-After: 1\r\n" : "")
                    + "Connection: close\r\n"
                    + "\r\n" + body;
            ENCODED[i] = text.getBytes(StandardCharsets.US_ASCII);
            SHARED[i] = ByteBuffer.wrap(ENCODED[i]).asReadOnlyBuffer();
        }
    }

    private ErrorResponses() {}

    /** A fresh read-only view (position 0) of the response for {@code status}. */
    public static ByteBuffer forStatus(int status) {
        return SHARED[index(status)].duplicate();
    }

    /** Length in bytes of the response for {@code status}. */
    public static int length(int status) {
        return ENCODED[index(status)].length;
    }

    /**
     * Copies the response for {@code status} into {@code out} (fill mode) without allocating.
     * Returns false and writes nothing when it does not fit.
     */
    public static boolean copyTo(int status, ByteBuffer out) {
        byte[] encoded = ENCODED[index(status)];
        if (out.remaining() < encoded.length) {
            return false;
        }
        out.put(encoded);
        return true;
    }

    /** Whether a dedicated response exists for {@code status} (otherwise 500 is used). */
    public static boolean supports(int status) {
        for (int s : STATUSES) {
            if (s == status) {
                return true;
            }
        }
        return false;
    }

    private static int index(int status) {
        int fallback = 0;
        for (int i = 0; i < STATUSES.length; i++) {
            if (STATUSES[i] == status) {
                return i;
            }
            if (STATUSES[i] == 500) {
                fallback = i;
            }
        }
        return fallback;
    }
}
