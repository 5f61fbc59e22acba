package dev.moonbeam.tls;

import dev.moonbeam.loop.BufferPool;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * A server {@link TlsTransport} over a {@link MemoryChannel} and a {@link TestClient}, with a pump
 * that moves bytes until nothing moves. The server side can echo what it reads. Test-thread only.
 */
final class TlsPair {
    static final long START_NANOS = 1_000_000_000L;
    private static final int MAX_ROUNDS = 200_000;

    final BufferPool pool = BufferPool.withDefaults();
    final MemoryChannel channel;
    final TlsEngine engine;
    final TlsTransport transport;
    final TestClient client;
    final ByteArrayOutputStream serverReceived = new ByteArrayOutputStream();
    private final ByteBuffer scratch = ByteBuffer.allocateDirect(BufferPool.DEFAULT_BUFFER_SIZE);
    private final ByteBuffer readBuffer = ByteBuffer.allocate(8192);
    private ByteBuffer echo = ByteBuffer.allocate(0);
    private final ByteArrayOutputStream echoQueue = new ByteArrayOutputStream();
    boolean echoing;
    boolean serverEof;
    IOException serverError;

    TlsPair(ServerTls tls, List<KeyMaterial> trusted, String clientProtocol, String sni, int maxChunk) throws Exception {
        this(tls, Fixtures.clientTrusting(trusted), clientProtocol, sni, maxChunk);
    }

    TlsPair(ServerTls tls, javax.net.ssl.SSLContext clientContext, String clientProtocol, String sni, int maxChunk)
            throws Exception {
        channel = new MemoryChannel(maxChunk);
        engine = new TlsEngine(tls.newSession(), pool, START_NANOS + tls.settings().handshakeTimeout().toNanos());
        transport = new TlsTransport(channel, engine, scratch);
        client = new TestClient(clientContext, clientProtocol, sni);
    }

    static TlsPair standard(String protocol, int maxChunk) throws Exception {
        List<KeyMaterial> certs = List.of(Fixtures.ec(), Fixtures.rsa());
        return new TlsPair(SslContexts.create(certs, TlsSettings.defaults()), certs, protocol, "ec.test", maxChunk);
    }

    /** Moves bytes both ways until a round moves nothing. */
    void pump() {
        for (int round = 0; round < MAX_ROUNDS; round++) {
            boolean moved = false;
            client.step();
            byte[] out = client.takeOutput();
            if (out.length > 0) {
                channel.offer(out);
                moved = true;
            }
            int before = channel.pending();
            moved |= serverRead();
            moved |= channel.pending() != before; // read() may return 0 after a budget of small reads
            try {
                if (!echo.hasRemaining() && echoQueue.size() > 0) {
                    echo = ByteBuffer.wrap(echoQueue.toByteArray());
                    echoQueue.reset();
                }
                if (echoing && echo.hasRemaining() && serverError == null) {
                    moved |= transport.write(echo) > 0;
                }
                transport.flush();
            } catch (IOException e) {
                serverError = e;
            }
            byte[] back = channel.takeWritten();
            if (back.length > 0) {
                client.fromServer.put(back);
                moved = true;
            }
            if (!moved) {
                return;
            }
        }
        throw new AssertionError("pump did not settle in " + MAX_ROUNDS + " rounds");
    }

    private boolean serverRead() {
        if (serverError != null || serverEof) {
            return false;
        }
        boolean moved = false;
        try {
            for (int i = 0; i < 10_000; i++) {
                readBuffer.clear();
                int count = transport.read(readBuffer);
                if (count < 0) {
                    serverEof = true;
                    return true;
                }
                if (count == 0) {
                    return moved;
                }
                moved = true;
                serverReceived.write(readBuffer.array(), 0, count);
                if (echoing) {
                    echoQueue.write(readBuffer.array(), 0, count);
                }
            }
        } catch (IOException e) {
            serverError = e;
            return true;
        }
        return moved;
    }
}
