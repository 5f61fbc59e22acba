package dev.moonbeam.proxy;

import dev.moonbeam.http.BodyKind;
import dev.moonbeam.http.ErrorResponses;
import dev.moonbeam.http.ForwardContext;
import dev.moonbeam.http.HeadRewriter;
import dev.moonbeam.http.HttpHead;
import dev.moonbeam.http.ParseStatus;
import dev.moonbeam.http.RedirectResponse;
import dev.moonbeam.http.RequestParser;
import dev.moonbeam.loop.BufferPool;
import dev.moonbeam.loop.IoHandler;
import dev.moonbeam.loop.PlainTransport;
import dev.moonbeam.loop.PrereadChannel;
import dev.moonbeam.loop.Timeout;
import dev.moonbeam.loop.Transport;
import dev.moonbeam.tls.TlsEngine;
import dev.moonbeam.tls.TlsTransport;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * One client connection: its transport (plain or TLS; nothing here depends on which), its
 * plaintext buffers, the request parser, and the sequence of exchanges on it.
 *
 * <p>States and the timeout that applies in each:
 * <ul>
 *   <li>IDLE — between requests, or before the first (TLS handshake timeout until the handshake is
 *       done, then the keep-alive idle timeout). No buffers held.
 *   <li>READING_HEAD — a request head has started; the whole head must arrive within the head
 *       timeout (slowloris), else 408.
 *   <li>EXCHANGE — a request is being relayed; the {@link Exchange}'s timeouts apply, and while a
 *       request body is on its way the body timeout ({@code timeouts.client_body}, when set) bounds
 *       it whole, since a dripping body re-arms any inactivity timeout forever. Pipelined
 *       requests wait in {@code in} until it ends, so responses go out in order.
 *   <li>TUNNEL — after a 101, bytes flow both ways untouched until either side closes.
 *   <li>CLOSING — a final response is being flushed; then the socket closes.
 *   <li>CLOSED.
 *   <li>HANDED_OVER — ALPN chose h2 (or h2c prior knowledge): the socket and transport now belong to an
 *       {@link Http2Connection}; this object is finished without closing them.
 * </ul>
 *
 * <p>Everything happens in {@link #progress()}, which moves bytes as far as they can go in every
 * direction and then sets the interest ops for what it waits on. Loop-owned.
 */
final class ClientConnection implements IoHandler, IdleConnection, ClientSide {
    enum State { IDLE, READING_HEAD, EXCHANGE, TUNNEL, CLOSING, CLOSED, HANDED_OVER }

    private enum TimerPurpose { HANDSHAKE, IDLE, HEAD, BODY, CLOSING }

    /** How long an idle keep-alive connection stays open once draining starts (see drain()). */
    private static final long DRAIN_IDLE_GRACE_NANOS = 1_000_000_000L;
    private static final System.Logger LOG = System.getLogger(ClientConnection.class.getName());
    /** Passes of {@link #progress()} per event: enough to move a buffer each way a few times, bounded for fairness. */
    private static final int MAX_ROUNDS = 16;
    /** How long a final response may take to drain, and the client to close, before we close regardless. */
    private static final long CLOSING_GRACE_NANOS = 5_000_000_000L;
    private static final byte[] HTTP2_PREFACE =
            dev.moonbeam.h2.FrameReader.PREFACE.getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private final Worker worker;
    private final SocketChannel channel;
    private final SelectionKey key;
    private final Transport transport;
    private final TlsTransport tls;
    private final ProxySettings settings;
    /** Held only while a request is in progress; idle connections give them back to the worker. */
    private RequestParser parser;
    private Exchange exchange;
    private final ForwardContext forward;
    private final InetSocketAddress client;
    /** Null unless a PROXY header named it; see {@link #local()}. */
    private final InetSocketAddress local;
    /** Bytes read past a PROXY header, served before the socket's; null without one. */
    private final PrereadChannel readAhead;
    private final Timeout timeout = new Timeout(this::onTimeout);
    /** Bound once, so re-running progress allocates nothing. */
    private final Runnable progressTask = this::progress;
    /** The client's address as text, copied once per connection for the exchange's records. */
    private final byte[] clientAddress;
    private TimerPurpose timerPurpose;
    private long idleSinceNanos;
    private State state = State.IDLE;
    private ByteBuffer in;
    private ByteBuffer out;
    private boolean inputClosed;
    private boolean outputShutdown;
    /** False once a read came back short: the socket is drained until the selector says otherwise. */
    private boolean socketReadable = true;
    private int interestOps = SelectionKey.OP_READ;
    /** The last response head (or redirect) told the client this connection closes after it. */
    private boolean closeAfterResponse;
    /**
     * The response being relayed ends when the connection closes (no length, not chunked): if the
     * exchange ends it early, the close must be a reset, or the client would take a FIN for the
     * end of a whole body.
     */
    private boolean closeDelimitedResponse;
    /** A request was parsed on this connection: only a connection's first bytes can be the HTTP/2 preface. */
    private boolean anyRequest;
    /** The negotiated ALPN protocol was looked at (once, after the handshake). */
    private boolean alpnChecked;

    /**
     * @param client    the client's address: the peer's, or the one a PROXY header carried
     * @param local     the address the client connected to as a PROXY header said, or null for the socket's
     * @param readAhead bytes already read from the socket (past a PROXY header), or null
     */
    private ClientConnection(Worker worker, SocketChannel channel, ProxySettings settings, InetSocketAddress client,
            InetSocketAddress local, ByteBuffer readAhead) throws IOException {
        this.worker = worker;
        this.channel = channel;
        this.settings = settings;
        this.client = client;
        this.local = local;
        this.forward = ForwardContext.of(client.getAddress().getHostAddress(), settings.scheme(),
                settings.forwardedHeadersFrom(client.getAddress()));
        this.clientAddress = forward.clientAddress();
        this.readAhead = readAhead != null ? new PrereadChannel(readAhead, channel) : null;
        ByteChannel io = this.readAhead != null ? this.readAhead : channel;
        if (settings.tls() != null) {
            long deadline = worker.loop().now() + settings.tlsHandshakeNanos();
            boolean direct = settings.tls().directBuffers();
            TlsEngine engine = new TlsEngine(settings.tls().newSession(), worker.tlsBuffers(direct),
                    worker.tlsOutBuffers(direct), deadline,
                    worker.handshakeTasks(), this::handshakeTasksDone);
            this.tls = new TlsTransport(io, engine, worker.scratch(direct));
            this.transport = tls;
        } else {
            this.tls = null;
            this.transport = new PlainTransport(io);
        }
        try {
            this.key = worker.loop().register(channel, interestOps, this);
        } catch (IOException | RuntimeException e) {
            transport.release(); // frees the TLS session; the caller closes the channel
            throw e;
        }
    }

    static ClientConnection open(Worker worker, SocketChannel channel, ProxySettings settings) throws IOException {
        // The peer's address first: a client that already reset makes this throw, and then no
        // TLS session (a native SSL object) has been made that would need freeing.
        InetSocketAddress peer = (InetSocketAddress) channel.getRemoteAddress();
        return open(worker, channel, settings, peer, null, null);
    }

    /** After a PROXY header: see the constructor. */
    static ClientConnection open(Worker worker, SocketChannel channel, ProxySettings settings, InetSocketAddress client,
            InetSocketAddress local, ByteBuffer readAhead) throws IOException {
        ClientConnection connection = new ClientConnection(worker, channel, settings, client, local, readAhead);
        worker.clientOpened();
        if (connection.tls != null) {
            connection.arm(TimerPurpose.HANDSHAKE, connection.settings.tlsHandshakeNanos());
        } else {
            connection.arm(TimerPurpose.IDLE, connection.idleNanos());
        }
        if (readAhead != null) {
            // Those bytes left the socket: no event will announce them. A failure here is the
            // connection's, cleaned up as the loop would (not the opener's, which knows less).
            try {
                connection.progress();
            } catch (RuntimeException e) {
                connection.abort(e);
            }
        }
        return connection;
    }

    // ---- the request, for the Exchange ----

    @Override
    public RequestParser parser() {
        return parser;
    }

    @Override
    public ForwardContext forward() {
        return forward;
    }

    @Override
    public InetSocketAddress client() {
        return client;
    }

    /**
     * The address the client connected to (as a PROXY header gave it, else this socket's; the
     * wildcard address if the socket can no longer say, since it is failing anyway).
     */
    @Override
    public InetSocketAddress local() {
        return local != null ? local : Acceptor.localAddress(channel);
    }

    State state() {
        return state;
    }

    @Override
    public ByteBuffer in() {
        return in;
    }

    @Override
    public boolean inputClosed() {
        return inputClosed;
    }

    // ---- the response, from the Exchange ----

    @Override
    public boolean readyForResponseHead() {
        return !hasPendingOutput();
    }

    @Override
    public int writeResponseHead(HttpHead request, HttpHead response) {
        // While draining, every response says Connection: close, so the client goes elsewhere. So
        // does one that begins before the request body is all in (a backend may answer an upload
        // early): the connection closes after it (responseComplete), since the rest of the body is
        // not a next request, and a head promising keep-alive sent the client's next request into
        // the close.
        HeadRewriter.ClientPersistence persistence = worker.isDraining() || !exchange.requestComplete()
                ? HeadRewriter.ClientPersistence.CLOSE : HeadRewriter.ClientPersistence.KEEP_ALIVE_IF_ALLOWED;
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

    @Override
    public int responseRoom() {
        return outRoom();
    }

    @Override
    public void writeResponseBody(ByteBuffer source) {
        out().put(source); // HTTP/1.1 relays the backend's framing as it is
    }

    @Override
    public int writeRedirect(int httpsPort) {
        HttpHead head = parser.head();
        // A request body would have to be read and thrown away first; closing is simpler and rare.
        boolean close = !head.isKeepAlive() || head.bodyKind() != BodyKind.NONE || worker.isDraining();
        ByteBuffer target = out();
        int before = target.position();
        if (!RedirectResponse.write(head, httpsPort, close, target)) {
            return -1;
        }
        closeAfterResponse = close;
        return target.position() - before;
    }

    @Override
    public boolean hasUnsentResponse() {
        return hasPendingOutput();
    }

    @Override
    public void responseComplete(boolean requestComplete) {
        // A request whose body was not all read leaves bytes that are not a next request.
        exchangeFinished(requestComplete && !closeAfterResponse);
    }

    @Override
    public int writeTunnel(ByteBuffer from) {
        from.flip();
        try {
            return BufferPool.copyWhatFits(from, out());
        } finally {
            from.compact();
        }
    }

    @Override
    public void tunnelFinished() {
        exchangeFinished(false);
    }

    /** The buffer of bytes going to the client, acquired on demand. */
    private ByteBuffer out() {
        if (out == null) {
            out = buffers().acquire();
        }
        return out;
    }

    private boolean hasPendingOutput() {
        return out != null && out.position() > 0;
    }

    /** Room left for bytes to the client; a whole buffer when none is held. */
    private int outRoom() {
        return out == null ? buffers().bufferSize() : out.remaining();
    }

    // ---- events ----

    @Override
    public void onReady(SelectionKey key, int readyOps) {
        if ((readyOps & SelectionKey.OP_READ) != 0) {
            socketReadable = true;
        }
        progress();
    }

    @Override
    public void abort(Throwable cause) {
        LOG.log(System.Logger.Level.DEBUG, () -> "client connection aborted: " + cause);
        close();
    }

    /**
     * The TLS engine finished its handshake computation on another thread: its state changed
     * without a socket event (a flight to send, or a failure to report), so read it once more.
     */
    private void handshakeTasksDone() {
        socketReadable = true;
        progress();
    }

    /** Moves bytes in every direction as far as they go now, then waits for what is missing. */
    @Override
    public void progress() {
        try {
            for (int round = 0; round < MAX_ROUNDS && state != State.CLOSED && state != State.HANDED_OVER; round++) {
                boolean moved = flushOut();
                if (state == State.CLOSING) {
                    if (closingStep()) {
                        return;
                    }
                    break;
                }
                moved |= readIn();
                if (alpnChoseHttp2()) {
                    handOverToHttp2(inputClosed ? -1 : 0);
                    return;
                }
                moved |= processInput();
                if (exchange != null) {
                    moved |= exchange.pump();
                }
                if (!moved) {
                    break;
                }
            }
            if (state != State.CLOSED && state != State.HANDED_OVER) {
                // An idle keep-alive connection holds no buffer between events.
                releaseEmpty();
                if ((transport.hasBufferedInput() || hasReadAhead()) && (in == null || in.hasRemaining())) {
                    // Decrypted bytes wait inside the TLS engine and no socket event will announce
                    // them: come back after the other connections had their turn.
                    worker.loop().executeLocal(progressTask);
                }
                updateInterest();
                if (exchange != null) {
                    exchange.updateInterest();
                }
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "client connection failed: " + e);
            close();
        } catch (BufferPool.Exhausted e) {
            outOfBufferMemory();
        }
    }

    /**
     * A buffer this connection needed could not be had: the process's direct memory is used up
     * (the pool logged and counted it). The request in progress is answered 503 if its response
     * has not begun and a buffer for the answer can be had; without a request, or without that
     * buffer, the connection closes (FIN and the lingering close where no buffer is needed for it).
     * The loop and the other connections go on; this one gives its buffers back.
     */
    private void outOfBufferMemory() {
        if (state == State.CLOSING) {
            close(); // even closing needed a buffer (a TLS close_notify)
            return;
        }
        if (exchange == null || !exchange.outOfBufferMemory()) {
            beginClosing();
        }
        if (state == State.CLOSING) {
            progress(); // at most once more: a second shortage here closes at once (above)
        }
    }

    /**
     * One step of closing: flush the final response, then FIN (close_notify first for TLS), then
     * read and discard until the client closes too or the grace timer fires. Closing with unread
     * input would make the kernel send RST, which can destroy the response before the client reads
     * it (the reason for nginx's lingering close). Returns true once closed.
     */
    private boolean closingStep() throws IOException {
        if (hasPendingOutput()) {
            return false;
        }
        if (!outputShutdown) {
            outputShutdown = true;
            transport.shutdownOutput();
        }
        if (!transport.flush()) {
            return false;
        }
        // The direct scratch: a heap one is copied through a temporary direct buffer the JDK
        // allocates, which fails (after a half-second stall) when direct memory is used up.
        if (!inputClosed && !LingeringClose.discardUntilEof(channel, worker.scratch(true))) {
            return false;
        }
        inputClosed = true;
        close();
        return true;
    }

    private boolean flushOut() throws IOException {
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
        releaseEmpty();
        return moved;
    }

    private boolean hasReadAhead() {
        return readAhead != null && readAhead.hasPreread();
    }

    private boolean readIn() throws IOException {
        if (inputClosed || (in != null && !in.hasRemaining())) {
            return false;
        }
        if (transport.readPaused() || (!socketReadable && !transport.hasBufferedInput() && !hasReadAhead())) {
            // The last read drained the socket; the (level-triggered) selector says when more
            // arrives. Reading anyway cost 1.6 EAGAIN reads per keep-alive request.
            return false;
        }
        if (in == null) {
            in = buffers().acquire();
        }
        int room = in.remaining();
        boolean handshaking = tls != null && tls.engine().state() == TlsEngine.State.HANDSHAKING;
        int n;
        try {
            n = transport.read(in);
        } catch (IOException e) {
            if (handshaking) {
                worker.tlsHandshakeFailed();
            }
            throw e;
        }
        if (handshaking && tls.engine().state() != TlsEngine.State.HANDSHAKING && tls.engine().failure() == null) {
            worker.tlsHandshakeCompleted();
        }
        if (n < 0) {
            inputClosed = true;
            return true;
        }
        if (n < room) {
            socketReadable = false;
        }
        if (n > 0 && state == State.IDLE) {
            // The head timeout starts with the first byte of a request, and covers the whole head.
            state = State.READING_HEAD;
            arm(TimerPurpose.HEAD, settings.clientHeadNanos());
        }
        if (tls != null && timerPurpose == TimerPurpose.HANDSHAKE && tls.engine().state() != TlsEngine.State.HANDSHAKING
                && state == State.IDLE) {
            arm(TimerPurpose.IDLE, idleNanos());
        }
        return n > 0;
    }

    /**
     * The handshake chose HTTP/2 (RFC 9113 §3.2), or a plain connection began with the preface
     * (§3.3): the socket, transport and any bytes already read go to an {@link Http2Connection},
     * which keeps this connection's slot.
     */
    private void handOverToHttp2(int lastRead) {
        state = State.HANDED_OVER;
        disarm();
        ByteBuffer received = in;
        in = null;
        if (lastRead < 0) {
            received = buffers().releaseIfEmpty(received); // the client already left; the new owner sees the EOF itself
        }
        if (out != null) {
            buffers().release(out);
            out = null;
        }
        Http2Connection.takeOver(worker, channel, key, transport, settings, forward, client, local, received);
    }

    /**
     * True once, when the TLS handshake has finished and ALPN chose {@code h2} (RFC 9113 §3.2).
     * Checked after every read rather than where the handshake ends: with JSSE's off-loop tasks
     * the last handshake flight may be produced while flushing, outside a read.
     */
    private boolean alpnChoseHttp2() {
        if (tls == null || alpnChecked || tls.engine().state() == TlsEngine.State.HANDSHAKING
                || tls.engine().failure() != null) {
            return false;
        }
        alpnChecked = true;
        return "h2".equals(tls.engine().applicationProtocol());
    }

    /** 1: the buffer starts with the whole HTTP/2 preface; 0: with a part of it; -1: something else. */
    private int http2Preface() {
        int n = Math.min(in.position(), HTTP2_PREFACE.length);
        for (int i = 0; i < n; i++) {
            if (in.get(i) != HTTP2_PREFACE[i]) {
                return -1;
            }
        }
        return n == HTTP2_PREFACE.length ? 1 : 0;
    }

    /** Parses request heads and hands body bytes to the exchange. */
    private boolean processInput() {
        boolean moved = false;
        switch (state) {
            case IDLE, READING_HEAD -> {
                if (in == null || in.position() == 0) {
                    if (inputClosed) {
                        // Clean close between requests, or mid-head (nothing to answer).
                        close();
                        return false;
                    }
                    return false;
                }
                if (!anyRequest && tls == null && settings.http2Cleartext()) {
                    int preface = http2Preface();
                    if (preface > 0) {
                        handOverToHttp2(0); // h2c with prior knowledge (RFC 9113 §3.3)
                        return true;
                    }
                    if (preface == 0) {
                        if (inputClosed) {
                            close();
                        }
                        return false; // so far it looks like the preface: wait for the rest
                    }
                }
                takeSession();
                in.flip();
                ParseStatus status;
                try {
                    status = parser.parse(in);
                } finally {
                    in.compact();
                }
                switch (status) {
                    case NEED_MORE -> {
                        if (inputClosed) {
                            close();
                        }
                        return true;
                    }
                    case ERROR -> {
                        exchange.reportRejected(parser.errorStatus());
                        respondAndClose(parser.errorStatus());
                        return true;
                    }
                    case HEAD_COMPLETE -> {
                        anyRequest = true;
                        state = State.EXCHANGE;
                        disarm();
                        exchange.begin();
                        if (state == State.EXCHANGE && settings.clientBodyNanos() > 0
                                && parser.head().bodyKind() != BodyKind.NONE) {
                            arm(TimerPurpose.BODY, settings.clientBodyNanos());
                        }
                        return true;
                    }
                    default -> throw new IllegalStateException("parser returned " + status + " for a head");
                }
            }
            case EXCHANGE -> moved = exchange.forwardRequestBody();
            case TUNNEL -> moved = exchange.forwardTunnel();
            case CLOSING, CLOSED -> {
                return false;
            }
            default -> throw new IllegalStateException("client connection in state " + state);
        }
        return moved;
    }

    /** Graceful shutdown: idle connections close after a short grace, busy ones after their current response. */
    void drain() {
        // Not at once: a keep-alive client may have a request on the way, and closing under it
        // fails that request (the client sees a reset, not an answer). A request that arrives
        // within the grace is answered with Connection: close; silence closes the connection. A
        // TLS handshake in progress keeps its own deadline and gets the grace once it is done.
        if (state == State.IDLE && timerPurpose == TimerPurpose.IDLE) {
            arm(TimerPurpose.IDLE, idleNanos());
        }
    }

    /**
     * Waiting for a (first or next) request with nothing in flight either way: may be closed to
     * make room. Not while the last response is still on its way out (an exchange finishes when
     * its last bytes are queued, not sent), nor with request bytes already read.
     */
    @Override
    public boolean isIdle() {
        return state == State.IDLE && timerPurpose == TimerPurpose.IDLE && (in == null || in.position() == 0)
                && !hasPendingOutput() && !transport.wantsWrite() && !transport.hasBufferedInput();
    }


    /** When it last became idle; the earliest is the connection idle longest. */
    @Override
    public long idleSinceNanos() {
        return idleSinceNanos;
    }

    /** The keep-alive idle timeout; while the loop drains, only the short grace of drain(). */
    private long idleNanos() {
        return worker.isDraining() ? Math.min(settings.clientIdleNanos(), DRAIN_IDLE_GRACE_NANOS)
                : settings.clientIdleNanos();
    }

    /** The exchange is over; continue with the next request (maybe already buffered) or close. */
    private void exchangeFinished(boolean keepAlive) {
        closeAfterResponse = false;
        closeDelimitedResponse = false;
        // keepAlive is what the response told the client. A drain that began while it was on its
        // way does not close under the client's next request: the idle timer below is then the
        // drain's short grace, and that request is answered with Connection: close.
        if (!keepAlive) {
            beginClosing();
            return;
        }
        parser.reset();
        state = (in != null && in.position() > 0) ? State.READING_HEAD : State.IDLE;
        if (state == State.READING_HEAD) {
            arm(TimerPurpose.HEAD, settings.clientHeadNanos());
        } else {
            arm(TimerPurpose.IDLE, idleNanos());
            giveBackSession();
        }
        releaseEmpty();
    }

    private void takeSession() {
        if (parser == null) {
            parser = worker.takeParser(settings);
            exchange = worker.takeExchange();
            exchange.bind(this, settings, clientAddress);
        }
    }

    private void giveBackSession() {
        if (parser != null && exchange.isIdle()) {
            worker.giveBack(parser, exchange);
            parser = null;
            exchange = null;
        }
    }

    @Override
    public void enterTunnel() {
        state = State.TUNNEL;
        disarm();
    }

    /** Sends a canned error response (if the status has one) and closes after it is flushed. */
    @Override
    public void respondAndClose(int status) {
        if (state == State.CLOSED || state == State.CLOSING) {
            return;
        }
        if (ErrorResponses.supports(status)) {
            ByteBuffer target;
            try {
                target = out();
            } catch (BufferPool.Exhausted e) {
                close(); // no buffer for the answer either (see outOfBufferMemory)
                return;
            }
            if (!ErrorResponses.copyTo(status, target)) {
                // Whatever is pending is a partial response we cannot complete; drop it for the error.
                target.clear();
                ErrorResponses.copyTo(status, target);
            }
        }
        beginClosing();
    }

    /** Flushes what is pending and closes; the input is no longer read. */
    void beginClosing() {
        if (state == State.CLOSED || state == State.CLOSING) {
            return;
        }
        state = State.CLOSING;
        arm(TimerPurpose.CLOSING, CLOSING_GRACE_NANOS);
    }

    private void onTimeout() {
        switch (timerPurpose) {
            case HANDSHAKE -> {
                if (tls != null && tls.engine().state() != TlsEngine.State.HANDSHAKING && state == State.IDLE) {
                    arm(TimerPurpose.IDLE, idleNanos());
                } else {
                    if (tls != null && tls.engine().state() == TlsEngine.State.HANDSHAKING) {
                        worker.tlsHandshakeFailed(); // a handshake timeout is a failed handshake (the metric says so)
                    }
                    close();
                }
            }
            case IDLE -> close();
            case HEAD -> {
                // Slowloris or a stalled client: 408 if we can still say so (RFC 9110 §15.5.9).
                takeSession();
                exchange.reportRejected(408);
                respondAndClose(408);
                progress();
            }
            case BODY -> {
                if (state == State.EXCHANGE && exchange.clientBodyTimedOut()) {
                    // Still waiting for a backend: none of that time was the client's to send in.
                    arm(TimerPurpose.BODY, settings.clientBodyNanos());
                }
                progress();
            }
            case CLOSING -> close();
            default -> throw new IllegalStateException("timer purpose " + timerPurpose);
        }
    }

    private void arm(TimerPurpose purpose, long nanos) {
        if (purpose == TimerPurpose.IDLE && timerPurpose != TimerPurpose.IDLE) {
            idleSinceNanos = worker.loop().now(); // entering idle; a re-arm (drain grace) keeps the age
        }
        timerPurpose = purpose;
        worker.loop().timers().schedule(timeout, worker.loop().now() + nanos);
    }

    private void disarm() {
        worker.loop().timers().cancel(timeout);
    }

    private void updateInterest() {
        int ops = 0;
        boolean wantRead = !inputClosed && (state == State.CLOSING ? outputShutdown : in == null || in.hasRemaining());
        if ((wantRead || transport.wantsRead()) && !transport.readPaused()) {
            ops |= SelectionKey.OP_READ;
        }
        if (hasPendingOutput() || transport.wantsWrite()) {
            ops |= SelectionKey.OP_WRITE;
        }
        if (ops != interestOps && key.isValid()) {
            interestOps = ops;
            key.interestOps(ops);
        }
    }

    private void releaseEmpty() {
        in = buffers().releaseIfEmpty(in);
        out = buffers().releaseIfEmpty(out);
    }

    @Override
    public void close() {
        if (state == State.CLOSED || state == State.HANDED_OVER) {
            return;
        }
        // Mid-exchange (a backend failure or timeout, a shutdown) a close-delimited body is cut
        // short: only a reset tells the client so (RFC 9112 §8, "incomplete messages").
        boolean truncating = state == State.EXCHANGE && closeDelimitedResponse;
        state = State.CLOSED;
        try {
            disarm();
            if (exchange != null) {
                exchange.abortBackend();
                giveBackSession();
            }
            if (in != null) {
                buffers().releaseZeroed(in);
                in = null;
            }
            if (out != null) {
                buffers().releaseZeroed(out);
                out = null;
            }
            transport.release();
        } finally {
            // Whatever failed above, the socket closes and the connection's slot comes back.
            key.cancel();
            if (truncating) {
                resetOnClose();
            }
            Acceptor.closeQuietly(channel);
            worker.clientClosed();
        }
    }

    /** SO_LINGER 0: the close sends RST instead of FIN. */
    private void resetOnClose() {
        try {
            channel.setOption(java.net.StandardSocketOptions.SO_LINGER, 0);
        } catch (IOException | RuntimeException e) {
            // The socket is failing already; a plain close is all that is left.
        }
    }

    private BufferPool buffers() {
        return worker.loop().buffers();
    }
}
