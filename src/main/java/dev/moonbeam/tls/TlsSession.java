package dev.moonbeam.tls;

import java.nio.ByteBuffer;
import javax.net.ssl.SSLException;

/**
 * The provider seam: one server connection's TLS protocol engine, as {@link TlsEngine} drives it.
 * Two implementations sit below it: the JDK's {@code SSLEngine} ({@link JdkTlsSession}) and a
 * native BoringSSL {@code SSL} over memory BIOs ({@code NativeTlsSession}). Nothing above
 * {@link TlsEngine} knows which one runs.
 *
 * <p>The contract is the part of {@code SSLEngine} the state machine uses and no more: wrap and
 * unwrap move bytes between buffers (advancing their positions, nothing else), one record at a
 * time; a destination must have room for a whole record or the call reports
 * {@link Status#BUFFER_OVERFLOW}; a failure is an {@link SSLException} (an
 * {@link javax.net.ssl.SSLHandshakeException} for handshake failures and refused renegotiation)
 * after which only closing and flushing the alert make sense. No call allocates per record.
 *
 * <p>Owned by the loop thread that owns the connection, except {@link #delegatedTask()}'s tasks.
 */
public interface TlsSession {
    /** What one wrap or unwrap did. */
    enum Status { OK, BUFFER_UNDERFLOW, BUFFER_OVERFLOW, CLOSED }

    /** What the session needs next. */
    enum Handshake {
        /** Computation to run ({@link #delegatedTask()}); JSSE only. */
        NEED_TASK,
        /** Bytes to send: a handshake flight, a ticket, an alert or close_notify. */
        NEED_WRAP,
        /** Bytes from the peer. */
        NEED_UNWRAP,
        /** Handshake complete and nothing pending: application data flows. */
        DONE
    }

    void beginHandshake() throws SSLException;

    Handshake handshakeStatus();

    /** Encrypts from {@code src} (or produces handshake/close bytes, ignoring src) into {@code dst}. */
    Status wrap(ByteBuffer src, ByteBuffer dst) throws SSLException;

    /** Consumes ciphertext from {@code src}, writing any plaintext into {@code dst}. */
    Status unwrap(ByteBuffer src, ByteBuffer dst) throws SSLException;

    /** The next handshake computation, or null. */
    Runnable delegatedTask();

    /** Queues close_notify (or, after a failure, the alert); {@link #wrap} produces it. */
    void closeOutbound();

    /** True once nothing more will be produced: the close_notify or alert is out of the session. */
    boolean isOutboundDone();

    /** True once the peer's close_notify arrived or the session failed. */
    boolean isInboundDone();

    /** The negotiated ALPN protocol, "" when none, null before the handshake finished. */
    String applicationProtocol();

    /** "TLSv1.3" or "TLSv1.2" once known, else null. */
    String protocol();

    /** The largest ciphertext record the session produces or accepts; pool buffers must hold one. */
    int maxRecordBytes();

    /** Frees native resources. Idempotent; the session is unusable afterwards. */
    void free();
}
