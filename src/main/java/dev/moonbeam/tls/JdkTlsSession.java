package dev.moonbeam.tls;

import java.nio.ByteBuffer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;

/**
 * {@link TlsSession} over the JDK's {@link SSLEngine}: the portable provider, on every JDK 17+.
 * A thin adapter; the one behaviour it adds is refusing TLS 1.2 renegotiation in unwrap.
 *
 * <p>Owned by the connection's loop thread; its delegated tasks run wherever the engine's runner puts them.
 */
public final class JdkTlsSession implements TlsSession {
    private final SSLEngine engine;
    /** SSLEngine's two-buffer wrap/unwrap allocate a one-element array per call; these are reused. */
    private final ByteBuffer[] wrapSource = new ByteBuffer[1];
    private final ByteBuffer[] unwrapTarget = new ByteBuffer[1];
    private final Runnable onFree;
    private boolean handshakeDone;
    private boolean freed;

    /** @param onFree called once, by the first {@link #free()} */
    public JdkTlsSession(SSLEngine engine, Runnable onFree) {
        this.engine = engine;
        this.onFree = onFree;
    }

    @Override
    public void beginHandshake() throws SSLException {
        engine.beginHandshake();
    }

    @Override
    public Handshake handshakeStatus() {
        HandshakeStatus status = engine.getHandshakeStatus();
        switch (status) {
            case NEED_TASK:
                return Handshake.NEED_TASK;
            case NEED_WRAP:
                return Handshake.NEED_WRAP;
            case NEED_UNWRAP:
            case NEED_UNWRAP_AGAIN:
                return Handshake.NEED_UNWRAP;
            case NOT_HANDSHAKING:
            case FINISHED:
                handshakeDone = true;
                return Handshake.DONE;
            default:
                throw new IllegalStateException("handshake status " + status);
        }
    }

    @Override
    public Status wrap(ByteBuffer src, ByteBuffer dst) throws SSLException {
        wrapSource[0] = src;
        try {
            return status(engine.wrap(wrapSource, 0, 1, dst));
        } finally {
            wrapSource[0] = null;
        }
    }

    @Override
    public Status unwrap(ByteBuffer src, ByteBuffer dst) throws SSLException {
        SSLEngineResult result;
        unwrapTarget[0] = dst;
        try {
            result = engine.unwrap(src, unwrapTarget, 0, 1);
        } finally {
            unwrapTarget[0] = null;
        }
        if (handshakeDone && isRenegotiation(result.getHandshakeStatus())) {
            throw new SSLHandshakeException("client-initiated renegotiation refused");
        }
        return status(result);
    }

    /**
     * TLS 1.2 renegotiation (RFC 5746) is refused: a new handshake on an open connection lets a
     * client make us do expensive work at will. TLS 1.3 has none; its post-handshake KeyUpdate
     * (RFC 8446 §4.6.3) legitimately needs a wrap, so only 1.2 sessions are checked.
     */
    private boolean isRenegotiation(HandshakeStatus after) {
        return after != HandshakeStatus.NOT_HANDSHAKING && after != HandshakeStatus.FINISHED
                && !engine.isInboundDone() && !engine.isOutboundDone()
                && "TLSv1.2".equals(engine.getSession().getProtocol());
    }

    private static Status status(SSLEngineResult result) {
        switch (result.getStatus()) {
            case OK:
                return Status.OK;
            case BUFFER_UNDERFLOW:
                return Status.BUFFER_UNDERFLOW;
            case BUFFER_OVERFLOW:
                return Status.BUFFER_OVERFLOW;
            case CLOSED:
                return Status.CLOSED;
            default:
                throw new IllegalStateException("SSLEngine status " + result.getStatus());
        }
    }

    @Override
    public Runnable delegatedTask() {
        return engine.getDelegatedTask();
    }

    @Override
    public void closeOutbound() {
        engine.closeOutbound();
    }

    @Override
    public boolean isOutboundDone() {
        return engine.isOutboundDone();
    }

    @Override
    public boolean isInboundDone() {
        return engine.isInboundDone();
    }

    @Override
    public String applicationProtocol() {
        return engine.getApplicationProtocol();
    }

    @Override
    public String protocol() {
        String protocol = engine.getSession().getProtocol();
        return protocol == null || protocol.startsWith("NONE") ? null : protocol;
    }

    @Override
    public int maxRecordBytes() {
        return engine.getSession().getPacketBufferSize();
    }

    @Override
    public void free() {
        // Garbage-collected; nothing native to free, only the count to keep.
        if (!freed) {
            freed = true;
            onFree.run();
        }
    }

    /** The engine itself, for tests that inspect its parameters. */
    public SSLEngine sslEngine() {
        return engine;
    }
}
