package dev.moonbeam.loop;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * Opens the listening sockets: one per event loop, all bound to the same address with
 * {@code SO_REUSEPORT} so the kernel spreads new connections over the loops without any hand-off.
 * A second MoonBeam may join them only when started with {@code --takeover} (a rolling restart:
 * the new process joins, the old one drains and leaves); otherwise a taken port is an error.
 *
 * <p>Called on the main/control thread before the loops start.
 */
public final class ListenSockets {
    /** Pending connections per socket; the kernel caps it at net.core.somaxconn. */
    public static final int BACKLOG = 4096;

    private ListenSockets() {
    }

    /**
     * Binds {@code count} sockets to {@code address}.
     *
     * @throws IOException with a one-line message saying what to do when the bind fails
     */
    public static List<ServerSocketChannel> open(InetSocketAddress address, int count) throws IOException {
        return open(address, count, false);
    }

    /**
     * @param joinRunning bind next to a running MoonBeam's sockets on the same port instead of
     *                    refusing a taken port ({@code --takeover})
     */
    public static List<ServerSocketChannel> open(InetSocketAddress address, int count, boolean joinRunning)
            throws IOException {
        // Always SO_REUSEPORT where there is one, even for one loop, so that a later --takeover can join.
        boolean reusePort = supportsReusePort();
        if (joinRunning && !reusePort) {
            throw new BindException("--takeover needs SO_REUSEPORT, which this platform does not offer");
        }
        // With SO_REUSEPORT a second MoonBeam on the same port would bind silently and take half the
        // traffic; a plain bind first fails the way an operator expects if anything holds the port.
        if (address.getPort() != 0 && !joinRunning) {
            probe(address);
        }
        List<ServerSocketChannel> sockets = new ArrayList<>(count);
        try {
            if (!reusePort) {
                sockets.add(bind(address, false));
            } else {
                sockets.add(bind(address, true));
                // Port 0 (tests): the others must join the port the kernel chose for the first.
                InetSocketAddress bound = new InetSocketAddress(address.getAddress(),
                        ((InetSocketAddress) sockets.get(0).getLocalAddress()).getPort());
                for (int i = 1; i < count; i++) {
                    sockets.add(bind(bound, true));
                }
            }
        } catch (IOException e) {
            closeAll(sockets);
            throw e;
        }
        return sockets;
    }

    /** True when the platform can spread accepts over several sockets (Linux, BSDs). */
    public static boolean supportsReusePort() {
        try (ServerSocketChannel channel = ServerSocketChannel.open()) {
            return channel.supportedOptions().contains(StandardSocketOptions.SO_REUSEPORT);
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Fails, with the same message a start would give, when {@code address} is taken; for checks
     * made before binding (the warm-up runs first and should not run in vain).
     */
    public static void requireFree(InetSocketAddress address) throws IOException {
        if (address.getPort() != 0) {
            probe(address);
        }
    }

    private static void probe(InetSocketAddress address) throws IOException {
        // A bound socket that never listens: a ServerSocketChannel's bind() also listens, and a
        // client connecting in that moment would be queued on the probe and reset when it closes.
        // Binding fails all the same while another socket listens on the address.
        try (SocketChannel probe = SocketChannel.open()) {
            probe.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            probe.bind(address);
        } catch (IOException e) {
            throw explain(address, e);
        }
    }

    private static ServerSocketChannel bind(InetSocketAddress address, boolean reusePort) throws IOException {
        ServerSocketChannel channel = ServerSocketChannel.open();
        try {
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            if (reusePort) {
                channel.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            }
            channel.configureBlocking(false);
            channel.bind(address, BACKLOG);
            return channel;
        } catch (IOException e) {
            channel.close();
            throw explain(address, e);
        }
    }

    /** Turns the JDK's terse bind errors into one line saying what to do. */
    static IOException explain(InetSocketAddress address, IOException e) {
        String where = describe(address);
        String message = e.getMessage() == null ? "" : e.getMessage().toLowerCase(java.util.Locale.ROOT);
        if (message.contains("permission denied") || message.contains("access denied")) {
            return new BindException("cannot listen on " + where + ": permission denied. Ports below 1024 need root or the "
                    + "CAP_NET_BIND_SERVICE capability (e.g. sudo setcap cap_net_bind_service=+ep \"$(readlink -f \"$(which java)\")\"); "
                    + "or use an unprivileged port: --listen 8443");
        }
        if (message.contains("address already in use")) {
            return new BindException("cannot listen on " + where + ": the address is already in use by another process "
                    + "(find it with: ss -ltnp 'sport = :" + address.getPort() + "'); stop it or use another port, e.g. --listen "
                    + (address.getPort() == 443 ? 8443 : address.getPort() + 1));
        }
        if (message.contains("cannot assign requested address")) {
            return new BindException("cannot listen on " + where + ": no network interface has the address "
                    + address.getAddress().getHostAddress() + "; use 0.0.0.0 (all interfaces) or one of this machine's addresses");
        }
        IOException wrapped = e instanceof SocketException ? new BindException("cannot listen on " + where + ": " + e.getMessage())
                : new IOException("cannot listen on " + where + ": " + e.getMessage());
        wrapped.initCause(e);
        return wrapped;
    }

    private static String describe(InetSocketAddress address) {
        String host = address.getAddress() == null ? address.getHostString() : address.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    public static void closeAll(List<ServerSocketChannel> sockets) {
        for (ServerSocketChannel socket : sockets) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // Closing on a failure path: the original error is what matters.
            }
        }
    }
}
