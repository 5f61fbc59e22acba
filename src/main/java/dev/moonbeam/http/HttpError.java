package dev.moonbeam.http;

/**
 * Every way a message can be rejected, with the status a server answers and a short constant
 * reason (no allocation on the error path). A response parser reports all of these as 502 to the
 * client; the reason still names what was wrong.
 */
public enum HttpError {
    BAD_REQUEST_LINE(400, "malformed request line"),
    BAD_METHOD(400, "invalid method"),
    BAD_TARGET(400, "invalid request target"),
    BAD_VERSION(400, "unsupported HTTP version"),
    CONNECT_REFUSED(501, "CONNECT is not supported"),
    REQUEST_LINE_TOO_LONG(414, "request line too long"),
    HEADERS_TOO_LARGE(431, "header block too large"),
    TOO_MANY_HEADERS(431, "too many header fields"),
    BARE_CR(400, "bare CR"),
    BARE_LF(400, "bare LF"),
    CONTROL_BYTE(400, "control character"),
    OBS_FOLD(400, "obsolete line folding"),
    WHITESPACE_AFTER_START_LINE(400, "whitespace after start line"),
    WHITESPACE_BEFORE_COLON(400, "whitespace before colon"),
    BAD_HEADER_NAME(400, "empty or invalid header name"),
    BAD_HEADER_LINE(400, "header line without colon"),
    MISSING_HOST(400, "missing Host"),
    DUPLICATE_HOST(400, "more than one Host"),
    BAD_HOST(400, "invalid Host"),
    CL_AND_TE(400, "Content-Length with Transfer-Encoding"),
    BAD_CONTENT_LENGTH(400, "invalid Content-Length"),
    DUPLICATE_CONTENT_LENGTH(400, "repeated Content-Length"),
    BAD_TRANSFER_ENCODING(400, "unsupported Transfer-Encoding"),
    TE_IN_HTTP_1_0(400, "Transfer-Encoding in HTTP/1.0"),
    BAD_CONNECTION_HEADER(400, "invalid Connection header"),
    BODY_TOO_LARGE(413, "body too large"),
    BAD_CHUNK_SIZE(400, "invalid chunk size"),
    BAD_CHUNK_EXTENSION(400, "invalid chunk extension"),
    CHUNK_EXTENSION_TOO_LONG(400, "chunk extension too long"),
    BAD_CHUNK_END(400, "chunk data not followed by CRLF"),
    BAD_TRAILER(400, "invalid trailer field"),
    TRAILERS_TOO_LARGE(431, "trailer section too large"),
    TRUNCATED(400, "connection closed mid-message"),
    BAD_STATUS_LINE(502, "malformed status line");

    private final int status;
    private final String reason;

    HttpError(int status, String reason) {
        this.status = status;
        this.reason = reason;
    }

    /** The status a server answers a request with this error. */
    public int status() {
        return status;
    }

    public String reason() {
        return reason;
    }
}
