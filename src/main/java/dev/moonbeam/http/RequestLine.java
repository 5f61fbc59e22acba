package dev.moonbeam.http;

/**
 * Parses and validates the request line of a complete head (RFC 9112 §3).
 *
 * <pre>
 * request-line   = method SP request-target SP HTTP-version
 * request-target = origin-form / absolute-form / authority-form / asterisk-form
 * </pre>
 *
 * Exactly one SP between the parts: the lenient whitespace RFC 9112 §3 permits is where
 * intermediaries disagree. HTTP/0.9 (no version) and the HTTP/2 preface are refused here.
 */
final class RequestLine {
    private static final byte[] HTTP = {'h', 't', 't', 'p'};
    private static final byte[] HTTPS = {'h', 't', 't', 'p', 's'};

    private RequestLine() {}

    static HttpError parse(HttpHead head) {
        byte[] bytes = head.bytes;
        int start = head.lineStart[0];
        int end = head.lineEnd[0];
        int i = start;
        while (i < end && ByteClass.isTchar(bytes[i])) {
            i++;
        }
        if (i == start || i == end || bytes[i] != ' ') {
            return i == end || (i > start && ByteClass.isWhitespace(bytes[i]))
                    ? HttpError.BAD_REQUEST_LINE : HttpError.BAD_METHOD;
        }
        head.methodEnd = i;
        head.method = RequestMethod.match(bytes, start, i);
        int targetStart = i + 1;
        int targetEnd = targetStart;
        while (targetEnd < end && bytes[targetEnd] != ' ') {
            targetEnd++;
        }
        if (targetEnd == end) {
            return HttpError.BAD_REQUEST_LINE; // HTTP/0.9 "GET /" or missing version
        }
        if (targetEnd == targetStart) {
            return HttpError.BAD_REQUEST_LINE; // two spaces
        }
        head.version = HttpVersion.match(bytes, targetEnd + 1, end);
        if (head.version == null) {
            return HttpError.BAD_VERSION;
        }
        head.targetStart = targetStart;
        head.targetEnd = targetEnd;
        if (head.method == RequestMethod.CONNECT) {
            return HttpError.CONNECT_REFUSED; // a reverse proxy is not a tunnel for clients
        }
        return validTarget(bytes, targetStart, targetEnd, head.method) ? null : HttpError.BAD_TARGET;
    }

    /**
     * origin-form ("/path?query"), asterisk-form for OPTIONS, or absolute-form with an http(s)
     * scheme and a non-empty authority. The authority is never used for routing.
     */
    private static boolean validTarget(byte[] bytes, int start, int end, RequestMethod method) {
        if (end - start == 1 && bytes[start] == '*') {
            return method == RequestMethod.OPTIONS; // RFC 9112 §3.2.4
        }
        if (bytes[start] != '/') {
            int colon = start;
            while (colon < end && bytes[colon] != ':') {
                colon++;
            }
            boolean scheme = ByteClass.equalsIgnoreCase(bytes, start, colon, HTTP)
                    || ByteClass.equalsIgnoreCase(bytes, start, colon, HTTPS);
            if (!scheme || end - colon < 4 || bytes[colon + 1] != '/' || bytes[colon + 2] != '/'
                    || bytes[colon + 3] == '/' || bytes[colon + 3] == '?') {
                return false;
            }
        }
        return validTargetBytes(bytes, start, end);
    }

    /**
     * Visible ASCII only; no "#" (a fragment is never sent, RFC 9112 §3.2) and every "%" followed
     * by two hex digits. Browsers leave "{", "|", "}" unescaped in queries, so those pass.
     */
    private static boolean validTargetBytes(byte[] bytes, int start, int end) {
        for (int i = start; i < end; i++) {
            byte b = bytes[i];
            if (b <= 0x20 || b >= 0x7F || b == '#') {
                return false;
            }
            if (b == '%') {
                if (i + 2 >= end || ByteClass.hex(bytes[i + 1]) < 0 || ByteClass.hex(bytes[i + 2]) < 0) {
                    return false;
                }
            }
        }
        return true;
    }
}
