package dev.moonbeam.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import org.junit.jupiter.api.Test;

class ListenSocketsTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    @Test
    void bindsOneSocketPerLoopOnTheSamePort() throws IOException {
        try (ServerSocketChannel first = ServerSocketChannel.open()) {
            first.bind(new InetSocketAddress(LOOPBACK, 0));
            int port = ((InetSocketAddress) first.getLocalAddress()).getPort();
            first.close();
            List<ServerSocketChannel> sockets = ListenSockets.open(new InetSocketAddress(LOOPBACK, port), 3);
            try {
                int expected = ListenSockets.supportsReusePort() ? 3 : 1;
                assertThat(sockets).hasSize(expected);
                for (ServerSocketChannel socket : sockets) {
                    assertThat(((InetSocketAddress) socket.getLocalAddress()).getPort()).isEqualTo(port);
                    assertThat(socket.isBlocking()).isFalse();
                }
                try (SocketChannel client = SocketChannel.open(new InetSocketAddress(LOOPBACK, port))) {
                    assertThat(client.isConnected()).isTrue();
                }
            } finally {
                ListenSockets.closeAll(sockets);
            }
        }
    }

    @Test
    void aSecondProxyOnTheSamePortIsRefusedDespiteReusePort() throws IOException {
        List<ServerSocketChannel> running = ListenSockets.open(new InetSocketAddress(LOOPBACK, 0), 2);
        try {
            int port = ((InetSocketAddress) running.get(0).getLocalAddress()).getPort();
            assertThatThrownBy(() -> ListenSockets.open(new InetSocketAddress(LOOPBACK, port), 2))
                    .isInstanceOf(BindException.class)
                    .hasMessageStartingWith("cannot listen on 127.0.0.1:" + port + ": the address is already in use");
        } finally {
            ListenSockets.closeAll(running);
        }
    }

    @Test
    void evenOneLoopRefusesASecondProxyWithoutTakeover() throws IOException {
        List<ServerSocketChannel> running = ListenSockets.open(new InetSocketAddress(LOOPBACK, 0), 1);
        try {
            int port = ((InetSocketAddress) running.get(0).getLocalAddress()).getPort();
            assertThatThrownBy(() -> ListenSockets.open(new InetSocketAddress(LOOPBACK, port), 1))
                    .isInstanceOf(BindException.class)
                    .hasMessageContaining("already in use");
        } finally {
            ListenSockets.closeAll(running);
        }
    }

    /** --takeover: the new process's sockets join the running one's, even when it has one loop. */
    @Test
    void takeoverJoinsTheRunningProxysPortAndKeepsItWhenTheOldOneCloses() throws IOException {
        List<ServerSocketChannel> running = ListenSockets.open(new InetSocketAddress(LOOPBACK, 0), 1);
        List<ServerSocketChannel> joined = List.of();
        try {
            int port = ((InetSocketAddress) running.get(0).getLocalAddress()).getPort();
            joined = ListenSockets.open(new InetSocketAddress(LOOPBACK, port), 2, true);
            assertThat(joined).hasSize(2).allSatisfy(socket ->
                    assertThat(((InetSocketAddress) socket.getLocalAddress()).getPort()).isEqualTo(port));
            ListenSockets.closeAll(running);
            for (ServerSocketChannel socket : joined) {
                socket.configureBlocking(true);
            }
            try (java.net.Socket client = new java.net.Socket(LOOPBACK, port)) {
                assertThat(client.isConnected()).isTrue();
            }
        } finally {
            ListenSockets.closeAll(running);
            ListenSockets.closeAll(joined);
        }
    }

    @Test
    void permissionDeniedSaysHowToBindLowPorts() {
        // CI runs as root, so a real EACCES cannot be provoked; check the translation itself.
        IOException explained = ListenSockets.explain(new InetSocketAddress(LOOPBACK, 443), new SocketException("Permission denied"));
        assertThat(explained).isInstanceOf(BindException.class)
                .hasMessageStartingWith("cannot listen on 127.0.0.1:443: permission denied")
                .hasMessageContaining("CAP_NET_BIND_SERVICE").hasMessageContaining("--listen 8443");
    }

    @Test
    void foreignAddressIsExplained() throws IOException {
        // 192.0.2.1 (TEST-NET-1) is never configured locally; binding sends no traffic anywhere.
        InetSocketAddress foreign = new InetSocketAddress(InetAddress.getByName("192.0.2.1"), 0);
        assertThatThrownBy(() -> ListenSockets.open(foreign, 1))
                .hasMessageContaining("no network interface has the address 192.0.2.1");
    }
}
