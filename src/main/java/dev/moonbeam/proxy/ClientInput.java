package dev.moonbeam.proxy;

import dev.moonbeam.loop.BufferPool;
import dev.moonbeam.loop.PrereadChannel;
import dev.moonbeam.loop.Transport;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The read side of a {@link ClientConnection}: the buffer of bytes from the client (held only while
 * bytes wait in it), whether the client closed its side, and whether reading now can bring anything.
 * One per connection. Loop-owned.
 */
final class ClientInput {
    /** {@link #read()} did not try: the buffer is full, the input closed or nothing can be there yet. */
    static final int NOT_READ = -2;

    private final Worker worker;
    private final Transport transport;
    /** Null for a plain connection. */
    private final ClientTls tls;
    /** Bytes read past a PROXY header, served before the socket's; null without one. */
    private final PrereadChannel readAhead;
    private ByteBuffer in;
    private boolean closed;
    /** False once a read came back short: the socket is drained until the selector says otherwise. */
    private boolean socketReadable = true;

    ClientInput(Worker worker, Transport transport, ClientTls tls, PrereadChannel readAhead) {
        this.worker = worker;
        this.transport = transport;
        this.tls = tls;
        this.readAhead = readAhead;
    }

    /** Bytes from the client not consumed yet (fill mode), or null when none are held. */
    ByteBuffer buffer() {
        return in;
    }

    /** The client will send nothing more (FIN). */
    boolean closed() {
        return closed;
    }

    void markClosed() {
        closed = true;
    }

    /** The selector reported the socket readable, or the TLS engine's state changed without an event. */
    void socketReady() {
        socketReadable = true;
    }

    boolean hasBytes() {
        return in != null && in.position() > 0;
    }

    boolean hasRoom() {
        return in == null || in.hasRemaining();
    }

    boolean hasReadAhead() {
        return readAhead != null && readAhead.hasPreread();
    }

    /** @return bytes read, -1 once the client closed, or {@link #NOT_READ} */
    int read() throws IOException {
        if (closed || (in != null && !in.hasRemaining())) {
            return NOT_READ;
        }
        if (transport.readPaused() || (!socketReadable && !transport.hasBufferedInput() && !hasReadAhead())) {
            // The last read drained the socket; the (level-triggered) selector says when more
            // arrives. Reading anyway cost 1.6 EAGAIN reads per keep-alive request.
            return NOT_READ;
        }
        if (in == null) {
            in = buffers().acquire();
        }
        int room = in.remaining();
        int n = tls != null ? tls.read(in) : transport.read(in);
        if (n < 0) {
            closed = true;
            return -1;
        }
        if (n < room) {
            socketReadable = false;
        }
        return n;
    }

    /** An idle connection holds no buffer. */
    void releaseIfEmpty() {
        in = buffers().releaseIfEmpty(in);
    }

    /** The connection closes: the buffer goes back zeroed. */
    void releaseZeroed() {
        if (in != null) {
            buffers().releaseZeroed(in);
            in = null;
        }
    }

    /** The bytes read so far go to a new owner (HTTP/2): this side holds no buffer any more. */
    ByteBuffer takeBuffer() {
        ByteBuffer taken = in;
        in = null;
        return taken;
    }

    private BufferPool buffers() {
        return worker.loop().buffers();
    }
}
