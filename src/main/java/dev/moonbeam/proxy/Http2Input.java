package dev.moonbeam.proxy;

import dev.moonbeam.h2.FrameListener;
import dev.moonbeam.h2.FrameReader;
import dev.moonbeam.h2.ReadStatus;
import dev.moonbeam.loop.BufferPool;
import dev.moonbeam.loop.Transport;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * What an HTTP/2 connection has received and not yet framed: a pooled buffer (fill mode between
 * calls, held only while it holds bytes), whether the socket may have more, and whether the client
 * closed its side. {@link Http2Connection} decides when to read and how much to feed the
 * {@link FrameReader}; this holder does the buffer work, the input-side twin of {@link Http2Output}.
 *
 * <p>Loop-owned, one per {@link Http2Connection}.
 */
final class Http2Input {
    private final BufferPool buffers;
    private ByteBuffer in;
    /** Clear once a read came back short: nothing more until the selector reports OP_READ. */
    private boolean socketReadable = true;
    private boolean closed;

    /** {@code received}: bytes decrypted before the hand-over (fill mode; ownership passes here; may be null). */
    Http2Input(BufferPool buffers, ByteBuffer received) {
        this.buffers = buffers;
        this.in = received;
    }

    /** The selector reported OP_READ. */
    void socketReadable() {
        socketReadable = true;
    }

    /** The client closed its side (or the closing handshake no longer waits for it). */
    boolean isClosed() {
        return closed;
    }

    void markClosed() {
        closed = true;
    }

    /** Room for another read: no buffer yet, or one not full. */
    boolean hasRoom() {
        return in == null || in.hasRemaining();
    }

    /** Bytes received and not yet framed. */
    int buffered() {
        return in == null ? 0 : in.position();
    }

    /**
     * One read when the socket or the TLS engine may have bytes and there is room; the buffer is
     * taken from the pool only now.
     *
     * @return true if bytes came or the client closed
     */
    boolean read(Transport transport) throws IOException {
        if (!(socketReadable || transport.hasBufferedInput()) || !hasRoom()) {
            return false;
        }
        if (in == null) {
            in = buffers.acquire();
        }
        int room = in.remaining();
        int n = transport.read(in); // socket I/O (through TLS)
        if (n < 0) {
            closed = true;
            return true;
        }
        if (n < room) {
            socketReadable = false; // a short (or empty) read drained the socket
        }
        return n > 0;
    }

    /**
     * Gives at most {@code budget} buffered bytes to {@code reader}; what it consumed leaves the
     * buffer, a partial frame header stays for the next call.
     */
    ReadStatus feed(FrameReader reader, FrameListener listener, int budget) {
        in.flip();
        int limit = in.limit();
        try {
            in.limit(Math.min(limit, in.position() + budget));
            return reader.read(in, listener);
        } finally {
            in.limit(limit);
            in.compact();
        }
    }

    /** Between events an empty input holds no buffer. */
    void releaseIfEmpty() {
        in = buffers.releaseIfEmpty(in);
    }

    /** On close: the buffer goes back zeroed (it held decrypted request bytes). */
    void release() {
        if (in != null) {
            buffers.releaseZeroed(in);
            in = null;
        }
    }
}
