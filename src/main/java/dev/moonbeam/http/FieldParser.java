package dev.moonbeam.http;

/**
 * Splits the field lines found by {@link HeadScanner} into name and value offsets and decodes the
 * fields the proxy acts on. Stateless; runs once per complete head, over bytes already checked
 * for control characters.
 *
 * <pre>
 * field-line  = field-name ":" OWS field-value OWS          ; RFC 9112 §5
 * field-name  = token
 * </pre>
 */
final class FieldParser {
    private static final byte[] CHUNKED = {'c', 'h', 'u', 'n', 'k', 'e', 'd'};
    private static final byte[] CLOSE = {'c', 'l', 'o', 's', 'e'};
    private static final byte[] KEEP_ALIVE = {'k', 'e', 'e', 'p', '-', 'a', 'l', 'i', 'v', 'e'};
    private static final byte[] UPGRADE = {'u', 'p', 'g', 'r', 'a', 'd', 'e'};
    private static final byte[] CONTINUE = {'1', '0', '0', '-', 'c', 'o', 'n', 't', 'i', 'n', 'u',
        'e'};
    private static final byte[] TIMEOUT = {'t', 'i', 'm', 'e', 'o', 'u', 't'};

    private FieldParser() {}

    /** Fills the field offsets of {@code head} from its lines 1..n; null when all are valid. */
    static HttpError parseFields(HttpHead head) {
        int fields = head.lineCount - 1;
        for (int f = 0; f < fields; f++) {
            HttpError invalid = parseField(head, f);
            if (invalid != null) {
                return invalid;
            }
        }
        head.headerCount = fields;
        return null;
    }

    /**
     * Fills the offsets of field {@code f} (line {@code f + 1}) of {@code head}; null when the line
     * is a valid field line. Needs no other line, so a request's lines are checked as each ends.
     */
    static HttpError parseField(HttpHead head, int f) {
        byte[] bytes = head.bytes;
        int start = head.lineStart[f + 1];
        int end = head.lineEnd[f + 1];
        if (ByteClass.isWhitespace(bytes[start])) {
            // RFC 9112 §2.2 (first line) and §5.2 (obs-fold): both are rejected with 400.
            return f == 0 ? HttpError.WHITESPACE_AFTER_START_LINE : HttpError.OBS_FOLD;
        }
        int i = start;
        while (i < end && ByteClass.isTchar(bytes[i])) {
            i++;
        }
        if (i == end) {
            return HttpError.BAD_HEADER_LINE;
        }
        if (bytes[i] != ':') {
            int j = i;
            while (j < end && ByteClass.isWhitespace(bytes[j])) {
                j++;
            }
            // RFC 9112 §5.1: no whitespace between name and colon; it desyncs parsers.
            return j > i && j < end && bytes[j] == ':' && i > start
                    ? HttpError.WHITESPACE_BEFORE_COLON : HttpError.BAD_HEADER_NAME;
        }
        if (i == start) {
            return HttpError.BAD_HEADER_NAME;
        }
        int valueStart = i + 1;
        while (valueStart < end && ByteClass.isWhitespace(bytes[valueStart])) {
            valueStart++;
        }
        int valueEnd = end;
        while (valueEnd > valueStart && ByteClass.isWhitespace(bytes[valueEnd - 1])) {
            valueEnd--;
        }
        head.nameStart[f] = start;
        head.nameEnd[f] = i;
        head.valueStart[f] = valueStart;
        head.valueEnd[f] = valueEnd;
        head.names[f] = HeaderName.lookup(bytes, start, i);
        return null;
    }

    /**
     * Decodes Host, Content-Length, Transfer-Encoding, Connection, Upgrade, Expect and
     * Keep-Alive into {@code head}; null when they are well formed. Rules that depend on the
     * direction (CL with TE, Host required) are the parsers'.
     */
    static HttpError decodeFacts(HttpHead head) {
        byte[] bytes = head.bytes;
        int codings = 0;
        int chunkedCount = 0;
        boolean lastIsChunked = false;
        for (int f = 0; f < head.headerCount; f++) {
            int vs = head.valueStart[f];
            int ve = head.valueEnd[f];
            switch (head.names[f]) {
                case HOST -> {
                    head.hostCount++;
                    head.hostIndex = f;
                    if (!validHost(bytes, vs, ve)) {
                        return HttpError.BAD_HOST;
                    }
                }
                case CONTENT_LENGTH -> {
                    // RFC 9112 §6.3: repeated Content-Length is refused even when equal, since
                    // some servers take the first and some the last or a list.
                    if (head.contentLength >= 0) {
                        return HttpError.DUPLICATE_CONTENT_LENGTH;
                    }
                    long length = parseDecimal(bytes, vs, ve);
                    if (length < 0) {
                        return HttpError.BAD_CONTENT_LENGTH;
                    }
                    head.contentLength = length;
                }
                case TRANSFER_ENCODING -> {
                    head.transferEncodingPresent = true;
                    // transfer-coding = token *( OWS ";" OWS transfer-parameter ); list, RFC 9112 §6.1.
                    int i = vs;
                    while (i <= ve) {
                        int elementEnd = indexOf(bytes, i, ve, (byte) ',');
                        int s = trimStart(bytes, i, elementEnd);
                        int e = trimEnd(bytes, s, elementEnd);
                        if (s < e) {
                            int t = s;
                            while (t < e && ByteClass.isTchar(bytes[t])) {
                                t++;
                            }
                            if (t == s || (t < e && bytes[t] != ';' && !ByteClass.isWhitespace(bytes[t]))) {
                                return HttpError.BAD_TRANSFER_ENCODING;
                            }
                            codings++;
                            // Coding names are case-insensitive (RFC 9112 §7); parameters are
                            // not allowed on chunked.
                            lastIsChunked = t == e && ByteClass.equalsIgnoreCase(bytes, s, t, CHUNKED);
                            if (ByteClass.equalsIgnoreCase(bytes, s, t, CHUNKED)) {
                                chunkedCount++;
                            }
                        }
                        i = elementEnd + 1;
                    }
                }
                case CONNECTION -> {
                    int i = vs;
                    while (i <= ve) {
                        int elementEnd = indexOf(bytes, i, ve, (byte) ',');
                        int s = trimStart(bytes, i, elementEnd);
                        int e = trimEnd(bytes, s, elementEnd);
                        for (int t = s; t < e; t++) {
                            if (!ByteClass.isTchar(bytes[t])) {
                                return HttpError.BAD_CONNECTION_HEADER;
                            }
                        }
                        if (ByteClass.equalsIgnoreCase(bytes, s, e, CLOSE)) {
                            head.connectionClose = true;
                        } else if (ByteClass.equalsIgnoreCase(bytes, s, e, KEEP_ALIVE)) {
                            head.connectionKeepAlive = true;
                        } else if (ByteClass.equalsIgnoreCase(bytes, s, e, UPGRADE)) {
                            head.connectionUpgrade = true;
                        }
                        i = elementEnd + 1;
                    }
                }
                case UPGRADE -> head.upgradePresent = true;
                case EXPECT -> head.expectContinue |= ByteClass.equalsIgnoreCase(bytes, vs, ve, CONTINUE);
                case KEEP_ALIVE -> head.keepAliveTimeoutSeconds = keepAliveTimeout(bytes, vs, ve);
                default -> { }
            }
        }
        if (head.transferEncodingPresent) {
            if (codings == 0 || chunkedCount > 1 || (chunkedCount == 1 && !lastIsChunked)) {
                // Chunked applied twice, or not last, is faulty framing (RFC 9112 §6.1).
                return HttpError.BAD_TRANSFER_ENCODING;
            }
            head.chunked = lastIsChunked;
            // Remember "exactly one coding" for the request rule in the same field.
            head.transferCodingCount = codings;
        }
        return null;
    }

    /** 1*DIGIT without sign or overflow, or -1 (RFC 9110 §8.6). */
    static long parseDecimal(byte[] bytes, int start, int end) {
        if (start == end) {
            return -1;
        }
        long value = 0;
        for (int i = start; i < end; i++) {
            byte b = bytes[i];
            if (!ByteClass.isDigit(b)) {
                return -1;
            }
            if (value > (Long.MAX_VALUE - (b - '0')) / 10) {
                return -1;
            }
            value = value * 10 + (b - '0');
        }
        return value;
    }

    /** A Host value: empty (allowed by RFC 9112 §3.2) or reg-name/IP-literal characters. */
    private static boolean validHost(byte[] bytes, int start, int end) {
        for (int i = start; i < end; i++) {
            if (!ByteClass.isHostChar(bytes[i])) {
                return false;
            }
        }
        return true;
    }

    /** {@code timeout=N} from a Keep-Alive value, or -1; other parameters are ignored. */
    private static int keepAliveTimeout(byte[] bytes, int start, int end) {
        int i = start;
        while (i <= end) {
            int elementEnd = indexOf(bytes, i, end, (byte) ',');
            int s = trimStart(bytes, i, elementEnd);
            int e = trimEnd(bytes, s, elementEnd);
            int eq = indexOf(bytes, s, e, (byte) '=');
            if (eq < e && ByteClass.equalsIgnoreCase(bytes, s, trimEnd(bytes, s, eq), TIMEOUT)) {
                long value = parseDecimal(bytes, trimStart(bytes, eq + 1, e), e);
                return value < 0 || value > Integer.MAX_VALUE ? -1 : (int) value;
            }
            i = elementEnd + 1;
        }
        return -1;
    }

    private static int indexOf(byte[] bytes, int start, int end, byte wanted) {
        for (int i = start; i < end; i++) {
            if (bytes[i] == wanted) {
                return i;
            }
        }
        return end;
    }

    private static int trimStart(byte[] bytes, int start, int end) {
        while (start < end && ByteClass.isWhitespace(bytes[start])) {
            start++;
        }
        return start;
    }

    private static int trimEnd(byte[] bytes, int start, int end) {
        while (end > start && ByteClass.isWhitespace(bytes[end - 1])) {
            end--;
        }
        return end;
    }
}
