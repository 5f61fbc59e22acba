package dev.moonbeam.proxy;

import dev.moonbeam.tls.TlsEngine;
import dev.moonbeam.tls.TlsTransport;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;

/**
 * The TLS side of a {@link ClientConnection}: its engine and transport, the handshake's outcome
 * for the metrics, and the one look at the ALPN protocol once the handshake is done. One per TLS
 * connection (plain ones have none). Loop-owned.
 */
final class ClientTls {
    private final Worker worker;
    private final TlsTransport transport;
    /** The negotiated ALPN protocol was looked at (once, after the handshake). */
    private boolean alpnChecked;

    /** @param tasksDone runs on the loop when the engine's off-loop handshake computation has finished */
    ClientTls(Worker worker, ByteChannel io, ProxySettings settings, Runnable tasksDone) {
        this.worker = worker;
        long deadline = worker.loop().now() + settings.tlsHandshakeNanos();
        boolean direct = settings.tls().directBuffers();
        TlsEngine engine = new TlsEngine(settings.tls().newSession(), worker.tlsBuffers(direct),
                worker.tlsOutBuffers(direct), deadline,
                worker.handshakeTasks(), tasksDone);
        this.transport = new TlsTransport(io, engine, worker.scratch(direct));
    }

    TlsTransport transport() {
        return transport;
    }

    boolean handshaking() {
        return transport.engine().state() == TlsEngine.State.HANDSHAKING;
    }

    /** Reads through the engine, counting a handshake that completes or fails in this read. */
    int read(ByteBuffer in) throws IOException {
        boolean handshaking = handshaking();
        int n;
        try {
            n = transport.read(in);
        } catch (IOException e) {
            if (handshaking) {
                worker.tlsHandshakeFailed();
            }
            throw e;
        }
        if (handshaking && !handshaking() && transport.engine().failure() == null) {
            worker.tlsHandshakeCompleted();
        }
        return n;
    }

    /** The handshake deadline passed: a handshake still running counts as failed (the metric says so). */
    void handshakeTimedOut() {
        if (handshaking()) {
            worker.tlsHandshakeFailed();
        }
    }

    /**
     * True once, when the TLS handshake has finished and ALPN chose {@code h2} (RFC 9113 §3.2).
     * Checked after every read rather than where the handshake ends: with JSSE's off-loop tasks
     * the last handshake flight may be produced while flushing, outside a read.
     */
    boolean alpnChoseHttp2() {
        if (alpnChecked || handshaking() || transport.engine().failure() != null) {
            return false;
        }
        alpnChecked = true;
        return "h2".equals(transport.engine().applicationProtocol());
    }
}
