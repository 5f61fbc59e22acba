package dev.moonbeam.proxy;

import dev.moonbeam.h2.ChunkedPayload;
import dev.moonbeam.h2.ErrorCode;
import dev.moonbeam.http.BodyKind;
import dev.moonbeam.http.ForwardContext;
import dev.moonbeam.http.HttpHead;
import dev.moonbeam.http.RequestParser;
import dev.moonbeam.loop.EventLoop;
import dev.moonbeam.loop.Timeout;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * One HTTP/2 stream as the client side of one {@link Exchange} (RFC 9113 §5.1, §8.1). The request
 * arrives as an HTTP/1.1 head (built from its HEADERS by the connection) plus DATA payload, which
 * this stream frames as the head says (Content-Length: as is; otherwise chunked) into {@link #in}
 * for the exchange; the response leaves as HEADERS and DATA frames on the connection, chunk
 * framing removed, within both flow-control windows.
 *
 * <p>States: OPEN (request body may still arrive; the exchange's timeouts apply), HALF_CLOSED
 * (END_STREAM received), DONE (response ended or stream reset; the connection frees it at its
 * next sweep). Reused by its connection for later streams. Loop-owned.
 */
final class Http2Stream implements ClientSide {
    enum State { OPEN, HALF_CLOSED, DONE }

    private static final byte[] LAST_CHUNK = {'0', '\r', '\n', '\r', '\n'};
    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private final Http2Connection connection;
    private final ChunkedPayload chunkedResponse = new ChunkedPayload();
    int id;
    State state = State.DONE;
    RequestParser parser;
    Exchange exchange;
    /** The request head and framed body bytes for the exchange (fill mode). */
    ByteBuffer in;
    /** DATA payload not yet framed into {@link #in}; never more than our receive window. */
    private ByteBuffer raw;
    /** Bytes the client may still send on this stream before we give credit (RFC 9113 §6.9). */
    int receiveWindow;
    /** Bytes we may still send on this stream. */
    long sendWindow;
    private long declaredLength;
    private long bodyReceived;
    private boolean chunkedRequest;
    private boolean bodyEnded;
    private boolean lastChunkWritten;
    private boolean headersSent;
    private boolean endStreamSent;
    private boolean responseChunked;
    private boolean requestComplete;
    /** Request trailer field lines for the last chunk; allocated only for a request that has them. */
    private ByteBuffer trailerFields;
    /** {@code timeouts.client_body} (0: off): the request body must arrive whole within it after the head. */
    private long bodyDeadlineNanos;
    /** Made on first use: the deadline is off by default, and streams are reused. */
    private Timeout bodyTimeout;
    /** An encoded header block that waits for room in the connection's output, or null. */
    private ByteBuffer pendingBlock;
    private boolean pendingEndStream;
    /**
     * Something happened that may let this stream move (a frame for it, a backend event, its
     * window grew, or it moved last pass and may move more): the next pump visits it. Streams
     * that wait for output room are visited again through {@link Http2StreamTable#pumpAll}.
     */
    boolean pumpWanted;

    Http2Stream(Http2Connection connection) {
        this.connection = connection;
    }

    /** Opens stream {@code streamId}; the head will be written into {@link #in}. */
    void open(int streamId, RequestParser requestParser, Exchange boundExchange, long initialSendWindow, int initialReceiveWindow,
            long bodyDeadline) {
        id = streamId;
        bodyDeadlineNanos = bodyDeadline;
        state = State.OPEN;
        parser = requestParser;
        exchange = boundExchange;
        sendWindow = initialSendWindow;
        receiveWindow = initialReceiveWindow;
        declaredLength = -1;
        bodyReceived = 0;
        chunkedRequest = false;
        bodyEnded = false;
        lastChunkWritten = false;
        headersSent = false;
        endStreamSent = false;
        responseChunked = false;
        requestComplete = false;
        pendingBlock = null;
        pumpWanted = true;
        if (trailerFields != null) {
            trailerFields.clear();
        }
        in = connection.buffers().acquire();
    }

    void wantPump() {
        pumpWanted = true;
    }

    /** After the head was built: how the body reaches the exchange. */
    void bodyFraming(long contentLength, boolean chunked, boolean endStream) {
        declaredLength = contentLength;
        chunkedRequest = chunked;
        if (endStream) {
            endOfBody();
        }
    }

    boolean isReceiving() {
        return state == State.OPEN;
    }

    /**
     * DATA payload for this stream (already debited from its window by the connection).
     *
     * @return null, or the reason this is a stream error (RFC 9113 §8.1.1: more or less than Content-Length)
     */
    String data(ByteBuffer src, int offset, int length, boolean endStream) {
        pumpWanted = true;
        bodyReceived += length;
        if (declaredLength >= 0 && bodyReceived > declaredLength) {
            return "DATA beyond content-length";
        }
        if (length > 0) {
            if (raw == null) {
                raw = connection.bodyBuffers().acquire();
            }
            if (length > raw.remaining()) {
                return "DATA beyond the stream window"; // the window check makes this unreachable; never overflow
            }
            raw.put(raw.position(), src, offset, length);
            raw.position(raw.position() + length);
        }
        if (endStream) {
            if (declaredLength >= 0 && bodyReceived != declaredLength) {
                return "END_STREAM before content-length";
            }
            endOfBody();
        }
        return null;
    }

    /**
     * Trailers ended the request (RFC 9113 §8.1). Their fields were written to {@link #trailerFields}
     * by the connection when the body goes to the backend chunked; otherwise they are dropped.
     *
     * @return null, or why this is a stream error (a body short of its Content-Length)
     */
    String trailersEnd() {
        if (declaredLength >= 0 && bodyReceived != declaredLength) {
            return "END_STREAM before content-length";
        }
        endOfBody();
        return null;
    }

    /** Whether request trailers can reach the backend: only a chunked body carries them. */
    boolean carriesTrailers() {
        return chunkedRequest;
    }

    /** Field lines "name: value\r\n" of the request trailers, written into the last chunk. */
    ByteBuffer trailerFields() {
        if (trailerFields == null) {
            trailerFields = ByteBuffer.allocate(Http2Connection.MAX_REQUEST_TRAILER_BYTES);
        }
        return trailerFields;
    }

    /** END_STREAM (on DATA or on trailers): the body is whole. */
    void endOfBody() {
        pumpWanted = true;
        bodyEnded = true;
        if (state == State.OPEN) {
            state = State.HALF_CLOSED;
        }
        cancelBodyDeadline();
    }

    /**
     * The head went to the exchange: with {@code timeouts.client_body} set and a body still to
     * come (no END_STREAM yet), its deadline starts, as for HTTP/1.1.
     */
    void startBodyDeadline() {
        if (bodyDeadlineNanos <= 0 || state != State.OPEN || exchange == null) {
            return;
        }
        if (bodyTimeout == null) {
            bodyTimeout = new Timeout(this::bodyTimedOut);
        }
        EventLoop loop = connection.loop();
        loop.timers().schedule(bodyTimeout, loop.now() + bodyDeadlineNanos);
    }

    private void cancelBodyDeadline() {
        if (bodyTimeout != null) {
            connection.loop().timers().cancel(bodyTimeout);
        }
    }

    /** The body did not arrive whole in time: 408 on this stream only; the connection's other streams go on. */
    private void bodyTimedOut() {
        if (state != State.OPEN || exchange == null) {
            return;
        }
        if (exchange.clientBodyTimedOut()) {
            // Still waiting for a backend: none of that time was the client's to send in.
            startBodyDeadline();
        }
        progress();
    }

    /**
     * Frames buffered payload into {@link #in} as far as it fits.
     *
     * @return bytes taken from the raw buffer, which the connection returns to the client as credit
     */
    int frameBody() {
        if (in == null) {
            return 0;
        }
        int taken = 0;
        if (raw != null && raw.position() > 0) {
            int overhead = chunkedRequest ? 10 : 0; // "ffffff\r\n" + "\r\n"
            int n = Math.min(raw.position(), in.remaining() - overhead);
            if (n > 0) {
                if (chunkedRequest) {
                    putHex(in, n);
                    in.put((byte) '\r').put((byte) '\n');
                }
                raw.flip();
                int limit = raw.limit();
                raw.limit(n);
                in.put(raw);
                raw.limit(limit);
                raw.compact();
                if (chunkedRequest) {
                    in.put((byte) '\r').put((byte) '\n');
                }
                taken = n;
            }
        }
        int trailerBytes = trailerFields == null ? 0 : trailerFields.position();
        if (bodyEnded && chunkedRequest && !lastChunkWritten && (raw == null || raw.position() == 0)
                && in.remaining() >= LAST_CHUNK.length + trailerBytes) {
            in.put(LAST_CHUNK, 0, 3); // "0\r\n"
            if (trailerBytes > 0) {
                trailerFields.flip();
                in.put(trailerFields);
                trailerFields.clear();
            }
            in.put(LAST_CHUNK, 3, 2); // the empty line that ends the trailer section
            lastChunkWritten = true;
        }
        if (raw != null && raw.position() == 0) {
            raw = connection.bodyBuffers().releaseIfEmpty(raw);
        }
        if (bodyEnded && (raw == null) && (!chunkedRequest || lastChunkWritten)) {
            in = connection.buffers().releaseIfEmpty(in); // all of the request is with the exchange
        }
        return taken;
    }

    /** Free room in the raw buffer the client has no credit for yet. */
    int uncreditedRoom() {
        int room = raw == null ? connection.bodyBuffers().bufferSize() : raw.remaining();
        return Math.min(room, Http2Connection.STREAM_WINDOW) - receiveWindow;
    }

    private static void putHex(ByteBuffer out, int n) {
        int shift = 28;
        while (shift > 0 && (n >>> shift) == 0) {
            shift -= 4;
        }
        for (; shift >= 0; shift -= 4) {
            out.put(HEX[(n >>> shift) & 0xF]);
        }
    }

    // ---- ClientSide: the request ----

    @Override
    public RequestParser parser() {
        return parser;
    }

    @Override
    public ByteBuffer in() {
        return in;
    }

    @Override
    public boolean inputClosed() {
        // END_STREAM is not a vanished client; a reset or a lost connection ends the stream directly.
        return state == State.DONE;
    }

    @Override
    public ForwardContext forward() {
        return connection.forward();
    }

    @Override
    public InetSocketAddress client() {
        return connection.client();
    }

    @Override
    public InetSocketAddress local() {
        return connection.local();
    }

    @Override
    public boolean http2() {
        return true;
    }

    // ---- ClientSide: the response ----

    @Override
    public boolean readyForResponseHead() {
        return connection.output().roomForHead();
    }

    @Override
    public int writeResponseHead(HttpHead request, HttpHead response) {
        if (response.statusCode() == 101) {
            return -1; // no protocol switch on HTTP/2 (RFC 9113 §8.6): the exchange answers 502
        }
        boolean interim = response.statusCode() < 200;
        boolean bodiless = !interim && response.bodyKind() == BodyKind.NONE;
        int written = connection.output().headers(this, response, bodiless);
        if (written < 0) {
            return -1;
        }
        headersSent |= !interim;
        if (bodiless) {
            endStreamSent = true;
        }
        responseChunked = response.bodyKind() == BodyKind.CHUNKED;
        chunkedResponse.reset();
        return written;
    }

    @Override
    public int responseRoom() {
        if (endStreamSent) {
            return Integer.MAX_VALUE; // e.g. a HEAD response: nothing is sent, nothing need wait
        }
        if (pendingBlock != null) {
            return 0; // the head waits for room in the output; the body goes after it
        }
        return (int) Math.max(0, Math.min(sendWindow, connection.output().dataRoom()));
    }

    @Override
    public void writeResponseBody(ByteBuffer source) {
        if (endStreamSent) {
            source.position(source.limit());
            return;
        }
        if (!responseChunked) {
            sendWindow -= connection.output().data(id, source, source.remaining());
            return;
        }
        // Many small chunks (server-sent events, token streams) become one DATA frame: a frame per
        // chunk would cost more output than the chunk framing the room was counted in.
        ByteBuffer payload = connection.buffers().acquire();
        try {
            while (source.hasRemaining()) {
                int n = chunkedResponse.skipFraming(source);
                if (n == 0) {
                    break;
                }
                int limit = source.limit();
                source.limit(source.position() + n);
                payload.put(source);
                source.limit(limit);
                chunkedResponse.took(n);
            }
            payload.flip();
            if (payload.hasRemaining()) {
                sendWindow -= connection.output().data(id, payload, payload.remaining());
            }
        } finally {
            connection.buffers().release(payload);
        }
    }

    @Override
    public int writeRedirect(int httpsPort) {
        return -1; // redirects are the plain listener's, which does not speak HTTP/2
    }

    @Override
    public boolean hasUnsentResponse() {
        return sendWindow <= 0 || connection.output().isSendBlocked();
    }

    @Override
    public void responseComplete(boolean requestWasComplete) {
        requestComplete = requestWasComplete;
        if (!endStreamSent) {
            endStreamSent = true;
            int trailerLength = responseChunked ? chunkedResponse.trailerLength() : 0;
            if (trailerLength == 0 || !connection.output().trailers(this, chunkedResponse.trailerBytes(), trailerLength)) {
                connection.output().endStream(this);
            }
        }
        if (!requestWasComplete && state == State.OPEN) {
            // The answer came before the whole body: the client may stop sending (RFC 9113 §8.1).
            connection.writeReset(id, ErrorCode.NO_ERROR);
        }
        finish();
    }

    // ---- ClientSide: tunnels do not exist on HTTP/2 (no Upgrade, no extended CONNECT) ----

    @Override
    public void enterTunnel() {
        close();
    }

    @Override
    public int writeTunnel(ByteBuffer from) {
        return 0;
    }

    @Override
    public void tunnelFinished() {
        close();
    }

    // ---- ClientSide: errors ----

    @Override
    public void respondAndClose(int status) {
        if (state == State.DONE) {
            return;
        }
        if (!headersSent && connection.output().errorHeaders(id, status)) {
            headersSent = true;
            endStreamSent = true;
            if (state == State.OPEN) {
                connection.writeReset(id, ErrorCode.NO_ERROR);
            }
        } else if (!endStreamSent) {
            connection.writeReset(id, ErrorCode.INTERNAL_ERROR);
        }
        finish();
    }

    /** A truncated response must not look complete: the stream is reset. */
    @Override
    public void close() {
        if (state == State.DONE) {
            return;
        }
        if (!endStreamSent) {
            connection.writeReset(id, ErrorCode.INTERNAL_ERROR);
        }
        finish();
    }

    /** The client reset the stream, or the connection is going: the exchange stops at once. */
    void abort() {
        pumpWanted = true;
        if (state != State.DONE) {
            finish();
        }
        if (exchange != null) {
            exchange.abortBackend();
        }
    }

    @Override
    public void progress() {
        pumpWanted = true;
        connection.progressSoon();
    }

    boolean requestComplete() {
        return requestComplete;
    }

    boolean hasPendingBlock() {
        return pendingBlock != null;
    }

    ByteBuffer pendingBlock() {
        return pendingBlock;
    }

    boolean pendingEndStream() {
        return pendingEndStream;
    }

    /** Keeps a copy of an encoded block until the output has room (rare: a big head on a busy connection). */
    void holdBlock(ByteBuffer block, boolean endStream) {
        pendingBlock = ByteBuffer.allocate(block.remaining()).put(block).flip();
        pendingEndStream = endStream;
    }

    void endWithPendingBlock() {
        pendingEndStream = true;
    }

    void blockSent() {
        pendingBlock = null;
    }

    private void finish() {
        cancelBodyDeadline();
        state = State.DONE;
        connection.streamDone(this);
    }

    /** Gives back what the stream held; the connection calls this once the exchange is idle. */
    void release() {
        if (in != null) {
            connection.buffers().releaseZeroed(in);
            in = null;
        }
        if (raw != null) {
            connection.bodyBuffers().releaseZeroed(raw);
            raw = null;
        }
        parser = null;
        exchange = null;
    }
}
