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
        for (int i = 0; i < ListenSockets.BACKLOG && listener.isOpen(); i++) {
            try {
                SocketChannel channel = listener.accept();
                if (channel == null) {
                    break;
                }
                setUp(channel);
            } catch (IOException e) {
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
    private long failedAccepts;

    Acceptor(Worker worker, ServerSocketChannel listener, Listener.Role role) {
        this.worker = worker;
        this.listener = listener;
        this.role = role;
    }

    @Override
    public void onReady(SelectionKey key, int readyOps) {
        for (int i = 0; i < MAX_ACCEPTS_PER_EVENT; i++) {
            SocketChannel channel;
            try {
                channel = listener.accept();
            } catch (IOException e) {
                pause(key, e);
                return;
            }
            if (channel == null) {
                return;
            }
            setUp(channel);
        }
    }

    private void setUp(SocketChannel channel) {
        try {
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            ClientConnection.open(worker, channel, role == Listener.Role.MAIN ? worker.settings() : worker.plainSettings());
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "could not set up client connection: " + e);
            closeQuietly(channel);
        }
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
            worker.loop().timers().schedule(resume, worker.loop().now() + ACCEPT_PAUSE_NANOS);
        }
    }

    private void resumeAccepting() {
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
}
