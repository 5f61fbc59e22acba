package dev.moonbeam.observe;

import dev.moonbeam.loop.EventLoop;
import dev.moonbeam.loop.IoHandler;
import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * The admin listener: plain HTTP/1.1 on its own socket (loopback by default, chosen by the
 * wiring), served by one of MoonBeam's own event loops with its own parser. {@code GET /metrics},
 * {@code GET /status}, {@code GET /healthz}; see {@link AdminConnection} for the rest.
 *
 * <p>Owned by its loop's thread. At most {@link #MAX_CONNECTIONS} admin connections are open at
 * once; more are closed on accept, so a misbehaving scraper cannot take the loop's memory.
 */
public final class AdminEndpoint implements IoHandler {
    private static final System.Logger LOG = System.getLogger(AdminEndpoint.class.getName());
    static final int MAX_CONNECTIONS = 64;
    /** Accepts per readiness event, so the admin socket cannot starve the proxy's own connections. */
    private static final int MAX_ACCEPTS_PER_EVENT = 16;

    private final EventLoop loop;
    private final ServerSocketChannel socket;
    private final AdminPages pages;
    private int open;

    private AdminEndpoint(EventLoop loop, ServerSocketChannel socket, AdminPages pages) {
        this.loop = loop;
        this.socket = socket;
        this.pages = pages;
    }

    /**
     * Serves {@code pages} on {@code socket} (bound by the caller) from {@code loop}. Call before
     * the loop starts or on its thread. The loop closes the socket when it shuts down.
     */
    public static AdminEndpoint register(EventLoop loop, ServerSocketChannel socket, AdminPages pages) throws IOException {
        socket.configureBlocking(false);
        AdminEndpoint endpoint = new AdminEndpoint(loop, socket, pages);
        loop.register(socket, SelectionKey.OP_ACCEPT, endpoint);
        return endpoint;
    }

    /** Admin connections open now; loop thread (or tests, racily). */
    public int openConnections() {
        return open;
    }

    @Override
    public void onReady(SelectionKey key, int readyOps) {
        for (int i = 0; i < MAX_ACCEPTS_PER_EVENT; i++) {
            SocketChannel channel;
            try {
                channel = socket.accept();
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "admin accept failed: " + e.getMessage());
                return;
            }
            if (channel == null) {
                return;
            }
            if (open >= MAX_CONNECTIONS) {
                closeQuietly(channel);
                continue;
            }
            try {
                channel.configureBlocking(false);
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                AdminConnection.open(this, channel);
                open++;
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, () -> "admin connection setup failed: " + e);
                closeQuietly(channel);
            }
        }
    }

    @Override
    public void abort(Throwable cause) {
        if (!(cause instanceof ClosedChannelException)) {
            LOG.log(System.Logger.Level.WARNING, "admin acceptor: " + cause);
        }
    }

    EventLoop loop() {
        return loop;
    }

    AdminPages pages() {
        return pages;
    }

    void connectionClosed() {
        open--;
    }

    static void closeQuietly(java.nio.channels.Channel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Already failing or closing; nothing to add.
        }
    }
}
