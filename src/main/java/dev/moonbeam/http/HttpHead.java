package dev.moonbeam.http;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A parsed request or response head, kept as its raw bytes plus offsets: no {@code String} per
 * header. Only what the proxy acts on is decoded into fields. Reused across messages: the byte
 * array grows geometrically up to {@link HttpLimits#maxHeaderBytes()} and is then kept, and the
 * offset arrays are sized once from {@link HttpLimits#maxHeaderCount()}, so steady state
 * allocates nothing.
 *
 * <p>Owned by the event-loop thread of the connection whose parser fills it; no locking.
 * Accessors are valid after the parser returned {@link ParseStatus#HEAD_COMPLETE} and until its
 * {@code reset()}.
 */
public final class HttpHead {
    private static final int INITIAL_BYTES = 1024;

    // Raw bytes and line offsets, written by HeadScanner. Line 0 is the start line.
    byte[] bytes;
    int length;
    int lineCount;
    final int[] lineStart;
    final int[] lineEnd;

    // Field offsets, written by FieldParser; field i is line i + 1.
    int headerCount;
    final int[] nameStart;
    final int[] nameEnd;
    final int[] valueStart;
    final int[] valueEnd;
    final HeaderName[] names;

    // Start line.
    RequestMethod method;
    HttpVersion version;
    int methodEnd;
    int targetStart;
    int targetEnd;
    int statusCode;

    // Decoded facts, written by HeadFacts and the parsers.
    long contentLength;
    boolean transferEncodingPresent;
    boolean chunked;
    int transferCodingCount;
    int hostIndex;
    int hostCount;
    boolean connectionClose;
    boolean connectionKeepAlive;
    boolean connectionUpgrade;
    boolean upgradePresent;
    boolean expectContinue;
    int keepAliveTimeoutSeconds;
    BodyKind bodyKind;
    boolean keepAlive;

    private final int maxBytes;

    HttpHead(HttpLimits limits) {
        int maxHeaderCount = limits.maxHeaderCount();
        maxBytes = limits.maxHeaderBytes();
        bytes = new byte[Math.min(INITIAL_BYTES, maxBytes)];
        lineStart = new int[maxHeaderCount + 1];
        lineEnd = new int[maxHeaderCount + 1];
        nameStart = new int[maxHeaderCount];
        nameEnd = new int[maxHeaderCount];
        valueStart = new int[maxHeaderCount];
        valueEnd = new int[maxHeaderCount];
        names = new HeaderName[maxHeaderCount];
        clear();
    }

    void clear() {
        length = 0;
        lineCount = 0;
        headerCount = 0;
        method = null;
        version = null;
        methodEnd = 0;
        targetStart = 0;
        targetEnd = 0;
        statusCode = 0;
        contentLength = -1;
        transferEncodingPresent = false;
        chunked = false;
        transferCodingCount = 0;
        hostIndex = -1;
        hostCount = 0;
        connectionClose = false;
        connectionKeepAlive = false;
        connectionUpgrade = false;
        upgradePresent = false;
        expectContinue = false;
        keepAliveTimeoutSeconds = -1;
        bodyKind = BodyKind.NONE;
        keepAlive = false;
    }

    /** Makes room for {@code needed} bytes; the caller never asks beyond the head limit. */
    void ensureCapacity(int needed) {
        if (needed > bytes.length) {
            // Geometric growth, but never beyond the head limit: a hostile head costs at most that.
            bytes = Arrays.copyOf(bytes, Math.min(maxBytes, Math.max(needed, bytes.length * 2)));
        }
    }

    /** The raw head bytes; valid in {@code [0, length())}. Do not modify. */
    public byte[] bytes() {
        return bytes;
    }

    /** Bytes of the head as received, including its final empty line. */
    public int length() {
        return length;
    }

    public int startLineStart() {
        return lineStart[0];
    }

    /** End of the start line, excluding its CRLF. */
    public int startLineEnd() {
        return lineEnd[0];
    }

    /** Request method, or null for a response. */
    public RequestMethod method() {
        return method;
    }

    public int methodStart() {
        return lineStart[0];
    }

    public int methodEnd() {
        return methodEnd;
    }

    public int targetStart() {
        return targetStart;
    }

    public int targetEnd() {
        return targetEnd;
    }

    public HttpVersion version() {
        return version;
    }

    /** Response status code, 0 for a request. */
    public int statusCode() {
        return statusCode;
    }

    public int headerCount() {
        return headerCount;
    }

    /** Start of header {@code i}'s whole line (its name). */
    public int lineStart(int i) {
        return lineStart[i + 1];
    }

    /** End of header {@code i}'s whole line, excluding CRLF. */
    public int lineEnd(int i) {
        return lineEnd[i + 1];
    }

    public int nameStart(int i) {
        return nameStart[i];
    }

    public int nameEnd(int i) {
        return nameEnd[i];
    }

    /** Start of header {@code i}'s value, leading whitespace removed. */
    public int valueStart(int i) {
        return valueStart[i];
    }

    /** End of header {@code i}'s value, trailing whitespace removed. */
    public int valueEnd(int i) {
        return valueEnd[i];
    }

    /** Which known field header {@code i} is, or {@link HeaderName#OTHER}. */
    public HeaderName name(int i) {
        return names[i];
    }

    /** Declared Content-Length, or -1 when absent. */
    public long contentLength() {
        return contentLength;
    }

    /** The message carries a body in chunked coding (chunked is the final transfer coding). */
    public boolean isChunked() {
        return chunked;
    }

    public BodyKind bodyKind() {
        return bodyKind;
    }

    /**
     * Whether the connection may carry another message after this one, from the version and the
     * Connection header (RFC 9112 §9.3): 1.1 unless "close", 1.0 only with "keep-alive". A
     * response delimited by close is never reusable.
     */
    public boolean isKeepAlive() {
        return keepAlive;
    }

    /** Request: "Upgrade" is present and listed in Connection (RFC 9110 §7.8), HTTP/1.1 only. */
    public boolean isUpgradeRequested() {
        return upgradePresent && connectionUpgrade && version == HttpVersion.HTTP_1_1;
    }

    /** {@code Expect: 100-continue} in an HTTP/1.1 request (ignored in 1.0, RFC 9110 §10.1.1). */
    public boolean isExpectContinue() {
        return expectContinue && version == HttpVersion.HTTP_1_1;
    }

    public boolean hasConnectionClose() {
        return connectionClose;
    }

    /** Index of the Host header, or -1. */
    public int hostIndex() {
        return hostIndex;
    }

    public int hostStart() {
        return hostIndex < 0 ? -1 : valueStart[hostIndex];
    }

    public int hostEnd() {
        return hostIndex < 0 ? -1 : valueEnd[hostIndex];
    }

    /** Response {@code Keep-Alive: timeout=N} in seconds, or -1 when absent or malformed. */
    public int keepAliveTimeoutSeconds() {
        return keepAliveTimeoutSeconds;
    }

    /** For tests and logs only: allocates. */
    public String text(int start, int end) {
        return new String(bytes, start, end - start, StandardCharsets.ISO_8859_1);
    }
}
