package dev.moonbeam.http;

import java.nio.ByteBuffer;

/**
 * Incremental, strict HTTP/1.1 request parser (RFC 9112). Feed it whatever bytes arrived; it
 * keeps its place across calls and any split of the same bytes gives the same result.
 *
 * <p>States ({@link Phase}): HEAD until the empty line (the request-head timeout applies), BODY
 * until the framing ends (body timeout), COMPLETE until {@link #reset()} (it consumes nothing, so
 * pipelined requests wait in the caller's buffer), ERROR (terminal: answer
 * {@link #errorStatus()} and close). Only {@link #setPhase} changes the phase.
 *
 * <p>Owned by one event-loop thread; no locks. Nothing throws for bad input.
 */
public final class RequestParser {
    private enum Phase { HEAD, BODY, COMPLETE, ERROR }

    private final HttpLimits limits;
    private final HttpHead head;
    private final HeadScanner scanner;
    private final BodyFraming framing;
    private Phase phase;
    private HttpError error;

    public RequestParser(HttpLimits limits) {
        this.limits = limits;
        this.head = new HttpHead(limits);
        this.scanner = new HeadScanner(head, limits, HeadScanner.Direction.REQUEST);
        this.framing = new BodyFraming(limits);
        reset();
    }

    public HttpLimits limits() {
        return limits;
    }

    /** Prepares for the next request on the same connection. */
    public void reset() {
        scanner.reset();
        framing.start(BodyKind.NONE, 0, 0);
        error = null;
        setPhase(Phase.HEAD);
    }

    /** The parsed head; valid after HEAD_COMPLETE until {@link #reset()}. */
    public HttpHead head() {
        return head;
    }

    /** {@code in} is in read mode; its position advances over what this request consumed. */
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
                    framing.start(head.bodyKind, head.contentLength, limits.maxBodyBytes());
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
                throw new IllegalStateException("request parser in phase " + phase);
        }
    }

    /**
     * The client closed its side. Idle between requests: NEED_MORE (a clean close). Mid-message:
     * ERROR {@link HttpError#TRUNCATED}.
     */
    public ParseStatus endOfInput() {
        switch (phase) {
            case HEAD:
                return head.length == 0 ? ParseStatus.NEED_MORE : fail(HttpError.TRUNCATED);
            case BODY: {
                // A request body is never delimited by close (RFC 9112 §6.3 item 7).
                return framing.isComplete() ? completeNow() : fail(HttpError.TRUNCATED);
            }
            case COMPLETE:
                return ParseStatus.MESSAGE_COMPLETE;
            case ERROR:
                return ParseStatus.ERROR;
            default:
                throw new IllegalStateException("request parser in phase " + phase);
        }
    }

    /** After ERROR: 400, 413, 414, 431 or 501. */
    public int errorStatus() {
        return error == null ? 0 : error.status();
    }

    /** After ERROR: a short constant reason. */
    public String errorReason() {
        return error == null ? null : error.reason();
    }

    public HttpError error() {
        return error;
    }

    private ParseStatus completeNow() {
        setPhase(Phase.COMPLETE);
        return ParseStatus.MESSAGE_COMPLETE;
    }

    private HttpError completeHead() {
        // The request line and each field line were parsed as they ended (HeadScanner).
        head.headerCount = head.lineCount - 1;
        HttpError invalid = FieldParser.decodeFacts(head);
        if (invalid != null) {
            return invalid;
        }
        if (head.transferEncodingPresent) {
            // RFC 9112 §6.1: TE in 1.0 is faulty framing; TE with CL is the smuggling classic
            // (§6.3 item 3); a request may only be chunked, once and last (§6.3 item 4).
            if (head.version == HttpVersion.HTTP_1_0) {
                return HttpError.TE_IN_HTTP_1_0;
            }
            if (head.contentLength >= 0) {
                return HttpError.CL_AND_TE;
            }
            if (!head.chunked || head.transferCodingCount != 1) {
                return HttpError.BAD_TRANSFER_ENCODING;
            }
        }
        // RFC 9112 §3.2: exactly one Host in 1.1; never two in any version.
        if (head.hostCount > 1) {
            return HttpError.DUPLICATE_HOST;
        }
        if (head.hostCount == 0 && head.version == HttpVersion.HTTP_1_1) {
            return HttpError.MISSING_HOST;
        }
        if (head.chunked) {
            head.bodyKind = BodyKind.CHUNKED;
        } else if (head.contentLength > 0) {
            if (limits.maxBodyBytes() > 0 && head.contentLength > limits.maxBodyBytes()) {
                return HttpError.BODY_TOO_LARGE;
            }
            head.bodyKind = BodyKind.CONTENT_LENGTH;
        } else {
            head.bodyKind = BodyKind.NONE;
        }
        head.keepAlive = head.version == HttpVersion.HTTP_1_1
                ? !head.connectionClose
                : head.connectionKeepAlive && !head.connectionClose;
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
