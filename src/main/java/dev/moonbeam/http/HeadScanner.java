package dev.moonbeam.http;

import java.nio.ByteBuffer;

/**
 * Incrementally copies a head into {@link HttpHead} and finds its lines, refusing bad bytes as
 * they arrive: bare CR, bare LF (unless {@link Leniency#BARE_LF_LINE_ENDINGS}), NUL and other
 * controls (RFC 9112 §2.2, RFC 9110 §5.5), and the size limits (414 for the start line, 431 for
 * the block and the field count). A request's lines are also parsed as each ends (request line,
 * field-line syntax), so every error is found at the byte or line that causes it, whatever the
 * split of the input. It never consumes a byte past the empty line that ends the
 * head, so the body and pipelined messages stay in the caller's buffer.
 *
 * <p>States: {@link State#IN_LINE} and {@link State#AFTER_CR}; only {@link #setState} changes it.
 * Owned by the parser's event-loop thread.
 */
final class HeadScanner {
    /** Whether the head is a request (leading empty lines skipped, 414) or a response. */
    enum Direction { REQUEST, RESPONSE }

    private enum State { IN_LINE, AFTER_CR }

    /**
     * Bytes copied and scanned per step: the head usually ends early, and copying the whole
     * remaining limit from a buffer full of body bytes would waste work.
     */
    private static final int SLICE_BYTES = 1024;

    private final HttpHead head;
    private final HttpLimits limits;
    private final Direction direction;
    private final boolean bareLfAllowed;
    private State state;
    private int currentLineStart;
    private HttpError error;

    HeadScanner(HttpHead head, HttpLimits limits, Direction direction) {
        this.head = head;
        this.limits = limits;
        this.direction = direction;
        this.bareLfAllowed = limits.allows(Leniency.BARE_LF_LINE_ENDINGS);
        reset();
    }

    void reset() {
        head.clear();
        state = State.IN_LINE;
        currentLineStart = 0;
        error = null;
    }

    HttpError error() {
        return error;
    }

    /**
     * Consumes head bytes from {@code in}. Returns NEED_MORE, HEAD_COMPLETE (position just past
     * the final CRLF) or ERROR.
     */
    ParseStatus scan(ByteBuffer in) {
        ParseStatus status = ParseStatus.NEED_MORE;
        while (status == ParseStatus.NEED_MORE && in.hasRemaining()) {
            int room = limits.maxHeaderBytes() - head.length;
            status = scanSlice(in, Math.min(Math.min(in.remaining(), room), SLICE_BYTES));
        }
        return status;
    }

    /** Copies and scans {@code count} more bytes (at least one, within the head limit). */
    private ParseStatus scanSlice(ByteBuffer in, int count) {
        int from = head.length;
        head.ensureCapacity(from + count);
        byte[] bytes = head.bytes;
        in.get(in.position(), bytes, from, count); // absolute: position moves only over the head
        int end = from + count;
        int maxLine = limits.maxRequestLineBytes();
        for (int i = from; i < end; i++) {
            if (state == State.IN_LINE) {
                // Most bytes are ordinary and need nothing but the start-line bound: skip them in
                // a tight loop; the byte it stops at (special, or at the bound) gets the full checks.
                int stop = head.lineCount == 0 ? Math.min(end, currentLineStart + maxLine) : end;
                while (i < stop && ByteClass.HEAD[bytes[i] & 0xFF] == ByteClass.ORDINARY) {
                    i++;
                }
                if (i == end) {
                    break;
                }
            }
            byte b = bytes[i];
            byte cls = ByteClass.HEAD[b & 0xFF];
            if (state == State.AFTER_CR) {
                if (cls != ByteClass.LF) {
                    return fail(HttpError.BARE_CR);
                }
                setState(State.IN_LINE);
                ParseStatus status = endLine(i - 1, i);
                if (status != ParseStatus.NEED_MORE) {
                    return finish(status, in, from, i);
                }
                continue;
            }
            if (cls != ByteClass.ORDINARY) {
                if (cls == ByteClass.CR) {
                    setState(State.AFTER_CR);
                } else if (cls == ByteClass.LF && bareLfAllowed) {
                    ParseStatus status = endLine(i, i);
                    if (status != ParseStatus.NEED_MORE) {
                        return finish(status, in, from, i);
                    }
                    continue;
                } else {
                    return fail(cls == ByteClass.LF ? HttpError.BARE_LF : HttpError.CONTROL_BYTE);
                }
            }
            if (head.lineCount == 0 && i - currentLineStart >= maxLine
                    && !(state == State.AFTER_CR && i - currentLineStart == maxLine)) {
                return fail(direction == Direction.REQUEST
                        ? HttpError.REQUEST_LINE_TOO_LONG : HttpError.BAD_STATUS_LINE);
            }
        }
        head.length = end;
        in.position(in.position() + count);
        if (end == limits.maxHeaderBytes()) {
            // The head filled its limit without ending; RFC 9110 §15.5.32 (431).
            return fail(HttpError.HEADERS_TOO_LARGE);
        }
        return ParseStatus.NEED_MORE;
    }

    private ParseStatus finish(ParseStatus status, ByteBuffer in, int from, int lastIndex) {
        if (status == ParseStatus.ERROR) {
            return status;
        }
        head.length = lastIndex + 1;
        in.position(in.position() + (lastIndex + 1 - from));
        return status;
    }

    /** A line ended at {@code end} (exclusive, before CR/LF); {@code lf} is the LF's index. */
    private ParseStatus endLine(int end, int lf) {
        if (end == currentLineStart) {
            if (head.lineCount > 0) {
                return ParseStatus.HEAD_COMPLETE;
            }
            if (direction == Direction.RESPONSE) {
                return fail(HttpError.BAD_STATUS_LINE);
            }
            // RFC 9112 §2.2: a server SHOULD ignore empty lines before the request line.
            currentLineStart = lf + 1;
            return ParseStatus.NEED_MORE;
        }
        if (head.lineCount > limits.maxHeaderCount()) {
            return fail(HttpError.TOO_MANY_HEADERS);
        }
        head.lineStart[head.lineCount] = currentLineStart;
        head.lineEnd[head.lineCount] = end;
        head.lineCount++;
        currentLineStart = lf + 1;
        if (direction == Direction.REQUEST) {
            // A request's lines are judged as each ends, not when the head does: a client that
            // sent a bad line and waits for the answer would otherwise get it only from the head
            // timeout, as a 408 (nginx and HAProxy answer 400 at the offending line too).
            HttpError invalid = head.lineCount == 1
                    ? RequestLine.parse(head) : FieldParser.parseField(head, head.lineCount - 2);
            if (invalid != null) {
                return fail(invalid);
            }
        }
        return ParseStatus.NEED_MORE;
    }

    private ParseStatus fail(HttpError newError) {
        error = newError;
        return ParseStatus.ERROR;
    }

    private void setState(State next) {
        state = next;
    }
}
