package dev.moonbeam.proxy;

import dev.moonbeam.loop.IoHandler;
import dev.moonbeam.loop.ListenSockets;
import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * Accepts client connections on one loop's listening socket and hands each to a new
 * {@link ClientConnection} on the same loop. Loop-owned.
 */
final class Acceptor implements IoHandler {
    /**
     * Stops accepting: takes what the kernel already queued (those clients get their answer, with
     * {@code Connection: close}, and the idle grace of a draining loop: see
     * ClientConnection.drain), then closes the socket, so the kernel refuses new connections at
     * once or, when another MoonBeam shares the port (--takeover), sends them all there. Closing
     * with connections still queued would reset them.
     */
    void stop() {
        ClientConnectionLimit limit = worker.clientLimit();
        for (int i = 0; i < ListenSockets.BACKLOG && listener.isOpen(); i++) {
            limit.acquireAnyway(); // these clients were promised an answer; the cap does not apply
            try {
                SocketChannel channel = listener.accept();
                if (channel == null) {
                    limit.release();
                    break;
                }
                setUp(channel);
            } catch (IOException e) {
                limit.release();
                break;
            }
        }
        closeQuietly(listener);
    }

    private static final System.Logger LOG = System.getLogger(Acceptor.class.getName());
    /** Accepts per readiness event, so a connection flood cannot starve established connections. */
    private static final int MAX_ACCEPTS_PER_EVENT = 64;

    private final Worker worker;
    private final ServerSocketChannel listener;
    private final Listener.Role role;
    private static final long ACCEPT_PAUSE_NANOS = 100_000_000L;
    private final dev.moonbeam.loop.Timeout resume = new dev.moonbeam.loop.Timeout(this::resumeAccepting);
    private SelectionKey acceptKey;
    /** In the limit's queue of paused acceptors; see ClientConnectionLimit.reached. */
    final java.util.concurrent.atomic.AtomicBoolean waitingForSlot = new java.util.concurrent.atomic.AtomicBoolean();
    private long failedAccepts;
    /** In the pause after a failed accept(); a freed slot must not end it early. */
    private boolean backingOff;

    Acceptor(Worker worker, ServerSocketChannel listener, Listener.Role role) {
        this.worker = worker;
        this.listener = listener;
        this.role = role;
    }

    @Override
    public void onReady(SelectionKey key, int readyOps) {
        ClientConnectionLimit limit = worker.clientLimit();
        for (int i = 0; i < MAX_ACCEPTS_PER_EVENT; i++) {
            if (!limit.tryAcquire()) {
                // Readiness says a client waits only before the first accept of this event; after
                // it, the next event (at once, if one still waits) decides.
                if (i == 0) {
                    pauseAtLimit(key, limit);
                }
                return;
            }
            SocketChannel channel;
            try {
                channel = listener.accept();
            } catch (IOException e) {
                limit.release();
                pause(key, e);
                return;
            }
            if (channel == null) {
                limit.release();
                return;
            }
            setUp(channel);
        }
    }

    /** Sets up an accepted channel that holds a slot of the limit; gives the slot back if that fails. */
    private void setUp(SocketChannel channel) {
        try {
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            ProxySettings settings = role == Listener.Role.MAIN ? worker.settings() : worker.plainSettings();
            if (settings.proxyProtocolFrom().isEmpty()) {
                ClientConnection.open(worker, channel, settings);
            } else {
                ProxyHeaderReader.start(worker, channel, settings);
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "could not set up client connection: " + e);
            closeQuietly(channel);
            worker.clientLimit().release();
        }
    }

    /**
     * No slot left: stop accepting (the kernel's backlog holds the new clients) until a connection
     * closes anywhere ({@link #resumeSoon}) or, as a safety net, after a pause.
     */
    private void pauseAtLimit(SelectionKey key, ClientConnectionLimit limit) {
        if (key.isValid()) {
            key.interestOps(0);
            worker.loop().timers().schedule(resume, worker.loop().now() + ACCEPT_PAUSE_NANOS);
        }
        limit.reached(this, worker);
    }

    /** A slot came free: accept again, unless accept() itself is failing (EMFILE back-off). Any thread. */
    void resumeSoon() {
        waitingForSlot.set(false);
        worker.loop().execute(() -> {
            if (!backingOff) {
                worker.loop().timers().cancel(resume);
                resumeAccepting();
            }
        });
    }

    /**
     * EMFILE and friends: the pending connection stays in the backlog and the listener stays
     * readable, so retrying at once would spin the loop at full CPU. Stop accepting for a moment
     * (as nginx does) and log once per pause.
     */
    private void pause(SelectionKey key, IOException cause) {
        if (failedAccepts++ == 0 || failedAccepts % 100 == 0) {
            LOG.log(System.Logger.Level.WARNING, "accept failed (" + cause.getMessage() + "); pausing accepts for "
                    + ACCEPT_PAUSE_NANOS / 1_000_000 + " ms" + (failedAccepts > 1 ? ", " + failedAccepts + " times so far" : ""));
        }
        if (key.isValid()) {
            key.interestOps(0);
            backingOff = true;
            worker.loop().timers().schedule(resume, worker.loop().now() + ACCEPT_PAUSE_NANOS);
        }
    }

    private void resumeAccepting() {
        backingOff = false;
        if (acceptKey != null && acceptKey.isValid()) {
            acceptKey.interestOps(SelectionKey.OP_ACCEPT);
        }
    }

    void key(SelectionKey key) {
        this.acceptKey = key;
    }

    @Override
    public void abort(Throwable cause) {
        // The listener stays open; a failed accept round is not fatal. Closing is shutdown.
        if (!(cause instanceof java.nio.channels.ClosedChannelException)) {
            LOG.log(System.Logger.Level.WARNING, "acceptor: " + cause);
        }
    }

    static void closeQuietly(java.nio.channels.Channel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Already failing; the original error is what matters.
        }
    }

    /** The socket's local address, or the wildcard when it can no longer say (it is failing anyway). */
    static java.net.InetSocketAddress localAddress(java.nio.channels.SocketChannel channel) {
        try {
            return (java.net.InetSocketAddress) channel.getLocalAddress();
        } catch (java.io.IOException e) {
            return new java.net.InetSocketAddress(0);
        }
    }
}
