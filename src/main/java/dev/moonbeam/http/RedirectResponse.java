package dev.moonbeam.http;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The {@code 301} a plain-HTTP listener answers with when it only redirects to HTTPS: same host
 * (without its port), same path and query, the HTTPS port when it is not 443. Written from the
 * head's bytes without allocating. Stateless.
 */
public final class RedirectResponse {
    private static final byte[] START = ascii("HTTP/1.1 301 Moved Permanently\r\nLocation: https://");
    private static final byte[] END_KEEP_ALIVE = ascii("\r\nContent-Length: 0\r\n\r\n");
    private static final byte[] END_CLOSE = ascii("\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    private static final int DEFAULT_HTTPS_PORT = 443;

    private RedirectResponse() {
    }

    /**
     * @return false when the request has no Host to redirect to (the caller answers 400) or the
     *         response does not fit {@code out}; nothing is written then
     */
    public static boolean write(HttpHead head, int httpsPort, boolean close, ByteBuffer out) {
        if (head.hostIndex() < 0 || head.hostEnd() <= head.hostStart()) {
            return false;
        }
        byte[] bytes = head.bytes();
        int hostEnd = hostWithoutPort(bytes, head.hostStart(), head.hostEnd());
        int pathStart = pathStart(bytes, head.targetStart(), head.targetEnd());
        byte[] port = httpsPort == DEFAULT_HTTPS_PORT ? null : ascii(":" + httpsPort);
        byte[] end = close ? END_CLOSE : END_KEEP_ALIVE;
        int length = START.length + (hostEnd - head.hostStart()) + (port == null ? 0 : port.length)
                + Math.max(1, head.targetEnd() - pathStart) + end.length;
        if (out.remaining() < length) {
            return false;
        }
        out.put(START).put(bytes, head.hostStart(), hostEnd - head.hostStart());
        if (port != null) {
            out.put(port);
        }
        if (pathStart < head.targetEnd()) {
            out.put(bytes, pathStart, head.targetEnd() - pathStart);
        } else {
            out.put((byte) '/');
        }
        out.put(end);
        return true;
    }

    /** The end of the host part of a Host value: before {@code :port}, keeping {@code [v6]} whole. */
    private static int hostWithoutPort(byte[] bytes, int start, int end) {
        for (int i = end - 1; i > start; i--) {
            if (bytes[i] == ':') {
                return i;
            }
            if (bytes[i] == ']' || bytes[i] < '0' || bytes[i] > '9') {
                return end;
            }
        }
        return end;
    }

    /** Origin-form targets are the path; absolute-form ({@code http://h/p}) keeps only {@code /p}. */
    private static int pathStart(byte[] bytes, int start, int end) {
        if (start < end && bytes[start] == '/') {
            return start;
        }
        for (int i = start; i + 2 < end; i++) {
            if (bytes[i] == ':' && bytes[i + 1] == '/' && bytes[i + 2] == '/') {
                for (int j = i + 3; j < end; j++) {
                    if (bytes[j] == '/' || bytes[j] == '?') {
                        return j;
                    }
                }
                return end;
            }
        }
        return start;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
