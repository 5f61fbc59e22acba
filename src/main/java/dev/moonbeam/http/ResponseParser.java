package dev.moonbeam.http;

import java.nio.ByteBuffer;

/**
 * Incremental, strict HTTP/1.1 response parser for backend responses (RFC 9112 §4, §6.3).
 * Before each response the caller says which request it answers
 * ({@link #expectResponseTo(RequestMethod)}), because a response to HEAD has no body whatever
 * its headers say.
 *
 * <p>States ({@link Phase}): HEAD (backend response timeout), BODY (until the framing ends or,
 * for close-delimited bodies, until {@link #endOfInput()}), COMPLETE until
 * {@link #reset()}/{@link #continueAfterInterim()}, ERROR (terminal). Only {@link #setPhase}
 * changes it. A 1xx other than 101 is interim ({@link #isInterim()}): relay it and call
 * {@link #continueAfterInterim()} to parse the final response. After a 101 the connection is a
 * byte tunnel and this parser is no longer used.
 *
 * <p>All errors are reported as status 502 (the client gets Bad Gateway); {@link #error()} names
 * the fault. Owned by one event-loop thread; no locks.
 */
public final class ResponseParser {
    private enum Phase { HEAD, BODY, COMPLETE, ERROR }

    private static final int BAD_GATEWAY = 502;

    private final HttpHead head;
    private final HeadScanner scanner;
    private final BodyFraming framing;
    private RequestMethod requestMethod = RequestMethod.GET;
    private Phase phase;
    private HttpError error;

    public ResponseParser(HttpLimits limits) {
        this.head = new HttpHead(limits);
        this.scanner = new HeadScanner(head, limits, HeadScanner.Direction.RESPONSE);
        this.framing = new BodyFraming(limits);
        reset();
    }

    /** Prepares for the response to a new request made with {@code method}. */
    public void expectResponseTo(RequestMethod method) {
        reset();
        requestMethod = method;
    }

    /** Prepares for the next response; the request method stays as last set. */
    public void reset() {
        scanner.reset();
        framing.start(BodyKind.NONE, 0, 0);
        error = null;
        setPhase(Phase.HEAD);
    }

    /** After an interim 1xx response: parse the next head for the same request. */
    public void continueAfterInterim() {
        reset();
    }

    public HttpHead head() {
        return head;
    }

    /** 1xx other than 101: a final response follows (RFC 9110 §15.2). */
    public boolean isInterim() {
        int status = head.statusCode;
        return status >= 100 && status < 200 && status != 101;
    }

    /** 101: after this head the connection carries another protocol (RFC 9110 §15.2.2). */
    public boolean isSwitchingProtocols() {
        return head.statusCode == 101;
    }

    public ParseStatus parse(ByteBuffer in) {
        switch (phase) {
            case HEAD: {
                ParseStatus status = scanner.scan(in);
                if (status == ParseStatus.ERROR) {
                    return fail(scanner.error());
                }
                if (status == ParseStatus.HEAD_COMPLETE) {
                    HttpError invalid = completeHead();
                    if (invalid != null) {
                        return fail(invalid);
                    }
                    framing.start(head.bodyKind, head.contentLength, 0);
                    setPhase(Phase.BODY);
                }
                return status;
            }
            case BODY: {
                ParseStatus status = framing.advance(in);
                if (status == ParseStatus.MESSAGE_COMPLETE) {
                    setPhase(Phase.COMPLETE);
                } else if (status == ParseStatus.ERROR) {
                    return fail(framing.error());
                }
                return status;
            }
            case COMPLETE:
                return ParseStatus.MESSAGE_COMPLETE;
            case ERROR:
                return ParseStatus.ERROR;
            default:
                throw new IllegalStateException("response parser in phase " + phase);
        }
    }

    /** The backend closed: ends a close-delimited body; anything else unfinished is an error. */
    public ParseStatus endOfInput() {
        switch (phase) {
            case HEAD:
                return fail(HttpError.TRUNCATED);
            case BODY: {
                ParseStatus status = framing.endOfInput();
                if (status == ParseStatus.ERROR) {
                    return fail(framing.error());
                }
                setPhase(Phase.COMPLETE);
                return status;
            }
            case COMPLETE:
                return ParseStatus.MESSAGE_COMPLETE;
            case ERROR:
                return ParseStatus.ERROR;
            default:
                throw new IllegalStateException("response parser in phase " + phase);
        }
    }

    /** After ERROR: always 502, what the client is told. */
    public int errorStatus() {
        return error == null ? 0 : BAD_GATEWAY;
    }

    public String errorReason() {
        return error == null ? null : error.reason();
    }

    public HttpError error() {
        return error;
    }

    private HttpError completeHead() {
        HttpError invalid = parseStatusLine();
        if (invalid == null) {
            invalid = FieldParser.parseFields(head);
        }
        if (invalid == null) {
            invalid = FieldParser.decodeFacts(head);
        }
        if (invalid != null) {
            return invalid;
        }
        if (head.transferEncodingPresent) {
            if (head.version == HttpVersion.HTTP_1_0) {
                return HttpError.TE_IN_HTTP_1_0; // RFC 9112 §6.1: faulty framing
            }
            if (head.contentLength >= 0) {
                return HttpError.CL_AND_TE; // RFC 9112 §6.3 item 3: response splitting risk
            }
        }
        int status = head.statusCode;
        boolean bodiless = requestMethod == RequestMethod.HEAD
                || status < 200 || status == 204 || status == 304; // RFC 9112 §6.3 item 1
        if (bodiless) {
            head.bodyKind = BodyKind.NONE;
        } else if (head.transferEncodingPresent) {
            // Chunked last: chunked. Otherwise read until close (RFC 9112 §6.3 item 4).
            head.bodyKind = head.chunked ? BodyKind.CHUNKED : BodyKind.UNTIL_CLOSE;
        } else if (head.contentLength >= 0) {
            head.bodyKind = head.contentLength == 0 ? BodyKind.NONE : BodyKind.CONTENT_LENGTH;
        } else {
            head.bodyKind = BodyKind.UNTIL_CLOSE;
        }
        boolean versionAllows = head.version == HttpVersion.HTTP_1_1
                ? !head.connectionClose
                : head.connectionKeepAlive && !head.connectionClose;
        head.keepAlive = versionAllows && head.bodyKind != BodyKind.UNTIL_CLOSE;
        return null;
    }

    /** status-line = HTTP-version SP 3DIGIT SP [ reason-phrase ]; a missing final SP is tolerated. */
    private HttpError parseStatusLine() {
        byte[] bytes = head.bytes;
        int start = head.lineStart[0];
        int end = head.lineEnd[0];
        int versionEnd = start;
        while (versionEnd < end && bytes[versionEnd] != ' ') {
            versionEnd++;
        }
        head.version = HttpVersion.match(bytes, start, versionEnd);
        if (head.version == null || end - versionEnd < 4) {
            return HttpError.BAD_STATUS_LINE;
        }
        int s = versionEnd + 1;
        int code = 0;
        for (int i = s; i < s + 3; i++) {
            if (!ByteClass.isDigit(bytes[i])) {
                return HttpError.BAD_STATUS_LINE;
            }
            code = code * 10 + (bytes[i] - '0');
        }
        if (code < 100 || code > 599 || (s + 3 < end && bytes[s + 3] != ' ')) {
            return HttpError.BAD_STATUS_LINE;
        }
        head.statusCode = code;
        return null;
    }

    private ParseStatus fail(HttpError newError) {
        error = newError;
        setPhase(Phase.ERROR);
        return ParseStatus.ERROR;
    }

    private void setPhase(Phase next) {
        phase = next;
    }
}
