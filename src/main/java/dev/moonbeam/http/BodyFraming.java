package dev.moonbeam.http;

import java.nio.ByteBuffer;

/**
 * Finds where a message body ends, for both directions (RFC 9112 §6.3): Content-Length, chunked
 * (RFC 9112 §7.1: sizes, extensions, trailers validated as they pass), until close, or none. It
 * only advances the buffer's position over the body's raw bytes; the caller relays them as they
 * are, so a chunked body stays chunked.
 *
 * <pre>
 * chunked-body = *chunk last-chunk trailer-section CRLF
 * chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 * chunk-size   = 1*HEXDIG
 * chunk-ext    = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 * </pre>
 *
 * <p>States ({@link State}): DONE when idle or finished; FIXED counts down a length; SIZE..DATA_LF
 * walk one chunk; TRAILER..FINAL_LF the trailer section; UNTIL_CLOSE ends only at
 * {@link #endOfInput()}; ERROR is terminal. Only {@link #setState} changes it. No timeout of its
 * own: the connection's body timeouts apply. Owned by the parser's event-loop thread.
 */
public final class BodyFraming {
    private enum State {
        DONE, FIXED, UNTIL_CLOSE,
        SIZE_START, SIZE, SIZE_WHITESPACE, EXTENSION, SIZE_LF,
        DATA, DATA_CR, DATA_LF,
        TRAILER_START, TRAILER_NAME, TRAILER_VALUE, TRAILER_LF, FINAL_LF,
        ERROR
    }

    /** More hex digits than this cannot be a sane chunk size (15 keeps it below 2^60). */
    private static final int MAX_SIZE_DIGITS = 15;

    private final HttpLimits limits;
    private final boolean bareLfAllowed;
    private State state = State.DONE;
    private long remaining;
    private long total;
    private long maxBody;
    private int sizeDigits;
    private int extensionBytes;
    private int trailerBytes;
    private HttpError error;

    public BodyFraming(HttpLimits limits) {
        this.limits = limits;
        this.bareLfAllowed = limits.allows(Leniency.BARE_LF_LINE_ENDINGS);
    }

    /**
     * Starts framing a body of the given kind. {@code length} is used for Content-Length only;
     * {@code maxBodyBytes} is 0 for unlimited.
     */
    public void start(BodyKind kind, long length, long maxBodyBytes) {
        error = null;
        total = 0;
        maxBody = maxBodyBytes;
        switch (kind) {
            case NONE -> setState(State.DONE);
            case CONTENT_LENGTH -> {
                remaining = length;
                setState(length == 0 ? State.DONE : State.FIXED);
            }
            case CHUNKED -> startChunk();
            case UNTIL_CLOSE -> setState(State.UNTIL_CLOSE);
            default -> throw new IllegalStateException("unknown body kind " + kind);
        }
    }

    public boolean isComplete() {
        return state == State.DONE;
    }

    public HttpError error() {
        return error;
    }

    /** Body bytes seen so far (chunk data only, without framing). */
    public long dataBytes() {
        return total;
    }

    /**
     * Advances {@code in} over this body's bytes. Returns BODY (consumed some, more to come),
     * MESSAGE_COMPLETE (the body ended; the position is just past it), NEED_MORE (nothing was
     * available) or ERROR.
     */
    public ParseStatus advance(ByteBuffer in) {
        switch (state) {
            case DONE:
                return ParseStatus.MESSAGE_COMPLETE;
            case ERROR:
                return ParseStatus.ERROR;
            case UNTIL_CLOSE: {
                int n = in.remaining();
                in.position(in.limit());
                total += n;
                return n == 0 ? ParseStatus.NEED_MORE : ParseStatus.BODY;
            }
            case FIXED: {
                int n = (int) Math.min(remaining, in.remaining());
                in.position(in.position() + n);
                remaining -= n;
                total += n;
                if (remaining == 0) {
                    setState(State.DONE);
                    return ParseStatus.MESSAGE_COMPLETE;
                }
                return n == 0 ? ParseStatus.NEED_MORE : ParseStatus.BODY;
            }
            default:
                return advanceChunked(in);
        }
    }

    /** The peer closed its side: completes an until-close body, fails an unfinished one. */
    public ParseStatus endOfInput() {
        if (state == State.UNTIL_CLOSE || state == State.DONE) {
            setState(State.DONE);
            return ParseStatus.MESSAGE_COMPLETE;
        }
        if (state == State.ERROR) {
            return ParseStatus.ERROR;
        }
        return fail(HttpError.TRUNCATED);
    }

    private ParseStatus advanceChunked(ByteBuffer in) {
        int start = in.position();
        int limit = in.limit();
        int i = start;
        while (i < limit) {
            if (state == State.DATA) {
                int n = (int) Math.min(remaining, limit - i);
                i += n;
                remaining -= n;
                if (remaining == 0) {
                    setState(State.DATA_CR);
                }
                continue;
            }
            byte b = in.get(i++);
            HttpError failure = step(b);
            if (failure != null) {
                in.position(i - 1);
                return fail(failure);
            }
            if (state == State.DONE) {
                in.position(i);
                return ParseStatus.MESSAGE_COMPLETE;
            }
        }
        in.position(i);
        return i == start ? ParseStatus.NEED_MORE : ParseStatus.BODY;
    }

    /** One framing byte; returns an error or null. */
    private HttpError step(byte b) {
        switch (state) {
            case SIZE_START, SIZE: {
                int digit = ByteClass.hex(b);
                if (digit >= 0) {
                    if (state == State.SIZE_START) {
                        setState(State.SIZE);
                    }
                    // Leading zeros count too: an endless "000..." line must not be free.
                    if (++sizeDigits > MAX_SIZE_DIGITS) {
                        return HttpError.BAD_CHUNK_SIZE;
                    }
                    remaining = (remaining << 4) | digit;
                    return null;
                }
                if (state == State.SIZE_START) {
                    return HttpError.BAD_CHUNK_SIZE; // 1*HEXDIG: no sign, no space first
                }
                return afterSize(b);
            }
            case SIZE_WHITESPACE: {
                if (ByteClass.isWhitespace(b)) {
                    return countExtension();
                }
                if (b == ';') {
                    setState(State.EXTENSION);
                    return countExtension();
                }
                return endOfLine(b, State.SIZE_LF, HttpError.BAD_CHUNK_EXTENSION);
            }
            case EXTENSION: {
                if (b == '\r' || b == '\n') {
                    return endOfLine(b, State.SIZE_LF, HttpError.BAD_CHUNK_EXTENSION);
                }
                if (ByteClass.HEAD[b & 0xFF] == ByteClass.CONTROL) {
                    return HttpError.BAD_CHUNK_EXTENSION;
                }
                return countExtension();
            }
            case SIZE_LF: {
                if (b != '\n') {
                    return HttpError.BARE_CR;
                }
                return sizeLineDone();
            }
            case DATA_CR: {
                if (b == '\r') {
                    setState(State.DATA_LF);
                    return null;
                }
                if (b == '\n' && bareLfAllowed) {
                    startChunk();
                    return null;
                }
                return HttpError.BAD_CHUNK_END;
            }
            case DATA_LF: {
                if (b != '\n') {
                    return HttpError.BAD_CHUNK_END;
                }
                startChunk();
                return null;
            }
            case TRAILER_START: {
                if (b == '\r') {
                    setState(State.FINAL_LF);
                    return null;
                }
                if (b == '\n') {
                    if (!bareLfAllowed) {
                        return HttpError.BARE_LF;
                    }
                    setState(State.DONE);
                    return null;
                }
                if (!ByteClass.isTchar(b)) {
                    return HttpError.BAD_TRAILER; // empty name, obs-fold or garbage
                }
                setState(State.TRAILER_NAME);
                return countTrailer();
            }
            case TRAILER_NAME: {
                if (b == ':') {
                    setState(State.TRAILER_VALUE);
                    return countTrailer();
                }
                return ByteClass.isTchar(b) ? countTrailer() : HttpError.BAD_TRAILER;
            }
            case TRAILER_VALUE: {
                if (b == '\r' || b == '\n') {
                    return endOfLine(b, State.TRAILER_LF, HttpError.BAD_TRAILER);
                }
                if (ByteClass.HEAD[b & 0xFF] == ByteClass.CONTROL) {
                    return HttpError.BAD_TRAILER;
                }
                return countTrailer();
            }
            case TRAILER_LF: {
                if (b != '\n') {
                    return HttpError.BARE_CR;
                }
                setState(State.TRAILER_START);
                return null;
            }
            case FINAL_LF: {
                if (b != '\n') {
                    return HttpError.BARE_CR;
                }
                setState(State.DONE);
                return null;
            }
            default:
                throw new IllegalStateException("chunked framing in state " + state);
        }
    }

    private HttpError afterSize(byte b) {
        if (ByteClass.isWhitespace(b)) {
            setState(State.SIZE_WHITESPACE); // BWS before ";" (RFC 9112 §7.1.1)
            return countExtension();
        }
        if (b == ';') {
            setState(State.EXTENSION);
            return countExtension();
        }
        return endOfLine(b, State.SIZE_LF, HttpError.BAD_CHUNK_SIZE);
    }

    /** CR moves to {@code lfState}; a bare LF ends the line only when allowed. */
    private HttpError endOfLine(byte b, State lfState, HttpError otherwise) {
        if (b == '\r') {
            setState(lfState);
            return null;
        }
        if (b == '\n') {
            if (!bareLfAllowed) {
                return HttpError.BARE_LF;
            }
            if (lfState == State.SIZE_LF) {
                return sizeLineDone();
            }
            setState(State.TRAILER_START);
            return null;
        }
        return otherwise;
    }

    private HttpError sizeLineDone() {
        if (remaining == 0) {
            trailerBytes = 0;
            setState(State.TRAILER_START);
            return null;
        }
        total += remaining;
        if (maxBody > 0 && total > maxBody) {
            return HttpError.BODY_TOO_LARGE;
        }
        setState(State.DATA);
        return null;
    }

    private HttpError countExtension() {
        return ++extensionBytes > limits.maxChunkExtensionBytes()
                ? HttpError.CHUNK_EXTENSION_TOO_LONG : null;
    }

    private HttpError countTrailer() {
        return ++trailerBytes > limits.maxHeaderBytes() ? HttpError.TRAILERS_TOO_LARGE : null;
    }

    private void startChunk() {
        remaining = 0;
        sizeDigits = 0;
        extensionBytes = 0;
        setState(State.SIZE_START);
    }

    private ParseStatus fail(HttpError newError) {
        error = newError;
        setState(State.ERROR);
        return ParseStatus.ERROR;
    }

    private void setState(State next) {
        state = next;
    }
}
