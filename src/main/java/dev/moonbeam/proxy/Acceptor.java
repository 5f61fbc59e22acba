package dev.moonbeam.proxy;

import dev.moonbeam.loop.IoHandler;
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
    /** Stops accepting: the socket closes, so the kernel refuses new connections at once. */
    void stop() {
        closeQuietly(listener);
    }

    private static final System.Logger LOG = System.getLogger(Acceptor.class.getName());
    /** Accepts per readiness event, so a connection flood cannot starve established connections. */
    private static final int MAX_ACCEPTS_PER_EVENT = 64;

    private final Worker worker;
    private final ServerSocketChannel listener;
    private final Listener.Role role;

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
                // EMFILE and friends: log and try again on the next event rather than die.
                LOG.log(System.Logger.Level.WARNING, "accept failed: " + e.getMessage());
                return;
            }
            if (channel == null) {
                return;
            }
            try {
                channel.configureBlocking(false);
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                ClientConnection.open(worker, channel, role == Listener.Role.MAIN ? worker.settings() : worker.plainSettings());
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, () -> "could not set up client connection: " + e);
                closeQuietly(channel);
            }
        }
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
