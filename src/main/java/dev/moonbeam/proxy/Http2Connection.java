package dev.moonbeam.proxy;

import dev.moonbeam.h2.ErrorCode;
import dev.moonbeam.h2.FrameReader;
import dev.moonbeam.h2.Http2Settings;
import dev.moonbeam.h2.ReadStatus;
import dev.moonbeam.http.ForwardContext;
import dev.moonbeam.loop.BufferPool;
import dev.moonbeam.loop.EventLoop;
import dev.moonbeam.loop.IoHandler;
import dev.moonbeam.loop.Timeout;
import dev.moonbeam.loop.Transport;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * An HTTP/2 client connection (RFC 9113): a {@link ClientConnection} hands its socket and TLS
 * session over once ALPN chose {@code h2}. This class is the connection's I/O and lifecycle: the
 * progress loop that reads ({@link Http2Input}) and feeds the {@link FrameReader}, pumps the
 * streams and flushes, the timeouts, interest ops, the closing handshake and the release of
 * everything. What frames mean is {@link Http2Inbound}'s; the streams and their receive windows
 * are {@link Http2StreamTable}'s (and {@link Http2ReceiveWindow}'s); what is sent is
 * {@link Http2Output}'s. Each stream is one {@link Exchange} through {@link Http2Stream}, so the
 * backend side is exactly the HTTP/1.1 one.
 *
 * <p>States and timeouts: OPEN — streams come and go; with none open the keep-alive idle timeout
 * applies, before the client's preface and SETTINGS the head timeout. GOING_AWAY — GOAWAY sent
 * (drain, idle, or the client's own GOAWAY): no new streams, the open ones finish. CLOSING — a
 * final GOAWAY is being flushed (closing grace). CLOSED.
 *
 * <p>Bounds: input is read only while the output buffer has room for what control frames could
 * demand, so a PING or SETTINGS flood cannot grow memory; past {@link #MAX_GLITCHES_PER_SECOND}
 * the connection is closed ({@link Http2Inbound}, the rapid-reset defence).
 *
 * <p>Loop-owned, like its parts: everything here runs on its worker's loop thread.
 */
final class Http2Connection implements IoHandler, IdleConnection {
    enum State { OPEN, GOING_AWAY, CLOSING, CLOSED }

    private static final System.Logger LOG = System.getLogger(Http2Connection.class.getName());
    /**
     * Our per-stream receive window: the protocol's default, which a client may use before it has
     * read our SETTINGS (RFC 9113 §6.9.2), so a stream's body buffer holds all of it.
     */
    static final int STREAM_WINDOW = 65_535;
    /** HPACK dynamic table size, both ways: the protocol default, so our SETTINGS need not announce it (§6.5.2). */
    static final int HPACK_TABLE_BYTES = 4096;
    private static final int CONTROL_RESERVE = Http2Output.CONTROL_RESERVE;
    /** Resets, pings, settings, refused streams and empty DATA a client may cause per second ({@link Http2Inbound}). */
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
    private final FrameReader reader = new FrameReader(FrameReader.Role.SERVER);
    private final Http2Settings peer = new Http2Settings();
    private final Timeout timeout = new Timeout(this::onTimeout);
    private final Runnable progressTask = this::progress;
    private final Runnable queuedProgressTask = () -> {
        progressQueued = false;
        progress();
    };
    private final Http2Output output;
    private final Http2StreamTable streams;
    private final Http2Inbound inbound;
    private final Http2Input input;
    private State state = State.OPEN;
    /** A progress pass is already queued on the loop (see {@link #progressSoon}). */
    private boolean progressQueued;
    private boolean outputShutdown;
    private int interestOps = -1;
    private boolean inProgress;
    private boolean progressAgain;
    private long idleSinceNanos;

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
        this.output = new Http2Output(this, worker, peer, HPACK_TABLE_BYTES);
        Http2ReceiveWindow window = new Http2ReceiveWindow();
        this.streams = new Http2StreamTable(this, worker, settings, forward.clientAddress(), output, window);
        this.inbound = new Http2Inbound(this, streams, window, output, peer, worker, client,
                settings.http2MaxConcurrentStreams());
        this.input = new Http2Input(worker.loop().buffers(), received);
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
        inbound.announceLimits();
        arm(settings.clientHeadNanos()); // the preface and SETTINGS must come like a request head
        progress();
    }

    // ---- what streams need ----

    EventLoop loop() {
        return worker.loop();
    }

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
        streams.ids().resetByUs(streamId);
        output.rstStream(streamId, code);
    }

    Http2Output output() {
        return output;
    }

    /**
     * A stream ended; it is freed at the next sweep, outside the exchange's call stack. A timer or
     * a backend event may have ended it: a pass follows so its last frames leave now.
     */
    void streamDone(Http2Stream stream) {
        streams.sweepLater();
        if (!inProgress) {
            progressSoon();
        }
    }

    // ---- what the frame semantics and the stream table need ----

    /** New streams are accepted: no GOAWAY was sent or received (RFC 9113 §6.8). */
    boolean isOpen() {
        return state == State.OPEN;
    }

    /** After a GOAWAY for an error, or once closed, nothing more is read or written (RFC 9113 §5.4.1). */
    boolean isClosing() {
        return state == State.CLOSING || state == State.CLOSED;
    }

    boolean isClosed() {
        return state == State.CLOSED;
    }

    /** The client's GOAWAY (§6.8): no new streams; those open finish. */
    void clientGoingAway() {
        if (state == State.OPEN) {
            state = State.GOING_AWAY;
        }
    }

    /** A stream opened: the streams' own timeouts apply now, not the connection's. */
    void streamOpened() {
        worker.loop().timers().cancel(timeout);
    }

    /** No stream is open (the last one was freed, or the preface just completed): the keep-alive idle timeout runs. */
    void becameIdle() {
        arm(settings.clientIdleNanos());
        idleSinceNanos = worker.loop().now();
    }

    // ---- events ----

    @Override
    public void onReady(SelectionKey readyKey, int readyOps) {
        if ((readyOps & SelectionKey.OP_READ) != 0) {
            input.socketReadable();
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
        boolean stillMoving = true;
        try {
            for (int round = 0; round < MAX_ROUNDS && state != State.CLOSED; round++) {
                progressAgain = false;
                boolean moved = output.flush(transport);
                if (moved && output.takeRoomWanted()) {
                    streams.pumpAll(); // room came free that a stream waited for
                }
                if (state == State.CLOSING) {
                    closingStep();
                    stillMoving = false;
                    break;
                }
                moved |= readFrames();
                moved |= streams.pump();
                streams.sweepIfNeeded();
                moved |= streams.sendCredit();
                if (!moved && !progressAgain) {
                    stillMoving = false;
                    break;
                }
            }
            if (state != State.CLOSED) {
                if (stillMoving) {
                    // The round cap stopped a pass that still moved bytes: go on after the loop's
                    // other connections had their turn, not only at this one's next socket event.
                    progressSoon();
                }
                if (state == State.GOING_AWAY && streams.isEmpty()) {
                    // The last stream is gone: GOAWAY, close_notify and FIN now, not when the grace ends.
                    beginClosing();
                    output.flush(transport);
                    closingStep();
                }
                input.releaseIfEmpty();
                output.releaseIfEmpty();
                if (transport.hasBufferedInput() && canRead()) {
                    worker.loop().executeLocal(progressTask);
                }
                updateInterest();
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "HTTP/2 connection failed: " + e);
            close();
        } catch (BufferPool.Exhausted e) {
            // No direct memory for a buffer (logged and counted by the pool): not a defect to log again.
            close();
        } catch (RuntimeException e) {
            // A defect, not the client's doing: this connection ends, the loop and the others go on.
            LOG.log(System.Logger.Level.ERROR, "HTTP/2 connection failed", e);
            close();
        } finally {
            inProgress = false;
        }
    }

    /** Input is taken only while the output can hold what the frames may make us answer. */
    private boolean canRead() {
        return !input.isClosed() && state != State.CLOSING && output.room() >= 2 * CONTROL_RESERVE;
    }

    private boolean readFrames() throws IOException {
        boolean moved = canRead() && input.read(transport);
        int buffered = input.buffered();
        if (buffered > 0 && !isClosing()) {
            // Control frames can cost up to twice their size in answers: feed only what the output holds.
            int budget = Math.max(0, (output.room() - CONTROL_RESERVE) / 2);
            ReadStatus status = input.feed(reader, inbound, budget);
            moved |= input.buffered() < buffered;
            if (status == ReadStatus.ERROR && !isClosing()) {
                fail(reader.error().code(), reader.error().toString());
            }
        }
        if (input.isClosed() && !isClosing()) {
            // The client is gone: nothing it asked for can still reach it.
            streams.abortAll();
            close();
            return true;
        }
        return moved;
    }

    // ---- closing ----

    /** A connection error (§5.4.1): GOAWAY with the code, every stream stops, then close. */
    void fail(ErrorCode code, String reason) {
        if (isClosing()) {
            return;
        }
        LOG.log(System.Logger.Level.DEBUG, () -> "HTTP/2 connection error " + code + ": " + reason);
        reader.stop();
        output.goAway(streams.lastStreamId(), code);
        output.stop();
        streams.abortAll();
        beginClosing();
    }

    /** Graceful shutdown: GOAWAY now; open streams finish, then the connection closes. */
    void drain() {
        if (state == State.OPEN) {
            goAway();
        }
    }

    /** A polite GOAWAY (no error): no new streams, the open ones finish. */
    private void goAway() {
        state = State.GOING_AWAY;
        output.goAway(streams.lastStreamId(), ErrorCode.NO_ERROR);
        progress();
    }

    private void beginClosing() {
        if (isClosing()) {
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
        if (!input.isClosed() && !LingeringClose.discardUntilEof(channel, worker.scratch(true))) { // direct: see ClientConnection
            return;
        }
        input.markClosed();
        close();
    }

    private void onTimeout() {
        switch (state) {
            case OPEN -> {
                if (streams.isEmpty()) {
                    goAway(); // idle, or no preface in time; then close
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
        return state == State.OPEN && streams.isEmpty() && inbound.settingsReceived() && !hasPendingOutput();
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
            streams.releaseAll();
            input.release();
            output.release();
            transport.release();
        } finally {
            key.cancel();
            Acceptor.closeQuietly(channel);
            worker.clientClosed();
        }
    }

    // ---- buffers and interest ----

    private boolean hasPendingOutput() {
        return output.hasQueued() || transport.wantsWrite();
    }

    private void arm(long nanos) {
        worker.loop().timers().schedule(timeout, worker.loop().now() + nanos);
    }

    private void updateInterest() {
        int ops = 0;
        boolean wantRead = state == State.CLOSING ? outputShutdown && !input.isClosed()
                : canRead() && input.hasRoom();
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
