package dev.moonbeam.http;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The header fields the proxy acts on, recognised case-insensitively (RFC 9110 §5.1) without
 * allocating; every other field is {@link #OTHER} and is only ever copied.
 */
public enum HeaderName {
    HOST("Host"),
    CONTENT_LENGTH("Content-Length"),
    TRANSFER_ENCODING("Transfer-Encoding"),
    CONNECTION("Connection"),
    UPGRADE("Upgrade"),
    EXPECT("Expect"),
    KEEP_ALIVE("Keep-Alive"),
    PROXY_CONNECTION("Proxy-Connection"),
    TE("TE"),
    TRAILER("Trailer"),
    X_FORWARDED_FOR("X-Forwarded-For"),
    X_FORWARDED_PROTO("X-Forwarded-Proto"),
    X_FORWARDED_HOST("X-Forwarded-Host"),
    OTHER("");

    private static final int MAX_LENGTH = 32;
    /** Known names by length, so a lookup compares only names of the right size. */
    private static final HeaderName[][] BY_LENGTH = new HeaderName[MAX_LENGTH + 1][];

    static {
        for (int length = 0; length <= MAX_LENGTH; length++) {
            int count = 0;
            for (HeaderName name : values()) {
                if (name != OTHER && name.lower.length == length) {
                    count++;
                }
            }
            BY_LENGTH[length] = new HeaderName[count];
            count = 0;
            for (HeaderName name : values()) {
                if (name != OTHER && name.lower.length == length) {
                    BY_LENGTH[length][count++] = name;
                }
            }
        }
    }

    private final byte[] canonical;
    private final byte[] lower;

    HeaderName(String spelling) {
        this.canonical = spelling.getBytes(StandardCharsets.US_ASCII);
        this.lower = spelling.toLowerCase(Locale.ROOT).getBytes(StandardCharsets.US_ASCII);
    }

    /** The usual spelling, e.g. {@code Content-Length}; used when MoonBeam writes the field. */
    byte[] canonical() {
        return canonical;
    }

    static HeaderName lookup(byte[] bytes, int start, int end) {
        int length = end - start;
        if (length > MAX_LENGTH) {
            return OTHER;
        }
        for (HeaderName name : BY_LENGTH[length]) {
            if (ByteClass.equalsIgnoreCase(bytes, start, end, name.lower)) {
                return name;
            }
        }
        return OTHER;
    }
}
