package dev.moonbeam.http;

/** The only versions MoonBeam speaks (RFC 9112 §2.3); anything else is rejected. */
public enum HttpVersion {
    HTTP_1_0,
    HTTP_1_1;

    private static final byte[] PREFIX = {'H', 'T', 'T', 'P', '/', '1', '.'};

    /** The version spelled at {@code bytes[start, end)}, or null if it is not exactly 1.0/1.1. */
    static HttpVersion match(byte[] bytes, int start, int end) {
        if (end - start != PREFIX.length + 1) {
            return null;
        }
        for (int i = 0; i < PREFIX.length; i++) {
            if (bytes[start + i] != PREFIX[i]) { // case-sensitive: RFC 9112 §2.3
                return null;
            }
        }
        byte minor = bytes[start + PREFIX.length];
        if (minor == '1') {
            return HTTP_1_1;
        }
        return minor == '0' ? HTTP_1_0 : null;
    }
}
