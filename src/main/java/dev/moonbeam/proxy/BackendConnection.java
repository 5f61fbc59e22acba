package dev.moonbeam.proxy;

import dev.moonbeam.balance.Backend;
import dev.moonbeam.balance.BackendPool;
import dev.moonbeam.loop.BufferPool;
import dev.moonbeam.loop.IoHandler;
import dev.moonbeam.loop.Timeout;
import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * One TCP connection to a backend: its socket, its two buffers (held only while bytes are in
 * flight) and its place in the loop's keep-alive pool.
 *
 * <p>States: CONNECTING (backend connect timeout, run by the {@link Exchange}), ACTIVE (serving an
 * exchange; the exchange's timeouts apply), IDLE (in the pool, watching OP_READ: any byte or FIN
 * from the backend closes it, so a dead connection is never handed out; idle timeout = the
 * pool's, shortened by the backend's {@code Keep-Alive: timeout}), CLOSED.
 *
 * <p>Loop-owned.
 */
final class BackendConnection implements IoHandler {
    enum State { CONNECTING, ACTIVE, IDLE, CLOSED }

    private final Worker worker;
    private final Backend backend;
    private final SocketChannel channel;
    private final SelectionKey key;
    private final Timeout idleTimeout = new Timeout(this::onIdleExpired);
    private State state;
    private Exchange owner;
    ByteBuffer in;
    ByteBuffer out;
    boolean inputClosed;
    private boolean readable = true;
    private int interestOps;
    private int requestsServed;

    private BackendConnection(Worker worker, Backend backend, SocketChannel channel, boolean connected) throws IOException {
        this.worker = worker;
        this.backend = backend;
        this.channel = channel;
        this.state = connected ? State.ACTIVE : State.CONNECTING;
        this.interestOps = connected ? 0 : SelectionKey.OP_CONNECT;
        this.key = worker.loop().register(channel, interestOps, this);
    }

    /** Starts a non-blocking connect; the exchange hears of the result through {@link Exchange#onBackendReady}. */
    static BackendConnection connect(Worker worker, Backend backend, Exchange owner) throws IOException {
        SocketChannel channel = SocketChannel.open();
        try {
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            boolean connected = channel.connect(backend.spec().address());
            BackendConnection connection = new BackendConnection(worker, backend, channel, connected);
            connection.owner = owner;
            return connection;
        } catch (IOException | RuntimeException e) {
            Acceptor.closeQuietly(channel);
            throw e;
        }
    }

    Backend backend() {
        return backend;
    }

    State state() {
        return state;
    }

    boolean isConnecting() {
        return state == State.CONNECTING;
    }

    /** True once this connection has served a request before the current one. */
    boolean isReused() {
        return requestsServed > 0;
    }

    /** Completes a pending connect; throws when the backend refused or is unreachable. */
    boolean finishConnect() throws IOException {
        if (channel.finishConnect()) {
            state = State.ACTIVE;
            return true;
        }
        return false;
    }

    /** Takes this idle connection out of the pool for {@code exchange}. */
    void adopt(Exchange exchange) {
        worker.loop().timers().cancel(idleTimeout);
        owner = exchange;
        state = State.ACTIVE;
    }

    // ---- socket I/O (the only places this class touches the channel) ----

    /** Reads into {@code in}; returns bytes read, or -1 at end of stream. */
    int read() throws IOException {
        if (in == null) {
            in = buffers().acquire();
        }
        int room = in.remaining();
        int n = channel.read(in);
        if (n < 0) {
            inputClosed = true;
        } else if (n < room) {
            readable = false; // drained: wait for the selector instead of a read that returns 0
        }
        return n;
    }

    /** True until a read comes back short, and again when the selector reports OP_READ. */
    boolean isReadable() {
        return readable;
    }

    /** Writes pending {@code out} bytes; returns bytes written. */
    int flush() throws IOException {
        if (out == null || out.position() == 0) {
            return 0;
        }
        out.flip();
        int n;
        try {
            n = channel.write(out);
        } finally {
            out.compact();
        }
        releaseEmpty();
        return n;
    }

    private boolean outputShutdown;

    /** Sends FIN (tunnel half-close); idempotent. */
    void shutdownOutput() {
        if (!outputShutdown && state != State.CLOSED) {
            outputShutdown = true;
            try {
                channel.shutdownOutput();
            } catch (IOException e) {
                // The backend is gone already; reading its end of the tunnel will say so.
            }
        }
    }

    ByteBuffer out() {
        if (out == null) {
            out = buffers().acquire();
        }
        return out;
    }

    boolean hasPendingOutput() {
        return out != null && out.position() > 0;
    }

    boolean hasBufferedInput() {
        return in != null && in.position() > 0;
    }

    /** Gives back buffers that are empty; an idle connection holds none. */
    void releaseEmpty() {
        in = buffers().releaseIfEmpty(in);
        out = buffers().releaseIfEmpty(out);
    }

    void setInterest(int ops) {
        if (ops != interestOps && key.isValid()) {
            interestOps = ops;
            key.interestOps(ops);
        }
    }

    /**
     * Returns this connection to the loop's pool after a clean exchange.
     *
     * @param keepAliveTimeoutSeconds the backend's advertised {@code Keep-Alive: timeout}, or -1
     */
    void release(int keepAliveTimeoutSeconds) {
        owner = null;
        requestsServed++;
        long now = worker.loop().now();
        long lifetime = worker.settings().backendIdleNanos();
        if (keepAliveTimeoutSeconds >= 0) {
            // Retire before the backend closes its end, or a request could race the backend's FIN.
            lifetime = Math.min(lifetime, keepAliveTimeoutSeconds * 1_000_000_000L - ProxySettings.KEEP_ALIVE_SAFETY_MARGIN_NANOS);
        }
        if (lifetime <= 0 || hasBufferedInput() || hasPendingOutput() || inputClosed) {
            close();
            return;
        }
        releaseEmpty();
        state = State.IDLE;
        setInterest(SelectionKey.OP_READ);
        BackendConnection evicted = worker.pool(backend).offer(this, now + lifetime);
        worker.loop().timers().schedule(idleTimeout, now + lifetime);
        if (evicted != null) {
            evicted.close();
        }
    }

    @Override
    public void onReady(SelectionKey key, int readyOps) throws Exception {
        switch (state) {
            case IDLE -> {
                // A pooled connection has nothing to say: bytes or FIN mean it is unusable.
                worker.pool(backend).remove(this);
                close();
            }
            case CONNECTING, ACTIVE -> {
                if ((readyOps & SelectionKey.OP_READ) != 0) {
                    readable = true;
                }
                if (owner != null) {
                    owner.onBackendReady(readyOps);
                } else {
                    close();
                }
            }
            case CLOSED -> {
                // A stale key event after close; nothing to do.
            }
            default -> throw new IllegalStateException("backend connection in state " + state);
        }
    }

    @Override
    public void abort(Throwable cause) {
        if (owner != null) {
            owner.onBackendFailure(cause);
        } else {
            close();
        }
    }

    private void onIdleExpired() {
        if (state == State.IDLE) {
            BackendPool<BackendConnection> pool = worker.pool(backend);
            pool.remove(this);
            close();
        }
    }

    void close() {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        owner = null;
        worker.loop().timers().cancel(idleTimeout);
        if (in != null) {
            buffers().release(in);
            in = null;
        }
        if (out != null) {
            buffers().release(out);
            out = null;
        }
        key.cancel();
        Acceptor.closeQuietly(channel);
    }

    private BufferPool buffers() {
        return worker.loop().buffers();
    }
}
