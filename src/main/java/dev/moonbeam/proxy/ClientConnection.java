package dev.moonbeam.proxy;

import dev.moonbeam.http.BodyKind;
import dev.moonbeam.http.ForwardContext;
import dev.moonbeam.http.HeadRewriter;
import dev.moonbeam.http.HttpHead;
import dev.moonbeam.http.RequestParser;
import dev.moonbeam.loop.BufferPool;
import dev.moonbeam.loop.IoHandler;
import dev.moonbeam.loop.PlainTransport;
import dev.moonbeam.loop.PrereadChannel;
import dev.moonbeam.loop.Transport;
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
 * direction and then sets the interest ops for what it waits on. Its parts, made once per
 * connection: {@link ClientInput} and {@link ClientOutput} (the two directions' buffers),
 * {@link ClientTls} (TLS only), {@link ClientTimeouts} (the timer) and {@link Http1Requests} (the
 * requests and their exchanges). Loop-owned.
 */
final class ClientConnection implements IoHandler, IdleConnection, ClientSide {
    enum State { IDLE, READING_HEAD, EXCHANGE, TUNNEL, CLOSING, CLOSED, HANDED_OVER }

    private static final System.Logger LOG = System.getLogger(ClientConnection.class.getName());
    /** Passes of {@link #progress()} per event: enough to move a buffer each way a few times, bounded for fairness. */
    private static final int MAX_ROUNDS = 16;

    private final Worker worker;
    private final SocketChannel channel;
    private final SelectionKey key;
    private final Transport transport;
    /** Null for a plain connection. */
    private final ClientTls tls;
    private final ProxySettings settings;
    private final ForwardContext forward;
    private final InetSocketAddress client;
    /** Null unless a PROXY header named it; see {@link #local()}. */
    private final InetSocketAddress local;
    private final ClientInput input;
    private final ClientOutput output;
    private final ClientTimeouts timeouts;
    private final Http1Requests requests;
    /** Bound once, so re-running progress allocates nothing. */
    private final Runnable progressTask = this::progress;
    private State state = State.IDLE;
    private int interestOps = SelectionKey.OP_READ;

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
        PrereadChannel preread = readAhead != null ? new PrereadChannel(readAhead, channel) : null;
        ByteChannel io = preread != null ? preread : channel;
        if (settings.tls() != null) {
            this.tls = new ClientTls(worker, io, settings, this::handshakeTasksDone);
            this.transport = tls.transport();
        } else {
            this.tls = null;
            this.transport = new PlainTransport(io);
        }
        this.input = new ClientInput(worker, transport, tls, preread);
        this.output = new ClientOutput(worker, transport);
        this.timeouts = new ClientTimeouts(this, worker, settings, tls);
        this.requests = new Http1Requests(this, worker, settings, timeouts, forward.clientAddress(),
                tls == null && settings.http2Cleartext());
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
            connection.timeouts.arm(ClientTimeouts.Purpose.HANDSHAKE, connection.settings.tlsHandshakeNanos());
        } else {
            connection.timeouts.armIdle();
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
        return requests.parser();
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

    void enter(State next) {
        state = next;
    }

    Http1Requests requests() {
        return requests;
    }

    @Override
    public ByteBuffer in() {
        return input.buffer();
    }

    @Override
    public boolean inputClosed() {
        return input.closed();
    }

    // ---- the response, from the Exchange ----

    @Override
    public boolean readyForResponseHead() {
        return !output.hasPending();
    }

    @Override
    public int writeResponseHead(HttpHead request, HttpHead response) {
        // While draining, every response says Connection: close, so the client goes elsewhere. So
        // does one that begins before the request body is all in (a backend may answer an upload
        // early): the connection closes after it (responseComplete), since the rest of the body is
        // not a next request, and a head promising keep-alive sent the client's next request into
        // the close.
        HeadRewriter.ClientPersistence persistence = worker.isDraining() || !requests.exchange().requestComplete()
                ? HeadRewriter.ClientPersistence.CLOSE : HeadRewriter.ClientPersistence.KEEP_ALIVE_IF_ALLOWED;
        return output.writeHead(request, response, persistence);
    }

    @Override
    public int responseRoom() {
        return output.room();
    }

    @Override
    public void writeResponseBody(ByteBuffer source) {
        output.writeBody(source);
    }

    @Override
    public int writeRedirect(int httpsPort) {
        HttpHead head = requests.parser().head();
        // A request body would have to be read and thrown away first; closing is simpler and rare.
        boolean close = !head.isKeepAlive() || head.bodyKind() != BodyKind.NONE || worker.isDraining();
        return output.writeRedirect(head, httpsPort, close);
    }

    @Override
    public boolean hasUnsentResponse() {
        return output.hasPending();
    }

    @Override
    public void responseComplete(boolean requestComplete) {
        // A request whose body was not all read leaves bytes that are not a next request.
        exchangeFinished(requestComplete && !output.closeAfterResponse());
    }

    @Override
    public int writeTunnel(ByteBuffer from) {
        return output.writeTunnel(from);
    }

    @Override
    public void tunnelFinished() {
        exchangeFinished(false);
    }

    // ---- events ----

    @Override
    public void onReady(SelectionKey key, int readyOps) {
        if ((readyOps & SelectionKey.OP_READ) != 0) {
            input.socketReady();
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
        input.socketReady();
        progress();
    }

    /** Moves bytes in every direction as far as they go now, then waits for what is missing. */
    @Override
    public void progress() {
        try {
            for (int round = 0; round < MAX_ROUNDS && state != State.CLOSED && state != State.HANDED_OVER; round++) {
                boolean moved = flushOut();
                if (state == State.CLOSING) {
                    if (output.closingStep(input, channel)) {
                        close();
                        return;
                    }
                    break;
                }
                moved |= readIn();
                if (tls != null && tls.alpnChoseHttp2()) {
                    handOverToHttp2(input.closed() ? -1 : 0);
                    return;
                }
                moved |= processInput();
                Exchange exchange = requests.exchange();
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
                if ((transport.hasBufferedInput() || input.hasReadAhead()) && input.hasRoom()) {
                    // Decrypted bytes wait inside the TLS engine and no socket event will announce
                    // them: come back after the other connections had their turn.
                    worker.loop().executeLocal(progressTask);
                }
                updateInterest();
                Exchange exchange = requests.exchange();
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
        if (requests.exchange() == null || !requests.exchange().outOfBufferMemory()) {
            beginClosing();
        }
        if (state == State.CLOSING) {
            progress(); // at most once more: a second shortage here closes at once (above)
        }
    }

    private boolean flushOut() throws IOException {
        boolean moved = output.flush();
        releaseEmpty();
        return moved;
    }

    private boolean readIn() throws IOException {
        int n = input.read();
        if (n == ClientInput.NOT_READ) {
            return false;
        }
        if (n < 0) {
            return true;
        }
        if (n > 0 && state == State.IDLE) {
            // The head timeout starts with the first byte of a request, and covers the whole head.
            state = State.READING_HEAD;
            timeouts.armHead();
        }
        if (tls != null && timeouts.purpose() == ClientTimeouts.Purpose.HANDSHAKE && !tls.handshaking()
                && state == State.IDLE) {
            timeouts.armIdle();
        }
        return n > 0;
    }

    /**
     * The handshake chose HTTP/2 (RFC 9113 §3.2), or a plain connection began with the preface
     * (§3.3): the socket, transport and any bytes already read go to an {@link Http2Connection},
     * which keeps this connection's slot.
     */
    void handOverToHttp2(int lastRead) {
        state = State.HANDED_OVER;
        timeouts.disarm();
        ByteBuffer received = input.takeBuffer();
        if (lastRead < 0) {
            received = buffers().releaseIfEmpty(received); // the client already left; the new owner sees the EOF itself
        }
        output.release();
        Http2Connection.takeOver(worker, channel, key, transport, settings, forward, client, local, received);
    }

    /** Parses request heads and hands body bytes to the exchange. */
    private boolean processInput() {
        boolean moved = false;
        switch (state) {
            case IDLE, READING_HEAD -> {
                return requests.readHead(input);
            }
            case EXCHANGE -> moved = requests.exchange().forwardRequestBody();
            case TUNNEL -> moved = requests.exchange().forwardTunnel();
            case CLOSING, CLOSED -> {
                return false;
            }
            default -> throw new IllegalStateException("client connection in state " + state);
        }
        return moved;
    }

    /** Graceful shutdown: idle connections close after a short grace, busy ones after their current response. */
    void drain() {
        timeouts.drain();
    }

    /**
     * Waiting for a (first or next) request with nothing in flight either way: may be closed to
     * make room. Not while the last response is still on its way out (an exchange finishes when
     * its last bytes are queued, not sent), nor with request bytes already read.
     */
    @Override
    public boolean isIdle() {
        return state == State.IDLE && timeouts.purpose() == ClientTimeouts.Purpose.IDLE && !input.hasBytes()
                && !output.hasPending() && !transport.wantsWrite() && !transport.hasBufferedInput();
    }

    /** When it last became idle; the earliest is the connection idle longest. */
    @Override
    public long idleSinceNanos() {
        return timeouts.idleSinceNanos();
    }

    /** The exchange is over; continue with the next request (maybe already buffered) or close. */
    private void exchangeFinished(boolean keepAlive) {
        output.responseEnded();
        // keepAlive is what the response told the client. A drain that began while it was on its
        // way does not close under the client's next request: the idle timer below is then the
        // drain's short grace, and that request is answered with Connection: close.
        if (!keepAlive) {
            beginClosing();
            return;
        }
        requests.next();
        state = input.hasBytes() ? State.READING_HEAD : State.IDLE;
        if (state == State.READING_HEAD) {
            timeouts.armHead();
        } else {
            timeouts.armIdle();
            requests.giveBackSession();
        }
        releaseEmpty();
    }

    @Override
    public void enterTunnel() {
        state = State.TUNNEL;
        timeouts.disarm();
    }

    /** Sends a canned error response (if the status has one) and closes after it is flushed. */
    @Override
    public void respondAndClose(int status) {
        if (state == State.CLOSED || state == State.CLOSING) {
            return;
        }
        if (!output.writeError(status)) {
            close(); // no buffer for the answer either (see outOfBufferMemory)
            return;
        }
        beginClosing();
    }

    /** Flushes what is pending and closes; the input is no longer read. */
    void beginClosing() {
        if (state == State.CLOSED || state == State.CLOSING) {
            return;
        }
        state = State.CLOSING;
        timeouts.arm(ClientTimeouts.Purpose.CLOSING, ClientTimeouts.CLOSING_GRACE_NANOS);
    }

    private void updateInterest() {
        int ops = 0;
        boolean wantRead = !input.closed() && (state == State.CLOSING ? output.isShutdown() : input.hasRoom());
        if ((wantRead || transport.wantsRead()) && !transport.readPaused()) {
            ops |= SelectionKey.OP_READ;
        }
        if (output.hasPending() || transport.wantsWrite()) {
            ops |= SelectionKey.OP_WRITE;
        }
        if (ops != interestOps && key.isValid()) {
            interestOps = ops;
            key.interestOps(ops);
        }
    }

    private void releaseEmpty() {
        input.releaseIfEmpty();
        output.releaseIfEmpty();
    }

    @Override
    public void close() {
        if (state == State.CLOSED || state == State.HANDED_OVER) {
            return;
        }
        // Mid-exchange (a backend failure or timeout, a shutdown) a close-delimited body is cut
        // short: only a reset tells the client so (RFC 9112 §8, "incomplete messages").
        boolean truncating = state == State.EXCHANGE && output.closeDelimited();
        state = State.CLOSED;
        try {
            timeouts.disarm();
            if (requests.exchange() != null) {
                requests.exchange().abortBackend();
                requests.giveBackSession();
            }
            input.releaseZeroed();
            output.releaseZeroed();
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
