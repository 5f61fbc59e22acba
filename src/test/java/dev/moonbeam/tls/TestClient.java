package dev.moonbeam.tls;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;

/**
 * The client side of in-memory tests: a plain JDK client SSLEngine with large heap buffers, so
 * everything interesting happens on the server side. Test-thread only.
 */
final class TestClient {
    private static final int MAX_STEPS = 1_000;

    final SSLEngine engine;
    /** Ciphertext from the server, fill mode. */
    final ByteBuffer fromServer = ByteBuffer.allocate(16 << 20);
    /** Ciphertext for the server, fill mode. */
    final ByteBuffer toServer = ByteBuffer.allocate(1 << 20);
    final ByteArrayOutputStream received = new ByteArrayOutputStream();
    private final ByteBuffer plain = ByteBuffer.allocate(64 * 1024);
    private ByteBuffer pendingSend = ByteBuffer.allocate(0);
    boolean inboundClosed;
    SSLException failure;

    TestClient(SSLContext context, String protocol, String sniName) throws Exception {
        engine = context.createSSLEngine("client.test", 443);
        engine.setUseClientMode(true);
        SSLParameters parameters = engine.getSSLParameters();
        parameters.setProtocols(new String[] {protocol});
        parameters.setApplicationProtocols(new String[] {"h2", "http/1.1"});
        if (sniName != null) {
            parameters.setServerNames(List.of(new SNIHostName(sniName)));
        } else {
            parameters.setServerNames(List.of());
        }
        engine.setSSLParameters(parameters);
        engine.beginHandshake();
    }

    void send(byte[] data) {
        ByteBuffer next = ByteBuffer.allocate(pendingSend.remaining() + data.length);
        next.put(pendingSend).put(data).flip();
        pendingSend = next;
    }

    boolean hasPendingSend() {
        return pendingSend.hasRemaining();
    }

    /** Runs the client engine as far as it goes with what it has. */
    void step() {
        for (int i = 0; i < MAX_STEPS && failure == null; i++) {
            try {
                if (!stepOnce()) {
                    return;
                }
            } catch (SSLException e) {
                failure = e;
            }
        }
    }

    private boolean stepOnce() throws SSLException {
        switch (engine.getHandshakeStatus()) {
            case NEED_TASK:
                for (Runnable task = engine.getDelegatedTask(); task != null; task = engine.getDelegatedTask()) {
                    task.run();
                }
                return true;
            case NEED_WRAP:
                return engine.wrap(ByteBuffer.allocate(0), toServer).bytesProduced() > 0 || !engine.isOutboundDone();
            case NEED_UNWRAP:
            case NEED_UNWRAP_AGAIN:
                return unwrap();
            case NOT_HANDSHAKING:
            case FINISHED:
                boolean progress = false;
                if (pendingSend.hasRemaining() && !engine.isOutboundDone()) {
                    progress = engine.wrap(pendingSend, toServer).bytesConsumed() > 0;
                }
                if (fromServer.position() > 0 && !inboundClosed) {
                    progress |= unwrap();
                }
                return progress;
            default:
                throw new IllegalStateException();
        }
    }

    private boolean unwrap() throws SSLException {
        fromServer.flip();
        try {
            if (!fromServer.hasRemaining()) {
                return false;
            }
            SSLEngineResult result = engine.unwrap(fromServer, plain);
            plain.flip();
            received.write(plain.array(), 0, plain.limit());
            plain.clear();
            if (result.getStatus() == SSLEngineResult.Status.CLOSED) {
                inboundClosed = true;
            }
            return result.getStatus() == SSLEngineResult.Status.OK || result.bytesConsumed() > 0;
        } finally {
            fromServer.compact();
        }
    }

    /** Takes everything the client has to send (read mode copy). */
    byte[] takeOutput() {
        toServer.flip();
        byte[] bytes = new byte[toServer.remaining()];
        toServer.get(bytes);
        toServer.clear();
        return bytes;
    }

    void closeOutbound() {
        engine.closeOutbound();
    }
}
