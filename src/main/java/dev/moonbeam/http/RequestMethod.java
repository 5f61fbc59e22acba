package dev.moonbeam.http;

import java.nio.charset.StandardCharsets;

/** The common methods, matched without allocating; anything else that is a token is OTHER. */
public enum RequestMethod {
    GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH, TRACE, CONNECT, OTHER;

    private static final RequestMethod[] KNOWN = {GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH,
        TRACE, CONNECT};

    private final byte[] spelling = name().getBytes(StandardCharsets.US_ASCII);

    /** Methods are case-sensitive (RFC 9110 §9.1): "get" is OTHER, not GET. */
    static RequestMethod match(byte[] bytes, int start, int end) {
        int length = end - start;
        for (RequestMethod method : KNOWN) {
            byte[] s = method.spelling;
            if (s.length == length && ByteClass.equals(bytes, start, s)) {
                return method;
            }
        }
        return OTHER;
    }

    /** Safe to retry on a fresh backend connection (RFC 9110 §9.2.2). */
    public boolean isIdempotent() {
        return this != POST && this != PATCH && this != CONNECT && this != OTHER;
    }
}
