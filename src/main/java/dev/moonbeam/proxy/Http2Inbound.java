package dev.moonbeam.proxy;

import dev.moonbeam.h2.ErrorCode;
import dev.moonbeam.h2.FrameError;
import dev.moonbeam.h2.FrameListener;
import dev.moonbeam.h2.FrameReader;
import dev.moonbeam.h2.Http2Settings;
import dev.moonbeam.http.ParseStatus;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * What the client's frames mean (RFC 9113): the {@link FrameListener} its connection's
 * {@link FrameReader} calls. It opens streams from HEADERS (or refuses them), takes request
 * trailers and DATA within the windows, applies RST_STREAM, SETTINGS, PING, GOAWAY and
 * WINDOW_UPDATE, and turns every violation into a stream error (RST_STREAM) or a connection error
 * ({@link Http2Connection#fail}). The reader checks framing; stream state (§5.1), id order
 * (§5.1.1), flow control (§6.9) and the limits we announce in our SETTINGS are checked here.
 *
 * <p>It also counts glitches, what a client makes us do without asking for anything (resets,
 * pings, settings, refused streams, empty DATA): past {@link Http2Connection#MAX_GLITCHES_PER_SECOND}
 * the connection is closed with ENHANCE_YOUR_CALM (the rapid-reset defence, CVE-2023-44487).
 *
 * <p>Loop-owned, one per {@link Http2Connection}; its frame callbacks come only from inside
 * {@link FrameReader#read}.
 */
final class Http2Inbound implements FrameListener {
    /** The connection's logger: logging set for {@link Http2Connection} covers all of a connection's messages. */
    private static final System.Logger LOG = System.getLogger(Http2Connection.class.getName());
    /** Announced in our SETTINGS and enforced by the decoder while decoding, so both are set here together. */
    private static final int MAX_HEADER_LIST_BYTES = 32 * 1024;

    private final Http2Connection connection;
    private final Http2StreamTable streams;
    private final Http2ReceiveWindow received;
    private final Http2Output output;
    private final Http2HeaderBlocks blocks;
    private final Http2Settings peer;
    private final Worker worker;
    private final InetSocketAddress client;
    private final int maxConcurrentStreams;
    private final GlitchCounter glitches = new GlitchCounter(Http2Connection.MAX_GLITCHES_PER_SECOND);
    /** A stream whose opening HEADERS was refused by the frame reader (its block still follows). */
    private int refusedOpening;
    private boolean settingsReceived;

    Http2Inbound(Http2Connection connection, Http2StreamTable streams, Http2ReceiveWindow received, Http2Output output,
            Http2Settings peer, Worker worker, InetSocketAddress client, int maxConcurrentStreams) {
        this.connection = connection;
        this.streams = streams;
        this.received = received;
        this.output = output;
        this.blocks = new Http2HeaderBlocks(Http2Connection.HPACK_TABLE_BYTES, MAX_HEADER_LIST_BYTES,
                worker.http2HeadBuilder());
        this.peer = peer;
        this.worker = worker;
        this.client = client;
        this.maxConcurrentStreams = maxConcurrentStreams;
    }

    /**
     * Our connection preface (RFC 9113 §3.4): SETTINGS with the limits the client's frames are
     * held to here, and the connection window beyond the protocol default.
     */
    void announceLimits() {
        Http2Settings ours = new Http2Settings();
        ours.set(Http2Settings.MAX_CONCURRENT_STREAMS, maxConcurrentStreams);
        ours.set(Http2Settings.MAX_HEADER_LIST_SIZE, MAX_HEADER_LIST_BYTES);
        ours.set(Http2Settings.ENABLE_PUSH, 0);
        output.preface(ours, Http2ReceiveWindow.SIZE - (int) Http2Settings.DEFAULT_INITIAL_WINDOW_SIZE);
    }

    /** The client's preface is complete with its first SETTINGS (§3.4): until then it is not idle but late. */
    boolean settingsReceived() {
        return settingsReceived;
    }

    // ---- HEADERS ----

    @Override
    public void headers(int streamId, ByteBuffer block, boolean endStream) {
        Http2Stream existing = streams.find(streamId);
        if (existing != null) {
            requestTrailers(existing, block, endStream);
            return;
        }
        int lastStreamId = streams.lastStreamId();
        if (streamId <= lastStreamId) {
            if (discard(block) && !streams.ids().wasResetByUs(streamId)) {
                if (streams.ids().wasOpened(streamId)) {
                    connection.fail(ErrorCode.STREAM_CLOSED, "HEADERS on closed stream " + streamId); // §5.1
                } else {
                    // §5.1.1: an id below the highest, never opened
                    connection.fail(ErrorCode.PROTOCOL_ERROR, "stream " + streamId + " below " + lastStreamId);
                }
            }
            return;
        }
        streams.newLastStreamId(streamId);
        if (streamId == refusedOpening || !connection.isOpen()) {
            discard(block); // after GOAWAY: ignored (§6.8), but the HPACK context must follow
            return;
        }
        if (streams.size() >= maxConcurrentStreams) {
            if (discard(block)) {
                glitch();
                connection.writeReset(streamId, ErrorCode.REFUSED_STREAM); // §5.1.2
            }
            return;
        }
        Http2Stream stream = streams.open(streamId, peer.initialWindowSize());
        connection.streamOpened();
        switch (blocks.requestHead(stream, block, endStream)) {
            case COMPRESSION_ERROR -> {
                connection.fail(ErrorCode.COMPRESSION_ERROR, "HPACK: " + blocks.lastError());
                return;
            }
            case TOO_LARGE -> {
                reject(stream, 431);
                return;
            }
            case MALFORMED -> {
                LOG.log(System.Logger.Level.DEBUG, () -> "HTTP/2 stream " + streamId + " malformed: " + blocks.malformedReason());
                resetStream(stream, ErrorCode.PROTOCOL_ERROR); // §8.1.1
                return;
            }
            case OK -> { }
            default -> throw new IllegalStateException("header block outcome");
        }
        ByteBuffer head = stream.in;
        head.flip();
        ParseStatus parsed;
        try {
            parsed = stream.parser.parse(head);
        } finally {
            head.compact();
        }
        if (parsed != ParseStatus.HEAD_COMPLETE) {
            reject(stream, parsed == ParseStatus.ERROR ? stream.parser.errorStatus() : 400);
            return;
        }
        stream.exchange.begin();
        stream.startBodyDeadline();
    }

    /**
     * A second HEADERS on an open stream: trailers (RFC 9113 §8.1). They must end the stream and
     * hold no pseudo-header or connection-specific field; a chunked body carries them to the backend.
     */
    private void requestTrailers(Http2Stream stream, ByteBuffer block, boolean endStream) {
        Http2HeaderBlocks.Outcome outcome = blocks.trailers(stream, block);
        if (outcome == Http2HeaderBlocks.Outcome.COMPRESSION_ERROR) {
            connection.fail(ErrorCode.COMPRESSION_ERROR, "HPACK: " + blocks.lastError());
        } else if (!stream.isReceiving()) {
            resetStream(stream, ErrorCode.STREAM_CLOSED); // §5.1: half-closed (remote)
        } else if (!endStream || outcome == Http2HeaderBlocks.Outcome.MALFORMED || stream.trailersEnd() != null) {
            resetStream(stream, ErrorCode.PROTOCOL_ERROR); // §8.1, §8.1.1
        }
    }

    /** Decodes a block only to keep the HPACK context in step; false when the connection failed. */
    private boolean discard(ByteBuffer block) {
        if (!blocks.discard(block)) {
            connection.fail(ErrorCode.COMPRESSION_ERROR, "HPACK: " + blocks.lastError());
            return false;
        }
        return true;
    }

    /** A request refused before its exchange began: logged, answered with {@code status}. */
    private void reject(Http2Stream stream, int status) {
        stream.exchange.reportRejected(status);
        stream.respondAndClose(status);
    }

    private void resetStream(Http2Stream stream, ErrorCode code) {
        connection.writeReset(stream.id, code);
        stream.abort();
    }

    // ---- DATA ----

    @Override
    public void dataFrameStart(int streamId, int flowControlledLength) {
        if (!received.debit(flowControlledLength)) {
            connection.fail(ErrorCode.FLOW_CONTROL_ERROR, "DATA beyond the connection window"); // §6.9.1
            return;
        }
        Http2Stream stream = streams.find(streamId);
        if (stream == null || !stream.isReceiving() || flowControlledLength > stream.receiveWindow) {
            received.owe(flowControlledLength); // not kept: the connection gets it back at once
        }
        if (stream == null) {
            if (streamId > streams.lastStreamId()) {
                connection.fail(ErrorCode.PROTOCOL_ERROR, "DATA on idle stream " + streamId); // §5.1
            } else if (!streams.ids().wasResetByUs(streamId)) {
                glitch();
                connection.writeReset(streamId, ErrorCode.STREAM_CLOSED);
            }
            return;
        }
        if (!stream.isReceiving()) {
            resetStream(stream, ErrorCode.STREAM_CLOSED); // §5.1: half-closed (remote)
            return;
        }
        if (flowControlledLength > stream.receiveWindow) {
            resetStream(stream, ErrorCode.FLOW_CONTROL_ERROR); // §6.9.1
            return;
        }
        stream.receiveWindow -= flowControlledLength;
        if (flowControlledLength == 0) {
            glitch(); // empty DATA frames are a known flood (CVE-2019-9518)
        }
    }

    @Override
    public void data(int streamId, ByteBuffer src, int offset, int length, boolean endStream) {
        Http2Stream stream = streams.find(streamId);
        if (stream == null || !stream.isReceiving()) {
            return; // already answered in dataFrameStart
        }
        String problem = stream.data(src, offset, length, endStream);
        if (problem != null) {
            LOG.log(System.Logger.Level.DEBUG, () -> "HTTP/2 stream " + streamId + ": " + problem);
            resetStream(stream, ErrorCode.PROTOCOL_ERROR); // §8.1.1
        }
    }

    // ---- control frames ----

    @Override
    public void rstStream(int streamId, ErrorCode errorCode) {
        if (streamId > streams.lastStreamId()) {
            connection.fail(ErrorCode.PROTOCOL_ERROR, "RST_STREAM on idle stream " + streamId); // §6.4
            return;
        }
        Http2Stream stream = streams.find(streamId);
        if (stream != null) {
            if (!stream.requestComplete()) {
                glitch(); // streams opened and reset in a loop: rapid reset
            }
            stream.abort();
        }
    }

    @Override
    public void settings(Http2Settings changes) {
        glitch();
        if (connection.isClosing()) {
            return;
        }
        long oldWindow = peer.initialWindowSize();
        peer.apply(changes);
        if (changes.isSet(Http2Settings.INITIAL_WINDOW_SIZE)) {
            if (!streams.shiftSendWindows(peer.initialWindowSize() - oldWindow)) {
                connection.fail(ErrorCode.FLOW_CONTROL_ERROR, "SETTINGS_INITIAL_WINDOW_SIZE overflows a window");
                return;
            }
            streams.pumpAll(); // every stream's window moved
        }
        if (changes.isSet(Http2Settings.HEADER_TABLE_SIZE)) {
            output.peerTableSize(peer.headerTableSize());
        }
        output.settingsAck();
        if (!settingsReceived) {
            settingsReceived = true;
            if (streams.isEmpty()) {
                connection.becameIdle();
            }
        }
    }

    @Override
    public void settingsAck() {
        // Nothing waits on it: our settings only ever loosen what a client may assume by default.
    }

    @Override
    public void ping(long payload, boolean ack) {
        glitch();
        if (!ack && !connection.isClosing()) {
            output.pingAck(payload);
        }
    }

    @Override
    public void goAway(int lastId, ErrorCode errorCode) {
        connection.clientGoingAway();
    }

    @Override
    public void windowUpdate(int streamId, int increment) {
        if (streamId == 0) {
            if (!output.windowUpdate(increment)) {
                connection.fail(ErrorCode.FLOW_CONTROL_ERROR, "connection window overflow"); // §6.9.1
                return;
            }
            streams.pumpAll(); // any stream may have waited for the connection window
            return;
        }
        Http2Stream stream = streams.find(streamId);
        if (stream == null) {
            if (streamId > streams.lastStreamId()) {
                connection.fail(ErrorCode.PROTOCOL_ERROR, "WINDOW_UPDATE on idle stream " + streamId);
            }
            return;
        }
        stream.sendWindow += increment;
        if (stream.sendWindow > Http2Settings.MAX_WINDOW_SIZE) {
            resetStream(stream, ErrorCode.FLOW_CONTROL_ERROR);
            return;
        }
        stream.wantPump();
    }

    // ---- errors the reader found ----

    @Override
    public void streamError(int streamId, FrameError error) {
        glitch();
        Http2Stream stream = streams.find(streamId);
        if (stream != null) {
            resetStream(stream, error.code());
        } else {
            if (streamId > streams.lastStreamId()) {
                refusedOpening = streamId; // its block is still delivered, for HPACK only
            }
            connection.writeReset(streamId, error.code());
        }
    }

    @Override
    public void connectionError(FrameError error) {
        // Http2Connection sends the GOAWAY once the reader returns ERROR.
    }

    /** Counts what costs us work but carries no request; a client that does too much is cut off. */
    private void glitch() {
        if (glitches.add(worker.loop().now()) && !connection.isClosing()) {
            LOG.log(System.Logger.Level.WARNING, () -> "HTTP/2 client " + client.getAddress().getHostAddress()
                    + " sent more than " + Http2Connection.MAX_GLITCHES_PER_SECOND
                    + " resets, pings, settings or empty frames in a second: closed");
            connection.fail(ErrorCode.ENHANCE_YOUR_CALM, "flood");
        }
    }
}
