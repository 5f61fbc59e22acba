package dev.moonbeam.h2;

import java.nio.ByteBuffer;

/**
 * Finds the payload inside a chunked HTTP/1.1 response body (RFC 9112 §7.1) so an HTTP/2 stream
 * can send it as DATA frames without the chunk framing. The bytes were already validated by the
 * response parser as they arrived, so this only walks the framing. The trailer section is kept (up
 * to {@link #MAX_TRAILER_BYTES}; a longer one is dropped whole, as RFC 9110 §6.5.1 lets a proxy do)
 * so the stream can send it as a trailing HEADERS frame.
 *
 * <p>States: SIZE (hex digits), EXTENSION (to the end of the size line), DATA (payload left in the
 * chunk), DATA_END (the CRLF after it), TRAILER_START / TRAILER_LINE, DONE. Owned by one loop thread.
 */
public final class ChunkedPayload {
    private enum State { SIZE, EXTENSION, DATA, DATA_END, TRAILER_START, TRAILER_LINE, DONE }

    public static final int MAX_TRAILER_BYTES = 8192;

    private State state = State.SIZE;
    private long size;
    private long remaining;
    /** Allocated at the first trailer byte: most responses have none. */
    private byte[] trailers;
    private int trailerLength;
    private boolean trailersTooLong;

    public void reset() {
        state = State.SIZE;
        size = 0;
        remaining = 0;
        trailerLength = 0;
        trailersTooLong = false;
    }

    /** The trailer section's field lines as received (CRLF or LF ended); see {@link #trailerLength()}. */
    public byte[] trailerBytes() {
        return trailers;
    }

    /** Bytes of trailer field lines kept; 0 when there were none or too many. */
    public int trailerLength() {
        return trailersTooLong ? 0 : trailerLength;
    }

    /** The last chunk and its trailer section have been walked. */
    public boolean isDone() {
        return state == State.DONE;
    }

    /**
     * Skips framing from {@code src}'s position (read mode) up to the next payload byte.
     *
     * @return how many payload bytes start at the new position (0 when this slice has no more)
     */
    public int skipFraming(ByteBuffer src) {
        while (src.hasRemaining()) {
            if (state == State.DATA) {
                return (int) Math.min(remaining, src.remaining());
            }
            if (state == State.DONE) {
                return 0;
            }
            step(src.get());
        }
        return 0;
    }

    /** The caller consumed {@code n} payload bytes (at most what {@link #skipFraming} offered). */
    public void took(int n) {
        remaining -= n;
        if (remaining == 0) {
            state = State.DATA_END;
        }
    }

    private void step(byte b) {
        switch (state) {
            case SIZE -> {
                int digit = Character.digit(b, 16);
                if (digit >= 0) {
                    size = (size << 4) | digit;
                } else if (b == '\n') {
                    endOfSizeLine();
                } else {
                    state = State.EXTENSION; // ';' extensions, whitespace, the CR
                }
            }
            case EXTENSION -> {
                if (b == '\n') {
                    endOfSizeLine();
                }
            }
            case DATA_END -> {
                if (b == '\n') {
                    state = State.SIZE;
                    size = 0;
                }
            }
            case TRAILER_START -> {
                if (b == '\n') {
                    state = State.DONE;
                } else if (b != '\r') {
                    state = State.TRAILER_LINE;
                    keepTrailer(b);
                }
            }
            case TRAILER_LINE -> {
                keepTrailer(b);
                if (b == '\n') {
                    state = State.TRAILER_START;
                }
            }
            default -> throw new IllegalStateException("chunked payload in state " + state);
        }
    }

    private void keepTrailer(byte b) {
        if (trailers == null) {
            trailers = new byte[MAX_TRAILER_BYTES];
        }
        if (trailerLength < trailers.length) {
            trailers[trailerLength++] = b;
        } else {
            trailersTooLong = true;
        }
    }

    private void endOfSizeLine() {
        if (size == 0) {
            state = State.TRAILER_START;
        } else {
            remaining = size;
            state = State.DATA;
        }
    }
}
