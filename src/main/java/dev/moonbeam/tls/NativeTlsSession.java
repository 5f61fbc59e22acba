package dev.moonbeam.tls;

import io.netty.internal.tcnative.Buffer;
import io.netty.internal.tcnative.SSL;
import java.nio.ByteBuffer;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;

/**
 * {@link TlsSession} on a BoringSSL {@code SSL} object. Its network side is netty-tcnative's
 * byte-buffer BIO: for each call we point it at the caller's buffer (ciphertext to read in unwrap,
 * room to write into in wrap), so records go between BoringSSL and MoonBeam's pooled direct
 * buffers without a copy. Bytes BoringSSL writes while reading (a handshake flight, a ticket, an
 * alert) wait in the BIO's small internal buffer; {@link #handshakeStatus()} then reports
 * {@link Handshake#NEED_WRAP} and the next wrap moves them out.
 *
 * <p>Every failing call reads the first error off BoringSSL's (thread-local) error queue for the
 * exception's message and then clears the queue, so no error leaks into another connection's call.
 * Handshake computation runs inline: BoringSSL's ECDHE and ECDSA cost tens of microseconds, less
 * than handing them to another thread.
 *
 * <p>Owned by the connection's loop thread. {@link #free()} must be called on every close path; the
 * engine's {@code release()} does so.
 */
final class NativeTlsSession implements TlsSession {
    /** RFC 8446 §5.1: the most plaintext one record carries. */
    private static final int MAX_PLAINTEXT = 16_384;
    /**
     * Room kept beyond the plaintext for one record's header, tag and padding. BoringSSL's own
     * figure (SSL_max_seal_overhead) is only right once the cipher is known, after the handshake;
     * 256 covers every suite we allow (RFC 8446 §5.2 caps the expansion at 256).
     */
    private static final int MAX_RECORD_OVERHEAD = 256;
    /** Handshake tasks one call may run: the certificate choice, the signature, and one spare. */
    private static final int MAX_TASK_ROUNDS = 3;
    /** Staging for the rare heap buffer (an error response, a test): BoringSSL needs addresses. */
    private static final int STAGING_BYTES = 2 * (MAX_PLAINTEXT + 512);
    private static final ThreadLocal<ByteBuffer> STAGING_IN =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(STAGING_BYTES));
    private static final ThreadLocal<ByteBuffer> STAGING_OUT =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(STAGING_BYTES));

    private final NativeServerTls owner;
    private long ssl;
    private final long bio;
    private final int maxRecordBytes;
    private boolean handshakeDone;
    private boolean outboundClosed;
    private boolean shutdownSent;
    private boolean inboundDone;
    private boolean failed;
    /**
     * BoringSSL stopped writing (handshake flight, close_notify) because the output buffer was full;
     * the rest is inside it, so the next wrap must call it again. Without this the engine would
     * wait for the peer while the peer waits for us.
     */
    private boolean writePending;

    NativeTlsSession(NativeServerTls owner, long ssl, long bio) {
        this.owner = owner;
        this.ssl = ssl;
        this.bio = bio;
        this.maxRecordBytes = MAX_PLAINTEXT + MAX_RECORD_OVERHEAD;
    }

    @Override
    public void beginHandshake() {
        // A server SSL waits for the ClientHello; nothing to start.
    }

    @Override
    public Handshake handshakeStatus() {
        if (ssl == 0) {
            return Handshake.DONE;
        }
        if (writePending || SSL.bioLengthNonApplication(bio) > 0) {
            return Handshake.NEED_WRAP;
        }
        return handshakeDone || failed ? Handshake.DONE : Handshake.NEED_UNWRAP;
    }

    @Override
    public Status unwrap(ByteBuffer src, ByteBuffer dst) throws SSLException {
        if (ssl == 0 || inboundDone) {
            return Status.CLOSED;
        }
        int length = src.remaining();
        if (length == 0) {
            return Status.BUFFER_UNDERFLOW;
        }
        if (handshakeDone && dst.remaining() < MAX_PLAINTEXT) {
            return Status.BUFFER_OVERFLOW; // like SSLEngine: room for a whole record's plaintext first
        }
        ByteBuffer in = src.isDirect() ? src : stage(src);
        SSL.bioSetByteBuffer(bio, Buffer.address(in) + in.position(), length, false);
        try {
            if (!handshakeDone) {
                return handshake();
            }
            return read(dst);
        } finally {
            int consumed = length - SSL.bioLengthByteBuffer(bio);
            SSL.bioClearByteBuffer(bio);
            src.position(src.position() + consumed);
        }
    }

    /** One step of the handshake over whatever the BIO holds (input) or has room for (output). */
    private Status handshake() throws SSLException {
        NativeServerTls.takeCallbackFailure(); // a reason left by another connection's handshake is not ours
        int result;
        int error;
        // With the system OpenSSL signing (NativeServerTls), the certificate choice and the signature
        // are tasks tcnative hands out: each is run here, on the loop, and collected by the next call.
        for (int round = 0; ; round++) {
            try {
                result = SSL.doHandshake(ssl);
            } catch (Exception e) { // our certificate callback threw; tcnative rethrows it here
                failed = true;
                inboundDone = true;
                SSL.clearError();
                NativeServerTls.takeCallbackFailure(); // the exception carries it already
                throw new SSLHandshakeException(String.valueOf(e.getMessage()));
            }
            if (result == 1) {
                handshakeDone = true;
                writePending = false;
                return Status.OK;
            }
            error = SSL.getError(ssl, result);
            if (error != SSL.SSL_ERROR_WANT_PRIVATE_KEY_OPERATION && error != SSL.SSL_ERROR_WANT_X509_LOOKUP
                    || round == MAX_TASK_ROUNDS) {
                break;
            }
            Runnable task = SSL.getTask(ssl);
            if (task != null) {
                task.run(); // tcnative's tasks catch our callbacks' exceptions and report them as results
            }
        }
        writePending = error == SSL.SSL_ERROR_WANT_WRITE;
        return afterError(error, "handshake");
    }

    private Status read(ByteBuffer dst) throws SSLException {
        ByteBuffer out = dst.isDirect() ? dst : STAGING_OUT.get().clear();
        int count = SSL.readFromSSL(ssl, Buffer.address(out) + out.position(), Math.min(out.remaining(), dst.remaining()));
        if (count > 0) {
            if (out == dst) {
                dst.position(dst.position() + count);
            } else {
                dst.put(out.limit(count));
            }
            return Status.OK;
        }
        return afterError(SSL.getError(ssl, count), "read");
    }

    @Override
    public Status wrap(ByteBuffer src, ByteBuffer dst) throws SSLException {
        if (ssl == 0) {
            return Status.CLOSED;
        }
        int room = dst.remaining();
        ByteBuffer out = dst.isDirect() ? dst : STAGING_OUT.get().clear().limit(Math.min(room, STAGING_BYTES));
        int start = out.position();
        int outRoom = out.remaining();
        SSL.bioSetByteBuffer(bio, Buffer.address(out) + start, outRoom, true);
        Status status;
        int produced;
        try {
            status = wrapInto(src);
        } finally {
            produced = outRoom - SSL.bioLengthByteBuffer(bio);
            SSL.bioClearByteBuffer(bio);
            if (out == dst) {
                dst.position(start + produced);
            } else {
                dst.put(out.position(start).limit(start + produced));
            }
        }
        // BoringSSL has more to write and there was no room for any of it: drain first.
        return status == Status.OK && writePending && produced == 0 ? Status.BUFFER_OVERFLOW : status;
    }

    /** With the BIO pointed at the output buffer: pending bytes first, then close, handshake or data. */
    private Status wrapInto(ByteBuffer src) throws SSLException {
        int outRoom = SSL.bioLengthByteBuffer(bio);
        SSL.bioFlushByteBuffer(bio); // what BoringSSL wrote while reading goes first
        if (SSL.bioLengthNonApplication(bio) > 0) {
            return outRoom == SSL.bioLengthByteBuffer(bio) ? Status.BUFFER_OVERFLOW : Status.OK;
        }
        if (outboundClosed) {
            return writeClose();
        }
        if (!handshakeDone) {
            return handshake();
        }
        return write(src, SSL.bioLengthByteBuffer(bio));
    }

    private Status write(ByteBuffer src, int room) throws SSLException {
        if (!src.hasRemaining()) {
            return Status.OK;
        }
        int length = Math.min(src.remaining(), MAX_PLAINTEXT);
        if (room < length + (maxRecordBytes - MAX_PLAINTEXT)) {
            // Never let SSL_write stop half way: it would keep state we would have to replay exactly.
            return Status.BUFFER_OVERFLOW;
        }
        ByteBuffer in = src.isDirect() ? src : stagePlaintext(src, length);
        int written = SSL.writeToSSL(ssl, Buffer.address(in) + in.position(), length);
        if (written > 0) {
            src.position(src.position() + written);
            return Status.OK;
        }
        return afterError(SSL.getError(ssl, written), "write");
    }

    /** close_notify once the handshake is done (RFC 8446 §6.1); before that there is nothing to close. */
    private Status writeClose() {
        if ((!shutdownSent || writePending) && handshakeDone && !failed) {
            shutdownSent = true;
            int result = SSL.shutdownSSL(ssl);
            writePending = result < 0 && SSL.getError(ssl, result) == SSL.SSL_ERROR_WANT_WRITE;
            SSL.clearError(); // "shutdown while in init" and the like are no news to anyone
        }
        return isOutboundDone() ? Status.CLOSED : Status.OK;
    }

    /** Maps SSL_get_error's answer to a status, or to an exception naming BoringSSL's reason. */
    private Status afterError(int error, String operation) throws SSLException {
        if (error == SSL.SSL_ERROR_WANT_READ || error == SSL.SSL_ERROR_WANT_WRITE) {
            return Status.OK; // the BIO is empty (all input taken) or full (flush, then go on)
        }
        if (error == SSL.SSL_ERROR_ZERO_RETURN) {
            inboundDone = true; // the peer's close_notify
            return Status.CLOSED;
        }
        failed = true;
        inboundDone = true;
        int code = SSL.getLastErrorNumber();
        String reason = code == 0 ? "SSL error " + error + " during " + operation : SSL.getErrorString(code);
        SSL.clearError();
        String callbackFailure = handshakeDone ? null : NativeServerTls.takeCallbackFailure();
        if (callbackFailure != null) {
            reason = callbackFailure;
        }
        if (!handshakeDone || reason.contains("RENEGOTIATION")) {
            throw new SSLHandshakeException(reason);
        }
        throw new SSLException(reason);
    }

    private static ByteBuffer stage(ByteBuffer src) {
        ByteBuffer staging = STAGING_IN.get().clear();
        if (src.remaining() > staging.capacity()) {
            throw new IllegalArgumentException("heap input larger than the staging buffer");
        }
        staging.put(src.duplicate()).flip();
        return staging;
    }

    private static ByteBuffer stagePlaintext(ByteBuffer src, int length) {
        ByteBuffer staging = STAGING_IN.get().clear();
        staging.put(src.duplicate().limit(src.position() + length)).flip();
        return staging;
    }

    @Override
    public Runnable delegatedTask() {
        return null;
    }

    @Override
    public void closeOutbound() {
        outboundClosed = true;
    }

    @Override
    public boolean isOutboundDone() {
        if (ssl == 0) {
            return true;
        }
        boolean closeWritten = shutdownSent || !handshakeDone || failed;
        return outboundClosed && closeWritten && !writePending && SSL.bioLengthNonApplication(bio) == 0;
    }

    @Override
    public boolean isInboundDone() {
        return ssl == 0 || inboundDone;
    }

    @Override
    public String applicationProtocol() {
        if (ssl == 0 || !handshakeDone) {
            return null;
        }
        String selected = SSL.getAlpnSelected(ssl);
        return selected == null ? "" : selected;
    }

    @Override
    public String protocol() {
        return ssl == 0 || !handshakeDone ? null : SSL.getVersion(ssl);
    }

    @Override
    public int maxRecordBytes() {
        return maxRecordBytes;
    }

    @Override
    public void free() {
        if (ssl != 0) {
            SSL.freeSSL(ssl); // frees the BIO too: SSL_set_bio gave it to the SSL
            ssl = 0;
            SSL.clearError();
            owner.sessionFreed();
        }
    }

    /** True once the handshake resumed an earlier session (tests and metrics). */
    boolean sessionReused() {
        return ssl != 0 && SSL.isSessionReused(ssl);
    }
}
