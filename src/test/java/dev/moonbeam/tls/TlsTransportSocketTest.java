package dev.moonbeam.tls;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moonbeam.loop.BufferPool;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** End to end over real 127.0.0.1 sockets: a one-connection selector loop in the test thread. */
abstract class TlsTransportSocketTest {
    abstract TestProvider provider();

    private static final long DEADLINE_MILLIS = 10_000;
    private static final byte[] REQUEST = "GET / HTTP/1.1\r\nHost: ec.test\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final BufferPool pool = BufferPool.withDefaults();
    private final ExecutorService clientThread = Executors.newSingleThreadExecutor();
    private ServerSocketChannel listener;
    private ServerTls tls;
    private SSLContext clientContext;

    @BeforeEach
    void listen() throws Exception {
        SslContexts.hardenJdkDefaults();
        listener = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        List<KeyMaterial> certs = List.of(Fixtures.ec(), Fixtures.rsa());
        tls = provider().create(certs, TlsSettings.defaults());
        clientContext = Fixtures.clientTrusting(certs);
    }

    @AfterEach
    void close() throws Exception {
        clientThread.shutdownNow();
        listener.close();
    }

    @Test
    void echoOverARealSocketWithCloseNotify() throws Exception {
        int port = ((InetSocketAddress) listener.getLocalAddress()).getPort();
        Future<byte[]> reply = clientThread.submit(() -> {
            try (SSLSocket socket = (SSLSocket) clientContext.getSocketFactory().createSocket("127.0.0.1", port)) {
                socket.setSoTimeout(5_000);
                SSLParameters parameters = socket.getSSLParameters();
                parameters.setServerNames(List.of(new SNIHostName("ec.test")));
                socket.setSSLParameters(parameters);
                socket.getOutputStream().write(REQUEST);
                socket.getOutputStream().flush();
                return socket.getInputStream().readNBytes(REQUEST.length);
            } // close sends close_notify
        });

        Outcome outcome = serveOneConnection(true);

        assertThat(reply.get(5, TimeUnit.SECONDS)).isEqualTo(REQUEST);
        assertThat(outcome.received).isEqualTo(new String(REQUEST, StandardCharsets.US_ASCII));
        assertThat(outcome.error).isNull();
        assertThat(outcome.endOfStream).isTrue();
        assertThat(pool.outstanding()).isZero();
    }

    @Test
    void plainHttpToTheTlsPortGets400AndAClose() throws Exception {
        int port = ((InetSocketAddress) listener.getLocalAddress()).getPort();
        Future<String> reply = clientThread.submit(() -> {
            try (Socket socket = new Socket("127.0.0.1", port)) {
                socket.setSoTimeout(5_000);
                OutputStream out = socket.getOutputStream();
                out.write(REQUEST);
                out.flush();
                InputStream in = socket.getInputStream();
                return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            }
        });

        Outcome outcome = serveOneConnection(false);

        assertThat(outcome.error).isInstanceOf(SSLException.class).hasMessageContaining("NOT_TLS");
        assertThat(reply.get(5, TimeUnit.SECONDS)).startsWith("HTTP/1.1 400 Bad Request\r\n");
        assertThat(pool.outstanding()).isZero();
    }

    private static final class Outcome {
        String received = "";
        Exception error;
        boolean endOfStream;
    }

    /** Accepts one connection and echoes (or not) until the peer ends; closes and releases. */
    private Outcome serveOneConnection(boolean echo) throws Exception {
        Outcome outcome = new Outcome();
        long deadline = System.currentTimeMillis() + DEADLINE_MILLIS;
        listener.configureBlocking(false);
        try (Selector selector = Selector.open()) {
            listener.register(selector, SelectionKey.OP_ACCEPT);
            SocketChannel channel = null;
            while (channel == null && System.currentTimeMillis() < deadline) {
                selector.select(100);
                channel = listener.accept();
            }
            assertThat(channel).as("accepted in time").isNotNull();
            channel.configureBlocking(false);
            TlsTransport transport = new TlsTransport(channel,
                    new TlsEngine(tls.newSession(), pool, System.nanoTime() + 10_000_000_000L),
                    ByteBuffer.allocateDirect(BufferPool.DEFAULT_BUFFER_SIZE));
            SelectionKey key = channel.register(selector, SelectionKey.OP_READ);
            ByteBuffer in = ByteBuffer.allocate(4096);
            ByteBuffer out = ByteBuffer.allocate(0);
            try {
                while (System.currentTimeMillis() < deadline) {
                    selector.select(100);
                    selector.selectedKeys().clear();
                    in.clear();
                    int count = transport.read(in);
                    if (count < 0) {
                        outcome.endOfStream = true;
                        transport.shutdownOutput();
                        break;
                    }
                    if (count > 0) {
                        in.flip();
                        outcome.received += StandardCharsets.US_ASCII.decode(in.duplicate());
                        if (echo) {
                            byte[] copy = new byte[in.remaining()];
                            in.get(copy);
                            out = ByteBuffer.wrap(copy);
                        }
                    }
                    if (out.hasRemaining()) {
                        transport.write(out);
                    }
                    transport.flush();
                    key.interestOps(SelectionKey.OP_READ
                            | (transport.wantsWrite() || out.hasRemaining() ? SelectionKey.OP_WRITE : 0));
                }
            } catch (SSLException e) {
                outcome.error = e;
            } finally {
                transport.release();
                channel.close();
            }
        }
        return outcome;
    }
}
