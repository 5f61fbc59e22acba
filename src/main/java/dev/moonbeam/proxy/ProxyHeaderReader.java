package dev.moonbeam.proxy;

import dev.moonbeam.loop.IoHandler;
import dev.moonbeam.loop.Timeout;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * The first stage of a client connection when {@code proxy_protocol} is on: reads the PROXY header
 * (required from the listed balancers, refused from everyone else), then hands the socket, the
 * client address the header carries and any bytes read past it to a new {@link ClientConnection}.
 * A connection that breaks the rule is closed and counted; it never reaches the HTTP code.
 *
 * <p>Loop-owned. Holds the client-limit slot the acceptor took: handed on with the connection, or
 * given back when refused.
 */
final class ProxyHeaderReader implements IoHandler, IdleConnection {
    private static final System.Logger LOG = System.getLogger(ProxyHeaderReader.class.getName());
    private final Worker worker;
    private final SocketChannel channel;
    private final ProxySettings settings;
    private final InetSocketAddress peer;
    private final boolean fromBalancer;
    private final SelectionKey key;
    private final Timeout timeout = new Timeout(this::onTimeout);
    /** A pooled I/O buffer: far larger than the largest header accepted (ProxyProtocol bounds it). */
    private ByteBuffer in;
    private boolean done;
    private final long openedNanos;

    private ProxyHeaderReader(Worker worker, SocketChannel channel, ProxySettings settings) throws IOException {
        this.worker = worker;
        this.channel = channel;
        this.settings = settings;
        this.peer = (InetSocketAddress) channel.getRemoteAddress();
        this.fromBalancer = settings.proxyProtocolFrom().contains(peer.getAddress());
        this.in = worker.loop().buffers().acquire();
        this.openedNanos = worker.loop().now();
        this.key = worker.loop().register(channel, SelectionKey.OP_READ, this);
        // A balancer sends its header at once; anyone else gets the time its first bytes would get anyway.
        long nanos = fromBalancer ? settings.clientHeadNanos()
                : settings.tls() != null ? settings.tlsHandshakeNanos() : settings.clientIdleNanos();
        if (worker.isDraining()) {
            nanos = Math.min(nanos, ClientTimeouts.DRAIN_IDLE_GRACE_NANOS); // taken from the queue by the drain: see drain()
        }
        worker.loop().timers().schedule(timeout, worker.loop().now() + nanos);
        // Open from the accept on: a drain waits for it like for any client it owes an answer. Last,
        // so a constructor that throws leaves the count to the caller's clean-up (Acceptor.setUp).
        worker.clientOpened();
    }

    static void start(Worker worker, SocketChannel channel, ProxySettings settings) throws IOException {
        ProxyHeaderReader reader = new ProxyHeaderReader(worker, channel, settings);
        try {
            reader.onReady(reader.key, SelectionKey.OP_READ); // the header often came with the handshake's last ACK
        } catch (RuntimeException e) {
            reader.abort(e); // it counts as open now: it closes itself, not the caller
        }
    }

    @Override
    public void onReady(SelectionKey ready, int readyOps) {
        if (done) {
            return;
        }
        boolean endOfStream = false;
        try {
            while (in.hasRemaining()) {
                int n = channel.read(in);
                if (n < 0) {
                    endOfStream = true;
                    break;
                }
                if (n == 0) {
                    break;
                }
            }
        } catch (IOException e) {
            close(null, null);
            return;
        }
        in.flip();
        ProxyProtocol.Result result = ProxyProtocol.parse(in);
        in.compact();
        decide(result, endOfStream);
    }

    private void decide(ProxyProtocol.Result result, boolean endOfStream) {
        if (result instanceof ProxyProtocol.Header header) {
            if (!fromBalancer) {
                close(ProxyProtocolStats.Refusal.UNTRUSTED_SOURCE, "a PROXY header from a client not in proxy_protocol.from");
                return;
            }
            in.flip().position(header.length());
            handOff(header.source() != null ? header.source() : peer, header.destination());
        } else if (result instanceof ProxyProtocol.Absent) {
            if (fromBalancer) {
                close(ProxyProtocolStats.Refusal.MISSING, "no PROXY header from a listed balancer");
                return;
            }
            in.flip();
            handOff(peer, null);
        } else if (result instanceof ProxyProtocol.Invalid invalid) {
            // From anyone else it is a forgery attempt, not the balancer misbehaving.
            close(fromBalancer ? ProxyProtocolStats.Refusal.INVALID : ProxyProtocolStats.Refusal.UNTRUSTED_SOURCE,
                    invalid.reason());
        } else if (endOfStream) {
            // Closed before a decision: a balancer's cut-off header is worth counting; a client's
            // empty connection is not.
            close(fromBalancer ? ProxyProtocolStats.Refusal.INVALID : null, "closed inside the PROXY header");
        } else if (!in.hasRemaining()) {
            close(ProxyProtocolStats.Refusal.INVALID, "PROXY header larger than " + in.capacity() + " bytes");
        }
        // Otherwise: more bytes needed; the key stays interested in OP_READ.
    }

    /** The rest of {@code in} (read mode) goes to the connection as bytes read ahead. */
    private void handOff(InetSocketAddress client, InetSocketAddress local) {
        done = true; // from here on this method alone closes or hands over: abort() and close() step aside
        worker.loop().timers().cancel(timeout);
        try {
            if (fromBalancer) {
                worker.proxyProtocolStats().accepted();
            }
            ByteBuffer readAhead = null;
            if (in.hasRemaining()) {
                readAhead = ByteBuffer.allocate(in.remaining()).put(in).flip();
            }
            releaseBuffer();
            ClientConnection.open(worker, channel, settings, client, local, readAhead);
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "could not set up client connection: " + e);
            releaseBuffer();
            key.cancel();
            Acceptor.closeQuietly(channel);
            worker.clientClosed();
            return;
        }
        // After the connection counted itself: the count never dips to 0 between the two.
        worker.clientHandedOver();
    }

    /**
     * Graceful shutdown: a connection that has sent nothing yet (a browser's preconnect, say) gets
     * the short grace of an idle keep-alive connection instead of its full header timeout, so it
     * cannot hold the drain; one whose header is under way keeps its deadline.
     */
    void drain() {
        if (isIdle()) {
            long graceEnd = worker.loop().now() + ClientTimeouts.DRAIN_IDLE_GRACE_NANOS;
            if (!timeout.isScheduled() || timeout.deadlineNanos() - graceEnd > 0) {
                worker.loop().timers().schedule(timeout, graceEnd);
            }
        }
    }

    private void releaseBuffer() {
        if (in != null) {
            worker.loop().buffers().releaseZeroed(in); // it may hold the start of a TLS or HTTP stream
            in = null;
        }
    }

    private void onTimeout() {
        if (!done) {
            // Silence cut short by a drain is not a balancer's fault.
            boolean drained = worker.isDraining() && isIdle();
            close(fromBalancer && !drained ? ProxyProtocolStats.Refusal.TIMEOUT : null, "no PROXY header within the timeout");
        }
    }

    @Override
    public void abort(Throwable cause) {
        if (!done) {
            close(null, null);
        }
    }

    /** Nothing received yet: at the client limit it may be closed like an idle keep-alive connection. */
    @Override
    public boolean isIdle() {
        return !done && in != null && in.position() == 0;
    }

    @Override
    public long idleSinceNanos() {
        return openedNanos;
    }

    @Override
    public void close() {
        if (!done) {
            close(null, null);
        }
    }

    /** Closes without an answer (a balancer's client could not read one anyway); counts a refusal when given. */
    private void close(ProxyProtocolStats.Refusal refusal, String reason) {
        done = true;
        releaseBuffer();
        worker.loop().timers().cancel(timeout);
        if (refusal != null) {
            worker.proxyProtocolStats().refused(refusal, peer, reason);
        }
        key.cancel();
        Acceptor.closeQuietly(channel);
        worker.clientClosed();
    }
}
