package dev.moonbeam.proxy;

import dev.moonbeam.h2.ErrorCode;
import dev.moonbeam.h2.FrameError;
import dev.moonbeam.h2.FrameListener;
import dev.moonbeam.h2.FrameReader;
import dev.moonbeam.h2.Http2Settings;
import dev.moonbeam.h2.ReadStatus;
import dev.moonbeam.http.ForwardContext;
import dev.moonbeam.http.ParseStatus;
import dev.moonbeam.loop.BufferPool;
import dev.moonbeam.loop.IoHandler;
import dev.moonbeam.loop.Timeout;
import dev.moonbeam.loop.Transport;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * An HTTP/2 client connection (RFC 9113): a {@link ClientConnection} hands its socket and TLS
 * session over once ALPN chose {@code h2}. Frames are read by {@link FrameReader}, header blocks
 * decoded by {@link HpackDecoder} into HTTP/1.1 heads ({@link RequestHeadBuilder}), and each
 * stream is one {@link Exchange} through {@link Http2Stream}, so the backend side is exactly the
 * HTTP/1.1 one. Responses of all streams share one output buffer.
 *
 * <p>States and timeouts: OPEN — streams come and go; with none open the keep-alive idle timeout
 * applies, before the client's preface and SETTINGS the head timeout. GOING_AWAY — GOAWAY sent
 * (drain, idle, or the client's own GOAWAY): no new streams, the open ones finish. CLOSING — a
 * final GOAWAY is being flushed (closing grace). CLOSED.
 *
 * <p>Bounds: input is read only while the output buffer has room for what control frames could
 * demand, so a PING or SETTINGS flood cannot grow memory; resets, pings, settings and empty frames
 * are counted per second and past {@link #MAX_GLITCHES_PER_SECOND} the connection is closed with
 * ENHANCE_YOUR_CALM (the rapid-reset defence, CVE-2023-44487). Loop-owned.
 */
final class Http2Connection implements IoHandler, IdleConnection, FrameListener {
    enum State { OPEN, GOING_AWAY, CLOSING, CLOSED }

    private static final System.Logger LOG = System.getLogger(Http2Connection.class.getName());
    /**
     * Our per-stream receive window: the protocol's default, which a client may use before it has
     * read our SETTINGS (RFC 9113 §6.9.2), so a stream's body buffer holds all of it.
     */
    static final int STREAM_WINDOW = 65_535;
    /** Connection receive window: streams are bounded by their own windows, so this only needs to not be the limit. */
    /**
     * Connection receive window: request body bytes buffered for all of a connection's streams
     * together. Credit comes back only as streams hand bytes to their backends, so a client that
     * uploads on many streams to slow backends holds at most this much memory.
     */
    private static final int CONNECTION_WINDOW = 1 << 20;
    private static final int MAX_HEADER_LIST_BYTES = 32 * 1024;
    private static final int HPACK_TABLE_BYTES = 4096;
    private static final int CONTROL_RESERVE = Http2Output.CONTROL_RESERVE;
    static final int MAX_GLITCHES_PER_SECOND = 200;
    /** Request trailer field lines kept for a chunked body; more are dropped. */
    static final int MAX_REQUEST_TRAILER_BYTES = 8192;
    private static final long CLOSING_GRACE_NANOS = 5_000_000_000L;
    private static final int MAX_ROUNDS = 16;

    private final Worker worker;
    private final SocketChannel channel;
    private final SelectionKey key;
    private final Transport transport;
    private final ProxySettings settings;
    private final ForwardContext forward;
    private final InetSocketAddress client;
    private final InetSocketAddress local;
    private final byte[] clientAddress;
    private final int maxConcurrentStreams;
    private final FrameReader reader = new FrameReader(FrameReader.Role.SERVER);
    private final Http2HeaderBlocks blocks;
    private final Http2Settings peer = new Http2Settings();
    private final List<Http2Stream> streams = new ArrayList<>();
    private final List<Http2Stream> spareStreams = new ArrayList<>();
    private final Timeout timeout = new Timeout(this::onTimeout);
    private final Runnable progressTask = this::progress;
    private final Runnable queuedProgressTask = () -> {
        progressQueued = false;
        progress();
    };
    private final Http2Output output;
    private State state = State.OPEN;
    private ByteBuffer in;
    private boolean inputClosed;
    /** A progress pass is already queued on the loop (see {@link #progressSoon}). */
    private boolean progressQueued;
    private boolean outputShutdown;
    private boolean socketReadable = true;
    private int interestOps = -1;
    private int lastStreamId;
    private int connectionCreditOwed;
    /** Body bytes the client may still send on the connection before we give credit (§6.9.1). */
    private long connectionReceiveWindow = CONNECTION_WINDOW;
    private boolean settingsReceived;
    private boolean inProgress;
    private boolean progressAgain;
    private boolean sweepNeeded;
    private long idleSinceNanos;
    /** A stream whose opening HEADERS was refused by the frame reader (its block still follows). */
    private int refusedOpening;
    private final StreamIds ids = new StreamIds();
    private final GlitchCounter glitches = new GlitchCounter(MAX_GLITCHES_PER_SECOND);

    private Http2Connection(Worker worker, SocketChannel channel, SelectionKey key, Transport transport,
            ProxySettings settings, ForwardContext forward, InetSocketAddress client, InetSocketAddress local,
            ByteBuffer received) {
        this.worker = worker;
        this.channel = channel;
        this.key = key;
        this.transport = transport;
        this.settings = settings;
        this.forward = forward;
        this.client = client;
        this.local = local;
        this.clientAddress = forward.clientAddress();
        this.maxConcurrentStreams = settings.http2MaxConcurrentStreams();
        this.blocks = new Http2HeaderBlocks(HPACK_TABLE_BYTES, MAX_HEADER_LIST_BYTES, worker.http2HeadBuilder());
        this.output = new Http2Output(this, worker, peer, HPACK_TABLE_BYTES);
        this.in = received;
    }

    /**
     * Takes over a connection whose TLS handshake chose {@code h2}. {@code received} holds bytes
     * already decrypted (fill mode; ownership passes here, may be null).
     */
    static Http2Connection takeOver(Worker worker, SocketChannel channel, SelectionKey key, Transport transport,
            ProxySettings settings, ForwardContext forward, InetSocketAddress client, InetSocketAddress local,
            ByteBuffer received) {
        Http2Connection connection = new Http2Connection(worker, channel, key, transport, settings, forward, client,
                local, received);
        key.attach(connection);
        connection.start();
        return connection;
    }

    private void start() {
        Http2Settings ours = new Http2Settings();
        ours.set(Http2Settings.MAX_CONCURRENT_STREAMS, maxConcurrentStreams);
        ours.set(Http2Settings.MAX_HEADER_LIST_SIZE, MAX_HEADER_LIST_BYTES);
        ours.set(Http2Settings.ENABLE_PUSH, 0);
        output.preface(ours, CONNECTION_WINDOW - (int) Http2Settings.DEFAULT_INITIAL_WINDOW_SIZE);
        arm(settings.clientHeadNanos()); // the preface and SETTINGS must come like a request head
        progress();
    }

    // ---- what streams need ----

    BufferPool buffers() {
        return worker.loop().buffers();
    }

    BufferPool bodyBuffers() {
        return worker.http2Bodies();
    }

    ForwardContext forward() {
        return forward;
    }

    InetSocketAddress client() {
        return client;
    }

    InetSocketAddress local() {
        return local != null ? local : Acceptor.localAddress(channel);
    }

    /** RST_STREAM, remembered so the stream's late frames are ignored (RFC 9113 §5.1, closed). */
    void writeReset(int streamId, ErrorCode code) {
        ids.resetByUs(streamId);
        output.rstStream(streamId, code);
    }

    Http2Output output() {
        return output;
    }

    /** After a GOAWAY for an error, or once closed, nothing more is read or written (RFC 9113 §5.4.1). */
    private boolean closing() {
        return state == State.CLOSING || state == State.CLOSED;
    }

    /**
     * A stream ended; it is freed at the next sweep, outside the exchange's call stack. A timer or
     * a backend event may have ended it: a pass follows so its last frames leave now.
     */
    void streamDone(Http2Stream stream) {
        sweepNeeded = true;
        if (!inProgress) {
            progressSoon();
        }
    }

    // ---- events ----

    @Override
    public void onReady(SelectionKey readyKey, int readyOps) {
        if ((readyOps & SelectionKey.OP_READ) != 0) {
            socketReadable = true;
        }
        progress();
    }

    @Override
    public void abort(Throwable cause) {
        LOG.log(System.Logger.Level.DEBUG, () -> "HTTP/2 connection aborted: " + cause);
        close();
    }

    /**
     * For a stream's backend event: one pass over the connection after this select round's other
     * events, so responses that became ready together go out in one write (and one TLS record).
     */
    void progressSoon() {
        if (!progressQueued && state != State.CLOSED) {
            progressQueued = true;
            worker.loop().executeLocal(queuedProgressTask); // always called on the loop thread
        }
    }

    /** Moves bytes every way they can go, then waits for what is missing. Re-entrant calls run once more instead. */
    void progress() {
        if (inProgress) {
            progressAgain = true;
            return;
        }
        inProgress = true;
        try {
            for (int round = 0; round < MAX_ROUNDS && state != State.CLOSED; round++) {
                progressAgain = false;
                boolean moved = flush();
                if (state == State.CLOSING) {
                    closingStep();
                    break;
                }
                moved |= readFrames();
                moved |= pumpStreams();
                if (sweepNeeded) {
                    sweep();
                }
                moved |= sendCredit();
                if (!moved && !progressAgain) {
                    break;
                }
            }
            if (state != State.CLOSED) {
                if (state == State.GOING_AWAY && streams.isEmpty()) {
                    // The last stream is gone: GOAWAY, close_notify and FIN now, not when the grace ends.
                    beginClosing();
                    flush();
                    closingStep();
                }
                in = buffers().releaseIfEmpty(in);
                output.releaseIfEmpty();
                if (transport.hasBufferedInput() && canRead()) {
                    worker.loop().executeLocal(progressTask);
                }
                updateInterest();
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "HTTP/2 connection failed: " + e);
            close();
        } catch (RuntimeException e) {
            // A defect, not the client's doing: this connection ends, the loop and the others go on.
            LOG.log(System.Logger.Level.ERROR, "HTTP/2 connection failed", e);
            close();
        } finally {
            inProgress = false;
        }
    }

    private boolean flush() throws IOException {
        return output.flush(transport);
    }

    /** Input is taken only while the output can hold what the frames may make us answer. */
    private boolean canRead() {
        return !inputClosed && state != State.CLOSING && outRoom() >= 2 * CONTROL_RESERVE;
    }

    private boolean readFrames() throws IOException {
        boolean moved = false;
        if (canRead() && (socketReadable || transport.hasBufferedInput()) && (in == null || in.hasRemaining())) {
            if (in == null) {
                in = buffers().acquire();
            }
            int room = in.remaining();
            int n = transport.read(in);
            if (n < 0) {
                inputClosed = true;
                moved = true;
            } else if (n > 0) {
                moved = true;
                if (n < room) {
                    socketReadable = false;
                }
            } else {
                socketReadable = false;
            }
        }
        if (in != null && in.position() > 0 && state != State.CLOSING && state != State.CLOSED) {
            // Control frames can cost up to twice their size in answers: feed only what the output holds.
            int budget = Math.max(0, (outRoom() - CONTROL_RESERVE) / 2);
            in.flip();
            int limit = in.limit();
            int start = in.position();
            ReadStatus status;
            try {
                in.limit(Math.min(limit, start + budget));
                status = reader.read(in, this);
                moved |= in.position() > start;
            } finally {
                in.limit(limit);
                in.compact();
            }
            if (status == ReadStatus.ERROR && state != State.CLOSING && state != State.CLOSED) {
                fail(reader.error().code(), reader.error().toString());
            }
        }
        if (inputClosed && state != State.CLOSING && state != State.CLOSED) {
            // The client is gone: nothing it asked for can still reach it.
            for (int i = 0; i < streams.size(); i++) {
                streams.get(i).abort();
            }
            close();
            return true;
        }
        return moved;
    }

    private boolean pumpStreams() {
        boolean moved = false;
        for (int i = 0; i < streams.size() && state != State.CLOSED; i++) {
            Http2Stream stream = streams.get(i);
            moved |= output.sendPendingBlock(stream);
            if (stream.state == Http2Stream.State.DONE || stream.exchange == null) {
                continue;
            }
            int taken = stream.frameBody();
            moved |= taken > 0;
            Exchange exchange = stream.exchange;
            moved |= exchange.forwardRequestBody();
            if (stream.exchange != null) {
                moved |= exchange.pump();
                exchange.updateInterest();
            }
        }
        return moved;
    }

    /** Frees finished streams whose exchanges are idle (their backend side closed or pooled). */
    private void sweep() {
        sweepNeeded = false;
        for (int i = streams.size() - 1; i >= 0; i--) {
            Http2Stream stream = streams.get(i);
            if (stream.state != Http2Stream.State.DONE) {
                continue;
            }
            if (stream.hasPendingBlock() && !closing()) {
                sweepNeeded = true; // its last HEADERS still wait for room
                continue;
            }
            Exchange exchange = stream.exchange;
            if (exchange != null && !exchange.isIdle()) {
                sweepNeeded = true; // comes back at the next progress
                continue;
            }
            if (exchange != null) {
                worker.giveBack(stream.parser, exchange);
            }
            // What it received and never credited is gone with it: the connection gets it back.
            connectionCreditOwed += Math.max(0, STREAM_WINDOW - stream.receiveWindow);
            stream.release();
            streams.remove(i);
            spareStreams.add(stream);
        }
        if (streams.isEmpty() && state == State.OPEN) {
            arm(settings.clientIdleNanos());
            idleSinceNanos = worker.loop().now();
        }
    }

    /** Gives the client credit for what streams moved out of their buffers (RFC 9113 §6.9). */
    private boolean sendCredit() {
        boolean moved = false;
        if (closing()) {
            return false;
        }
        if (connectionCreditOwed >= CONNECTION_WINDOW / 4 && output.windowUpdateFrame(0, connectionCreditOwed)) {
            connectionReceiveWindow += connectionCreditOwed;
            connectionCreditOwed = 0;
            moved = true;
        }
        for (int i = 0; i < streams.size(); i++) { // indexed: an iterator per pass is garbage per request
            Http2Stream stream = streams.get(i);
            if (!stream.isReceiving()) {
                continue;
            }
            int credit = stream.uncreditedRoom();
            if (credit >= STREAM_WINDOW / 4 && output.windowUpdateFrame(stream.id, credit)) {
                stream.receiveWindow += credit;
                connectionCreditOwed += credit; // the bytes left this connection's buffers too
                moved = true;
            }
        }
        return moved;
    }

    // ---- frames from the client ----

    @Override
    public void headers(int streamId, ByteBuffer block, boolean endStream) {
        Http2Stream existing = find(streamId);
        if (existing != null) {
            requestTrailers(existing, block, endStream);
            return;
        }
        if (streamId <= lastStreamId) {
            if (discard(block) && !ids.wasResetByUs(streamId)) {
                if (ids.wasOpened(streamId)) {
                    fail(ErrorCode.STREAM_CLOSED, "HEADERS on closed stream " + streamId); // §5.1
                } else {
                    fail(ErrorCode.PROTOCOL_ERROR, "stream " + streamId + " below " + lastStreamId); // §5.1.1
                }
            }
            return;
        }
        lastStreamId = streamId;
        if (streamId == refusedOpening || state != State.OPEN) {
            discard(block); // after GOAWAY: ignored (§6.8), but the HPACK context must follow
            return;
        }
        if (streams.size() >= maxConcurrentStreams) {
            if (discard(block)) {
                glitch();
                writeReset(streamId, ErrorCode.REFUSED_STREAM); // §5.1.2
            }
            return;
        }
        Http2Stream stream = newStream(streamId);
        switch (blocks.requestHead(stream, block, endStream)) {
            case COMPRESSION_ERROR -> {
                fail(ErrorCode.COMPRESSION_ERROR, "HPACK: " + blocks.lastError());
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
    }

    /**
     * A second HEADERS on an open stream: trailers (RFC 9113 §8.1). They must end the stream and
     * hold no pseudo-header or connection-specific field; a chunked body carries them to the backend.
     */
    private void requestTrailers(Http2Stream stream, ByteBuffer block, boolean endStream) {
        Http2HeaderBlocks.Outcome outcome = blocks.trailers(stream, block);
        if (outcome == Http2HeaderBlocks.Outcome.COMPRESSION_ERROR) {
            fail(ErrorCode.COMPRESSION_ERROR, "HPACK: " + blocks.lastError());
        } else if (!stream.isReceiving()) {
            resetStream(stream, ErrorCode.STREAM_CLOSED); // §5.1: half-closed (remote)
        } else if (!endStream || outcome == Http2HeaderBlocks.Outcome.MALFORMED || stream.trailersEnd() != null) {
            resetStream(stream, ErrorCode.PROTOCOL_ERROR); // §8.1, §8.1.1
        }
    }

    /** Decodes a block only to keep the HPACK context in step; false when the connection failed. */
    private boolean discard(ByteBuffer block) {
        if (!blocks.discard(block)) {
            fail(ErrorCode.COMPRESSION_ERROR, "HPACK: " + blocks.lastError());
            return false;
        }
        return true;
    }

    private Http2Stream newStream(int streamId) {
        ids.opened(streamId);
        Http2Stream stream = spareStreams.isEmpty() ? new Http2Stream(this) : spareStreams.remove(spareStreams.size() - 1);
        Exchange exchange = worker.takeExchange();
        exchange.bind(stream, settings, clientAddress);
        stream.open(streamId, worker.takeParser(settings), exchange, peer.initialWindowSize(), STREAM_WINDOW);
        streams.add(stream);
        worker.loop().timers().cancel(timeout); // the streams' own timeouts apply now
        return stream;
    }

    /** A request refused before its exchange began: logged, answered with {@code status}. */
    private void reject(Http2Stream stream, int status) {
        stream.exchange.reportRejected(status);
        stream.respondAndClose(status);
    }

    private void resetStream(Http2Stream stream, ErrorCode code) {
        writeReset(stream.id, code);
        stream.abort();
    }

    @Override
    public void dataFrameStart(int streamId, int flowControlledLength) {
        connectionReceiveWindow -= flowControlledLength;
        if (connectionReceiveWindow < 0) {
            fail(ErrorCode.FLOW_CONTROL_ERROR, "DATA beyond the connection window"); // §6.9.1
            return;
        }
        Http2Stream stream = find(streamId);
        if (stream == null || !stream.isReceiving() || flowControlledLength > stream.receiveWindow) {
            connectionCreditOwed += flowControlledLength; // not kept: the connection gets it back at once
        }
        if (stream == null) {
            if (streamId > lastStreamId) {
                fail(ErrorCode.PROTOCOL_ERROR, "DATA on idle stream " + streamId); // §5.1
            } else if (!ids.wasResetByUs(streamId)) {
                glitch();
                writeReset(streamId, ErrorCode.STREAM_CLOSED);
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
        Http2Stream stream = find(streamId);
        if (stream == null || !stream.isReceiving()) {
            return; // already answered in dataFrameStart
        }
        String problem = stream.data(src, offset, length, endStream);
        if (problem != null) {
            LOG.log(System.Logger.Level.DEBUG, () -> "HTTP/2 stream " + streamId + ": " + problem);
            resetStream(stream, ErrorCode.PROTOCOL_ERROR); // §8.1.1
        }
    }

    @Override
    public void rstStream(int streamId, ErrorCode errorCode) {
        if (streamId > lastStreamId) {
            fail(ErrorCode.PROTOCOL_ERROR, "RST_STREAM on idle stream " + streamId); // §6.4
            return;
        }
        Http2Stream stream = find(streamId);
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
        if (closing()) {
            return;
        }
        long oldWindow = peer.initialWindowSize();
        peer.apply(changes);
        if (changes.isSet(Http2Settings.INITIAL_WINDOW_SIZE)) {
            long delta = peer.initialWindowSize() - oldWindow; // §6.9.2: applies to open streams too
            for (int i = 0; i < streams.size(); i++) {
                Http2Stream stream = streams.get(i);
                stream.sendWindow += delta;
                if (stream.sendWindow > Http2Settings.MAX_WINDOW_SIZE) {
                    fail(ErrorCode.FLOW_CONTROL_ERROR, "SETTINGS_INITIAL_WINDOW_SIZE overflows a window");
                    return;
                }
            }
        }
        if (changes.isSet(Http2Settings.HEADER_TABLE_SIZE)) {
            output.peerTableSize(peer.headerTableSize());
        }
        output.settingsAck();
        if (!settingsReceived) {
            settingsReceived = true;
            if (streams.isEmpty()) {
                arm(settings.clientIdleNanos());
                idleSinceNanos = worker.loop().now();
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
        if (!ack && !closing()) {
            output.pingAck(payload);
        }
    }

    @Override
    public void goAway(int lastId, ErrorCode errorCode) {
        if (state == State.OPEN) {
            state = State.GOING_AWAY; // no new streams; those open finish
        }
    }

    @Override
    public void windowUpdate(int streamId, int increment) {
        if (streamId == 0) {
            if (!output.windowUpdate(increment)) {
                fail(ErrorCode.FLOW_CONTROL_ERROR, "connection window overflow"); // §6.9.1
            }
            return;
        }
        Http2Stream stream = find(streamId);
        if (stream == null) {
            if (streamId > lastStreamId) {
                fail(ErrorCode.PROTOCOL_ERROR, "WINDOW_UPDATE on idle stream " + streamId);
            }
            return;
        }
        stream.sendWindow += increment;
        if (stream.sendWindow > Http2Settings.MAX_WINDOW_SIZE) {
            resetStream(stream, ErrorCode.FLOW_CONTROL_ERROR);
        }
    }

    @Override
    public void streamError(int streamId, FrameError error) {
        glitch();
        Http2Stream stream = find(streamId);
        if (stream != null) {
            resetStream(stream, error.code());
        } else {
            if (streamId > lastStreamId) {
                refusedOpening = streamId; // its block is still delivered, for HPACK only
            }
            writeReset(streamId, error.code());
        }
    }

    @Override
    public void connectionError(FrameError error) {
        // readFrames sends the GOAWAY once the reader returns ERROR.
    }

    /** Counts what costs us work but carries no request; a client that does too much is cut off. */
    private void glitch() {
        if (glitches.add(worker.loop().now()) && !closing()) {
            LOG.log(System.Logger.Level.WARNING, () -> "HTTP/2 client " + client.getAddress().getHostAddress()
                    + " sent more than " + MAX_GLITCHES_PER_SECOND + " resets, pings, settings or empty frames in a second: closed");
            fail(ErrorCode.ENHANCE_YOUR_CALM, "flood");
        }
    }

    private Http2Stream find(int streamId) {
        for (int i = 0; i < streams.size(); i++) {
            Http2Stream stream = streams.get(i);
            if (stream.id == streamId && stream.state != Http2Stream.State.DONE) {
                return stream;
            }
        }
        return null;
    }

    // ---- closing ----

    /** A connection error (§5.4.1): GOAWAY with the code, every stream stops, then close. */
    void fail(ErrorCode code, String reason) {
        if (state == State.CLOSING || state == State.CLOSED) {
            return;
        }
        LOG.log(System.Logger.Level.DEBUG, () -> "HTTP/2 connection error " + code + ": " + reason);
        reader.stop();
        output.goAway(lastStreamId, code);
        output.stop();
        for (int i = 0; i < streams.size(); i++) {
            streams.get(i).abort();
        }
        beginClosing();
    }

    /** Graceful shutdown: GOAWAY now; open streams finish, then the connection closes. */
    void drain() {
        if (state == State.OPEN) {
            state = State.GOING_AWAY;
            output.goAway(lastStreamId, ErrorCode.NO_ERROR);
            progress();
        }
    }

    private void beginClosing() {
        if (state == State.CLOSING || state == State.CLOSED) {
            return;
        }
        state = State.CLOSING;
        arm(CLOSING_GRACE_NANOS);
    }

    /**
     * Flushes the final frames, then close_notify and FIN, then reads and discards until the client
     * closes too (or the grace ends): closing with unread input would send RST and could destroy
     * the GOAWAY before the client reads it.
     */
    private void closingStep() throws IOException {
        if (output.hasQueued()) {
            return;
        }
        if (!outputShutdown) {
            outputShutdown = true;
            transport.shutdownOutput();
        }
        if (!transport.flush()) {
            return;
        }
        if (!inputClosed && !LingeringClose.discardUntilEof(channel, worker.scratch(false))) {
            return;
        }
        inputClosed = true;
        close();
    }

    private void onTimeout() {
        switch (state) {
            case OPEN -> {
                if (streams.isEmpty()) {
                    // Idle, or no preface in time: a polite GOAWAY, then close.
                    state = State.GOING_AWAY;
                    output.goAway(lastStreamId, ErrorCode.NO_ERROR);
                    progress();
                }
            }
            case GOING_AWAY -> progress();
            case CLOSING -> close();
            case CLOSED -> { }
            default -> throw new IllegalStateException("HTTP/2 connection in state " + state);
        }
    }

    @Override
    public boolean isIdle() {
        return state == State.OPEN && streams.isEmpty() && settingsReceived && !hasPendingOutput();
    }

    @Override
    public long idleSinceNanos() {
        return idleSinceNanos;
    }

    @Override
    public void close() {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        try {
            worker.loop().timers().cancel(timeout);
            for (int i = 0; i < streams.size(); i++) {
                Http2Stream stream = streams.get(i);
                stream.abort();
                if (stream.exchange != null) {
                    worker.giveBack(stream.parser, stream.exchange);
                }
                stream.release();
            }
            streams.clear();
            if (in != null) {
                buffers().releaseZeroed(in);
                in = null;
            }
            output.release();
            transport.release();
        } finally {
            key.cancel();
            Acceptor.closeQuietly(channel);
            worker.clientClosed();
        }
    }

    // ---- buffers and interest ----

    private int outRoom() {
        return output.room();
    }

    private boolean hasPendingOutput() {
        return output.hasQueued() || transport.wantsWrite();
    }

    private void arm(long nanos) {
        worker.loop().timers().schedule(timeout, worker.loop().now() + nanos);
    }

    private void updateInterest() {
        int ops = 0;
        boolean wantRead = state == State.CLOSING ? outputShutdown && !inputClosed
                : canRead() && (in == null || in.hasRemaining());
        if (wantRead || transport.wantsRead()) {
            ops |= SelectionKey.OP_READ;
        }
        if (hasPendingOutput()) {
            ops |= SelectionKey.OP_WRITE;
        }
        if (ops != interestOps && key.isValid()) {
            interestOps = ops;
            key.interestOps(ops);
        }
    }
}
