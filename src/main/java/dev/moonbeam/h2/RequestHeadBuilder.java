package dev.moonbeam.h2;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Turns the decoded fields of an HTTP/2 request (RFC 9113 §8.3) into the HTTP/1.1 request head
 * that MoonBeam's request parser and head rewriter already handle, so both protocols share one
 * strict parser and one forwarding path. Only what HTTP/1.1 cannot express is checked here:
 * <ul>
 *   <li>pseudo-header fields: only {@code :method :scheme :authority :path}, each at most once,
 *       all before the regular fields, {@code :method :scheme :path} present (CONNECT: only
 *       {@code :method :authority}) — §8.3.1;</li>
 *   <li>field names lowercase tokens, values without NUL, CR, LF or surrounding whitespace — §8.2.1
 *       (a name with ':' or a value with CRLF would otherwise smuggle a field into the HTTP/1.1 head);</li>
 *   <li>connection-specific fields refused, {@code te} only {@code trailers} — §8.2.2;</li>
 *   <li>{@code host} must name the same authority as {@code :authority} — §8.3.1;</li>
 *   <li>{@code cookie} fields joined with "; " into one — §8.2.3.</li>
 * </ul>
 * A request with a body but no Content-Length is forwarded chunked; the caller frames its DATA.
 *
 * <p>Owned by one connection's loop thread; reused for every request on it.
 */
public final class RequestHeadBuilder {
    /** Outcome of {@link #finish}. */
    public enum Result { OK, MALFORMED, TOO_LARGE }

    private static final byte[] METHOD = ascii(":method");
    private static final byte[] SCHEME = ascii(":scheme");
    private static final byte[] AUTHORITY = ascii(":authority");
    private static final byte[] PATH = ascii(":path");
    private static final byte[] HOST = ascii("host");
    private static final byte[] COOKIE = ascii("cookie");
    private static final byte[] TE = ascii("te");
    private static final byte[] TRAILERS = ascii("trailers");
    private static final byte[] CONTENT_LENGTH = ascii("content-length");
    private static final byte[] CONNECT = ascii("CONNECT");
    /** Connection-specific fields, which HTTP/2 forbids (RFC 9113 §8.2.2). */
    private static final byte[][] CONNECTION_SPECIFIC = {
        ascii("connection"), ascii("keep-alive"), ascii("proxy-connection"), ascii("transfer-encoding"), ascii("upgrade"),
    };
    private static final byte[] HTTP_1_1 = ascii(" HTTP/1.1\r\n");
    private static final byte[] CHUNKED = ascii("transfer-encoding: chunked\r\n");
    private static final boolean[] NAME_CHAR = new boolean[256];

    static {
        for (char c = '0'; c <= '9'; c++) {
            NAME_CHAR[c] = true;
        }
        for (char c = 'a'; c <= 'z'; c++) {
            NAME_CHAR[c] = true; // uppercase is malformed in HTTP/2 (RFC 9113 §8.2.1)
        }
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
            NAME_CHAR[c] = true;
        }
    }

    private final Field method;
    private final Field path;
    private final Field authority;
    private final Field host;
    private final Field cookies;
    private boolean scheme;
    private boolean regularSeen;
    private ByteBuffer out;
    private int start;
    private String error;
    private boolean tooLarge;
    private long contentLength;
    private boolean chunked;

    /** @param maxFieldBytes the longest pseudo-header value, cookie list or host kept before the head is written */
    public RequestHeadBuilder(int maxFieldBytes) {
        method = new Field(maxFieldBytes);
        path = new Field(maxFieldBytes);
        authority = new Field(maxFieldBytes);
        host = new Field(maxFieldBytes);
        cookies = new Field(maxFieldBytes);
    }

    /** Starts a request head at {@code target}'s position (fill mode). */
    public void begin(ByteBuffer target) {
        out = target;
        start = target.position();
        method.clear();
        path.clear();
        authority.clear();
        host.clear();
        cookies.clear();
        scheme = false;
        regularSeen = false;
        error = null;
        tooLarge = false;
        contentLength = -1;
        chunked = false;
    }

    /** One decoded field, in order. The arrays are only read during the call. */
    public void field(byte[] name, int nameOff, int nameLen, byte[] value, int valueOff, int valueLen) {
        if (error != null) {
            return;
        }
        if (nameLen == 0) {
            fail("empty field name");
            return;
        }
        if (!validValue(value, valueOff, valueLen)) {
            fail("field value with NUL, CR, LF or surrounding whitespace");
            return;
        }
        if (name[nameOff] == ':') {
            pseudo(name, nameOff, nameLen, value, valueOff, valueLen);
            return;
        }
        for (int i = nameOff; i < nameOff + nameLen; i++) {
            if (!NAME_CHAR[name[i] & 0xFF]) {
                fail("field name is not a lowercase token");
                return;
            }
        }
        if (!regularSeen) {
            regularSeen = true;
            if (!writeRequestLine()) {
                return;
            }
        }
        for (byte[] forbidden : CONNECTION_SPECIFIC) {
            if (equal(name, nameOff, nameLen, forbidden)) {
                fail("connection-specific field " + new String(forbidden, StandardCharsets.US_ASCII));
                return;
            }
        }
        if (equal(name, nameOff, nameLen, TE) && !equal(value, valueOff, valueLen, TRAILERS)) {
            fail("te other than \"trailers\"");
            return;
        }
        if (equal(name, nameOff, nameLen, COOKIE)) {
            if (!cookies.isEmpty() && !cookies.append((byte) ';', (byte) ' ')) {
                overflow();
                return;
            }
            if (!cookies.append(value, valueOff, valueLen)) {
                overflow();
            }
            return;
        }
        if (equal(name, nameOff, nameLen, HOST)) {
            if (!host.isEmpty() || !host.set(value, valueOff, valueLen)) {
                fail("more than one host field, or one too long");
                return;
            }
            if (!authority.isEmpty()) {
                if (!host.sameAs(authority)) {
                    fail("host differs from :authority");
                }
                return; // already written from :authority; a second Host would be refused
            }
        }
        if (equal(name, nameOff, nameLen, CONTENT_LENGTH) && contentLength < 0) {
            contentLength = parseLength(value, valueOff, valueLen); // duplicates: the HTTP/1.1 parser judges
        }
        put(name, nameOff, nameLen);
        put((byte) ':', (byte) ' ');
        put(value, valueOff, valueLen);
        put((byte) '\r', (byte) '\n');
    }

    /**
     * Completes the head.
     *
     * @param endStream the HEADERS frame ended the stream: no body follows
     */
    public Result finish(boolean endStream) {
        if (error == null && !regularSeen) {
            writeRequestLine();
        }
        if (error == null) {
            boolean connect = equal(method.bytes, 0, method.length, CONNECT);
            if (connect && (scheme || !path.isEmpty() || authority.isEmpty())) {
                fail("CONNECT needs :authority and no :scheme or :path");
            } else if (!connect && (!scheme || path.isEmpty())) {
                fail("missing :scheme or :path");
            } else if (endStream && contentLength > 0) {
                fail("content-length without a body");
            }
        }
        if (error == null) {
            if (!cookies.isEmpty()) {
                put(COOKIE, 0, COOKIE.length);
                put((byte) ':', (byte) ' ');
                put(cookies.bytes, 0, cookies.length);
                put((byte) '\r', (byte) '\n');
            }
            if (!endStream && contentLength < 0) {
                chunked = true;
                put(CHUNKED, 0, CHUNKED.length);
            }
            put((byte) '\r', (byte) '\n');
        }
        if (tooLarge) {
            out.position(start);
            return Result.TOO_LARGE;
        }
        if (error != null) {
            out.position(start);
            return Result.MALFORMED;
        }
        return Result.OK;
    }

    /** Declared Content-Length, or -1 when none (or not a number: the HTTP/1.1 parser refuses it). */
    public long contentLength() {
        return contentLength;
    }

    /** The head asks the backend for a chunked body: the caller chunk-encodes the DATA it relays. */
    public boolean chunked() {
        return chunked;
    }

    /** Why the last request was malformed, for the log. */
    public String errorReason() {
        return tooLarge ? "request head too large" : error;
    }

    private void pseudo(byte[] name, int nameOff, int nameLen, byte[] value, int valueOff, int valueLen) {
        if (regularSeen) {
            fail("pseudo-header field after a regular field");
            return;
        }
        Field target;
        if (equal(name, nameOff, nameLen, METHOD)) {
            target = method;
            for (int i = valueOff; i < valueOff + valueLen; i++) {
                byte b = value[i];
                if (b == ' ' || !(NAME_CHAR[b & 0xFF] || (b >= 'A' && b <= 'Z'))) {
                    fail(":method is not a token");
                    return;
                }
            }
        } else if (equal(name, nameOff, nameLen, PATH)) {
            target = path;
            for (int i = valueOff; i < valueOff + valueLen; i++) {
                if (value[i] == ' ' || value[i] == '\t') {
                    fail(":path with whitespace");
                    return;
                }
            }
        } else if (equal(name, nameOff, nameLen, AUTHORITY)) {
            target = authority;
        } else if (equal(name, nameOff, nameLen, SCHEME)) {
            if (scheme || valueLen == 0) {
                fail("repeated or empty :scheme");
            }
            scheme = true; // ours is the listener's: X-Forwarded-Proto says it
            return;
        } else {
            fail("unknown pseudo-header field " + new String(name, nameOff, nameLen, StandardCharsets.ISO_8859_1));
            return;
        }
        if (!target.isEmpty() || valueLen == 0) {
            fail("repeated or empty pseudo-header field " + new String(name, nameOff, nameLen, StandardCharsets.ISO_8859_1));
            return;
        }
        if (!target.set(value, valueOff, valueLen)) {
            overflow();
        }
    }

    /** "METHOD target HTTP/1.1", then Host from :authority (HTTP/1.1 needs it; RFC 9113 §8.3.1). */
    private boolean writeRequestLine() {
        if (method.isEmpty()) {
            fail("missing :method");
            return false;
        }
        put(method.bytes, 0, method.length);
        put((byte) ' ');
        if (equal(method.bytes, 0, method.length, CONNECT)) {
            put(authority.bytes, 0, authority.length);
        } else {
            put(path.bytes, 0, path.length);
        }
        put(HTTP_1_1, 0, HTTP_1_1.length);
        if (!authority.isEmpty()) {
            put(HOST, 0, HOST.length);
            put((byte) ':', (byte) ' ');
            put(authority.bytes, 0, authority.length);
            put((byte) '\r', (byte) '\n');
        }
        return true;
    }

    private void put(byte[] bytes, int off, int len) {
        if (tooLarge || out.remaining() < len) {
            overflow();
            return;
        }
        out.put(bytes, off, len);
    }

    private void put(byte b) {
        if (tooLarge || !out.hasRemaining()) {
            overflow();
            return;
        }
        out.put(b);
    }

    private void put(byte a, byte b) {
        if (tooLarge || out.remaining() < 2) {
            overflow();
            return;
        }
        out.put(a).put(b);
    }

    private void overflow() {
        tooLarge = true;
        if (error == null) {
            error = "request head too large";
        }
    }

    private void fail(String reason) {
        if (error == null) {
            error = reason;
        }
    }

    /**
     * A trailer field (RFC 9113 §8.1): a lowercase token name that is neither a pseudo-header nor
     * connection-specific, and a value as for any field.
     */
    public static boolean isValidTrailer(byte[] name, int nameOff, int nameLen, byte[] value, int valueOff, int valueLen) {
        if (nameLen == 0 || !validValue(value, valueOff, valueLen)) {
            return false;
        }
        for (int i = nameOff; i < nameOff + nameLen; i++) {
            if (!NAME_CHAR[name[i] & 0xFF]) {
                return false; // includes ':' of a pseudo-header field
            }
        }
        for (byte[] forbidden : CONNECTION_SPECIFIC) {
            if (equal(name, nameOff, nameLen, forbidden)) {
                return false;
            }
        }
        return true;
    }

    /** RFC 9113 §8.2.1: no NUL, CR or LF anywhere; no leading or trailing SP or HTAB. */
    private static boolean validValue(byte[] value, int off, int len) {
        if (len > 0 && (isSpace(value[off]) || isSpace(value[off + len - 1]))) {
            return false;
        }
        for (int i = off; i < off + len; i++) {
            byte b = value[i];
            if (b == 0 || b == '\r' || b == '\n') {
                return false;
            }
        }
        return true;
    }

    private static boolean isSpace(byte b) {
        return b == ' ' || b == '\t';
    }

    private static long parseLength(byte[] value, int off, int len) {
        if (len == 0 || len > 18) {
            return -1;
        }
        long n = 0;
        for (int i = off; i < off + len; i++) {
            int digit = value[i] - '0';
            if (digit < 0 || digit > 9) {
                return -1;
            }
            n = n * 10 + digit;
        }
        return n;
    }

    static boolean equal(byte[] a, int off, int len, byte[] constant) {
        if (len != constant.length) {
            return false;
        }
        for (int i = 0; i < len; i++) {
            if (a[off + i] != constant[i]) {
                return false;
            }
        }
        return true;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** A reusable byte string with a hard cap. */
    private static final class Field {
        final byte[] bytes;
        int length;

        Field(int capacity) {
            bytes = new byte[capacity];
        }

        void clear() {
            length = 0;
        }

        boolean isEmpty() {
            return length == 0;
        }

        boolean set(byte[] src, int off, int len) {
            length = 0;
            return append(src, off, len);
        }

        boolean append(byte[] src, int off, int len) {
            if (length + len > bytes.length) {
                return false;
            }
            System.arraycopy(src, off, bytes, length, len);
            length += len;
            return true;
        }

        boolean append(byte a, byte b) {
            if (length + 2 > bytes.length) {
                return false;
            }
            bytes[length++] = a;
            bytes[length++] = b;
            return true;
        }

        /** Host names compare case-insensitively (RFC 3986 §3.2.2). */
        boolean sameAs(Field other) {
            if (length != other.length) {
                return false;
            }
            for (int i = 0; i < length; i++) {
                if (Character.toLowerCase(bytes[i]) != Character.toLowerCase(other.bytes[i])) {
                    return false;
                }
            }
            return true;
        }
    }
}
