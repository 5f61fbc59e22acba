package dev.moonbeam.proxy;

import dev.moonbeam.http.BodyKind;
import dev.moonbeam.http.ErrorResponses;
import dev.moonbeam.http.HeadRewriter;
import dev.moonbeam.http.HttpHead;
import dev.moonbeam.http.RedirectResponse;
import dev.moonbeam.loop.BufferPool;
import dev.moonbeam.loop.Transport;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * The write side of a {@link ClientConnection}: the buffer of bytes going to the client (held only
 * while bytes wait in it), what is written into it (response heads and bodies, redirects, tunnel
 * bytes, canned error responses), flushing it through the transport, and the orderly close after
 * a final response; and what the last head told the client about the connection's end. One per
 * connection. Loop-owned.
 */
final class ClientOutput {
    private final Worker worker;
    private final Transport transport;
    private ByteBuffer out;
    /** The last response head (or redirect) told the client this connection closes after it. */
    private boolean closeAfterResponse;
    /**
     * The response being relayed ends when the connection closes (no length, not chunked): if the
     * exchange ends it early, the close must be a reset, or the client would take a FIN for the
     * end of a whole body.
     */
    private boolean closeDelimitedResponse;
    private boolean shutdown;

    ClientOutput(Worker worker, Transport transport) {
        this.worker = worker;
        this.transport = transport;
    }

    /** The buffer of bytes going to the client, acquired on demand. */
    private ByteBuffer out() {
        if (out == null) {
            out = buffers().acquire();
        }
        return out;
    }

    boolean hasPending() {
        return out != null && out.position() > 0;
    }

    /** Room left for bytes to the client; a whole buffer when none is held. */
    int room() {
        return out == null ? buffers().bufferSize() : out.remaining();
    }

    /** The last head said the connection closes after this response. */
    boolean closeAfterResponse() {
        return closeAfterResponse;
    }

    /** The response in progress ends with the connection (see {@link #closeDelimitedResponse}). */
    boolean closeDelimited() {
        return closeDelimitedResponse;
    }

    /** The response is over: the next one's head decides again. */
    void responseEnded() {
        closeAfterResponse = false;
        closeDelimitedResponse = false;
    }

    /** @return bytes queued, or -1 when the head does not fit in one buffer */
    int writeHead(HttpHead request, HttpHead response, HeadRewriter.ClientPersistence persistence) {
        ByteBuffer target = out();
        int before = target.position();
        if (HeadRewriter.writeResponse(request, response, persistence, target) != HeadRewriter.Result.WRITTEN) {
            return -1;
        }
        closeAfterResponse = persistence == HeadRewriter.ClientPersistence.CLOSE
                || !HeadRewriter.clientKeepAlive(request, response);
        closeDelimitedResponse = response.bodyKind() == BodyKind.UNTIL_CLOSE;
        return target.position() - before;
    }

    void writeBody(ByteBuffer source) {
        out().put(source); // HTTP/1.1 relays the backend's framing as it is
    }

    /** @return bytes queued, or -1 when the request cannot be redirected */
    int writeRedirect(HttpHead request, int httpsPort, boolean close) {
        ByteBuffer target = out();
        int before = target.position();
        if (!RedirectResponse.write(request, httpsPort, close, target)) {
            return -1;
        }
        closeAfterResponse = close;
        return target.position() - before;
    }

    /** Moves tunnelled bytes (fill mode) as far as they fit; returns how many. */
    int writeTunnel(ByteBuffer from) {
        from.flip();
        try {
            return BufferPool.copyWhatFits(from, out());
        } finally {
            from.compact();
        }
    }

    /**
     * Queues a canned error response (if the status has one).
     *
     * @return false when no buffer could be had for it
     */
    boolean writeError(int status) {
        if (ErrorResponses.supports(status)) {
            ByteBuffer target;
            try {
                target = out();
            } catch (BufferPool.Exhausted e) {
                return false;
            }
            if (!ErrorResponses.copyTo(status, target)) {
                // Whatever is pending is a partial response we cannot complete; drop it for the error.
                target.clear();
                ErrorResponses.copyTo(status, target);
            }
        }
        return true;
    }

    /** Writes what is pending to the transport and flushes it; true if any of it went. */
    boolean flush() throws IOException {
        boolean moved = false;
        if (out != null && out.position() > 0) {
            out.flip();
            try {
                moved = transport.write(out) > 0;
            } finally {
                out.compact();
            }
        }
        transport.flush();
        return moved;
    }

    /** The FIN (close_notify first for TLS) has been sent. */
    boolean isShutdown() {
        return shutdown;
    }

    /**
     * One step of closing: flush the final response, then FIN (close_notify first for TLS), then
     * read and discard until the client closes too or the grace timer fires. Closing with unread
     * input would make the kernel send RST, which can destroy the response before the client reads
     * it (the reason for nginx's lingering close). Returns true once the socket may close.
     */
    boolean closingStep(ClientInput input, SocketChannel channel) throws IOException {
        if (hasPending()) {
            return false;
        }
        if (!shutdown) {
            shutdown = true;
            transport.shutdownOutput();
        }
        if (!transport.flush()) {
            return false;
        }
        // The direct scratch: a heap one is copied through a temporary direct buffer the JDK
        // allocates, which fails (after a half-second stall) when direct memory is used up.
        if (!input.closed() && !LingeringClose.discardUntilEof(channel, worker.scratch(true))) {
            return false;
        }
        input.markClosed();
        return true;
    }

    /** An idle connection holds no buffer. */
    void releaseIfEmpty() {
        out = buffers().releaseIfEmpty(out);
    }

    /** The connection closes: the buffer goes back zeroed. */
    void releaseZeroed() {
        if (out != null) {
            buffers().releaseZeroed(out);
            out = null;
        }
    }

    /** The connection is handed over to HTTP/2: nothing written here is kept. */
    void release() {
        if (out != null) {
            buffers().release(out);
            out = null;
        }
    }

    private BufferPool buffers() {
        return worker.loop().buffers();
    }
}
