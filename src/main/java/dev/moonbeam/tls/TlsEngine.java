package dev.moonbeam.tls;

import dev.moonbeam.loop.BufferPool;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import javax.net.ssl.SSLException;

/**
 * One client connection's TLS: an explicit state machine ({@link TlsStateMachine}) around one
 * {@link TlsSession} (the provider seam: JSSE or native), pure over byte buffers ({@link TlsBuffers}).
 * This class is its public face. Ciphertext goes in through
 * {@link #receive}, plaintext comes out of {@link #readPlaintext}; plaintext goes in through
 * {@link #send} and ciphertext comes out of {@link #drainTo} / {@link #writeTo}. No I/O of its own
 * except the channel a caller hands to {@code writeTo}.
 *
 * <p>States, and the timeout that applies in each:
 * <ul>
 *   <li>{@code HANDSHAKING}: until the handshake completes; the handshake deadline
 *       ({@link #handshakeExpired}).
 *   <li>{@code OPEN}: application data both ways; the connection's own keep-alive/request timeouts.
 *   <li>{@code CLOSING}: a close_notify was sent or received, or a failure's alert is pending; the
 *       caller flushes and closes (bounded by its write timeout).
 *   <li>{@code CLOSED}: nothing more will be sent; only {@link #release} remains.
 * </ul>
 *
 * <p>Buffers ({@link TlsBuffers}) are held only while bytes are pending; an idle OPEN connection
 * holds none. Pool buffers are sized for one full record, so BUFFER_OVERFLOW is answered by
 * draining, never by enlarging.
 *
 * <p>Owned by one event loop thread; no locks.
 */
public final class TlsEngine {
    /** Connection lifecycle; changed only in {@link #setState}. */
    public enum State { HANDSHAKING, OPEN, CLOSING, CLOSED }

    /** What a call needs from its caller before more progress is possible. */
    public enum Result {
        /** Everything given was consumed (a partial record may be held); give more ciphertext. */
        NEED_INPUT,
        /** Ciphertext is pending and the engine cannot go on until it is written out; then call {@link #resume}. */
        NEED_FLUSH,
        /** Plaintext is waiting; read it, then call {@link #resume} to unwrap the records still held. */
        NEED_PLAINTEXT_READ,
        /** The peer sent close_notify (or the stream ended); no more plaintext will come. */
        INBOUND_CLOSED,
        /** Fatal: see {@link #failure()}. An alert may be pending; flush it, then close. */
        FAILED,
        /** Handshake computation runs on another thread; the engine's owner is called back when it is done. */
        TASKS_RUNNING
    }

    /**
     * Runs the session's delegated tasks (key exchange, signing: the bulk of a JSSE handshake's
     * CPU) somewhere else and then calls {@code done} on the engine's own loop thread.
     */
    @FunctionalInterface
    public interface TaskRunner {
        void run(Runnable tasks, Runnable done);
    }

    /** Why a connection failed; for logs and metrics, and to answer plain HTTP with a 400. */
    public enum Failure {
        /** The first byte was not a TLS handshake record; the client probably spoke plain HTTP. */
        NOT_TLS,
        HANDSHAKE,
        PROTOCOL,
        RENEGOTIATION_REFUSED,
        HANDSHAKE_TIMEOUT,
        /** The peer went away during the handshake. */
        TRUNCATED_HANDSHAKE,
        RECORD_TOO_LARGE
    }

    /** TLS record content type handshake (RFC 8446 §5.1); every ClientHello starts with it. */
    private static final int CONTENT_TYPE_HANDSHAKE = 22;

    private final TlsSession session;
    private final TlsBuffers buffers;
    private final TlsStateMachine machine;
    private final long handshakeDeadlineNanos;
    private boolean sawFirstByte;
    private boolean looksLikePlainHttp;

    /**
     * @param handshakeDeadlineNanos on the loop's clock ({@link System#nanoTime} in production, a fake in tests)
     */
    public TlsEngine(TlsSession session, BufferPool pool, long handshakeDeadlineNanos) {
        this(session, pool, handshakeDeadlineNanos, null, null);
    }

    /**
     * @param taskRunner where delegated tasks run, or null to run them inline on the caller's thread
     * @param onTasksDone called on the loop thread when off-loop tasks have finished; the owner then
     *                    drives the engine again (reads, flushes)
     */
    public TlsEngine(TlsSession session, BufferPool pool, long handshakeDeadlineNanos, TaskRunner taskRunner,
                     Runnable onTasksDone) {
        this(session, pool, pool, handshakeDeadlineNanos, taskRunner, onTasksDone);
    }

    /**
     * @param outPool buffers for outbound ciphertext; larger than {@code pool}'s so that the records
     *                wrapped from one plaintext buffer (a full record and its remainder) leave in one
     *                socket write instead of two
     */
    public TlsEngine(TlsSession session, BufferPool pool, BufferPool outPool, long handshakeDeadlineNanos,
                     TaskRunner taskRunner, Runnable onTasksDone) {
        this.buffers = new TlsBuffers(pool, outPool);
        int recordBytes = session.maxRecordBytes();
        if (buffers.smallestBufferSize() < recordBytes) {
            session.free();
            throw new IllegalArgumentException("pool buffers (" + buffers.smallestBufferSize()
                    + " bytes) cannot hold one TLS record (" + recordBytes + ")");
        }
        this.session = session;
        this.machine = new TlsStateMachine(session, buffers, taskRunner, onTasksDone);
        this.handshakeDeadlineNanos = handshakeDeadlineNanos;
        try {
            // Without this a JSSE server engine reports NOT_HANDSHAKING until its first unwrap.
            session.beginHandshake();
        } catch (SSLException e) {
            machine.fail(Failure.HANDSHAKE, e);
        }
    }

    // ---- inbound -------------------------------------------------------------------------------

    /**
     * Takes ciphertext from {@code src} (read mode) and unwraps all it can. Leftover bytes (a partial
     * record, or records waiting for plaintext to be read) are copied into a pooled buffer, so src is
     * always fully consumed. Callers give at most {@link #inboundRoom()} bytes.
     */
    public Result receive(ByteBuffer src) {
        if (machine.state() == State.CLOSED) {
            src.position(src.limit()); // nothing will read it
            return machine.closedResult();
        }
        if (!sawFirstByte && src.hasRemaining()) {
            sawFirstByte = true;
            int first = src.get(src.position()) & 0xFF;
            if (first != CONTENT_TYPE_HANDSHAKE) {
                looksLikePlainHttp = first >= 'A' && first <= 'Z'; // every method token starts upper case
                src.position(src.limit());
                return machine.failQuietly(Failure.NOT_TLS);
            }
        }
        if (src.remaining() > inboundRoom()) {
            throw new IllegalStateException("receive() given " + src.remaining() + " bytes, room is " + inboundRoom());
        }
        if (machine.tasksRunning()) {
            buffers.holdInput(src); // unwrapped once the tasks are done
            return Result.TASKS_RUNNING;
        }
        if (buffers.hasHeldInput()) {
            buffers.holdInput(src);
            return machine.advanceHeld();
        }
        Result result = machine.advance(src);
        if (src.hasRemaining()) {
            // Only leftovers are copied out of the caller's (loop-wide scratch) buffer.
            if (machine.state() == State.CLOSED || machine.failure() != null) {
                src.position(src.limit());
            } else {
                buffers.holdInput(src);
            }
        }
        return result;
    }

    /** Continues after the caller flushed output or read plaintext. */
    public Result resume() {
        if (machine.state() == State.CLOSED) {
            return machine.closedResult();
        }
        if (machine.tasksRunning()) {
            return Result.TASKS_RUNNING;
        }
        machine.continueClose();
        if (buffers.hasHeldInput()) {
            return machine.advanceHeld();
        }
        return machine.advance(TlsStateMachine.EMPTY);
    }

    /** How many ciphertext bytes the next {@link #receive} may take; 0 while plaintext waits to be read. */
    public int inboundRoom() {
        return buffers.hasPlaintext() ? 0 : buffers.inputRoom();
    }

    /** Copies pending plaintext into dst (fill mode); releases (zeroed) the buffer once empty. */
    public int readPlaintext(ByteBuffer dst) {
        return buffers.readPlaintext(dst);
    }

    public boolean hasPlaintext() {
        return buffers.hasPlaintext();
    }

    /** True while ciphertext bytes are held that are not yet unwrapped. */
    public boolean hasHeldInput() {
        return buffers.hasHeldInput();
    }

    /**
     * The transport saw end of stream. During the handshake that is a failure; afterwards it is a
     * truncation (no close_notify, RFC 8446 §6.1), which we report as end of input: HTTP framing
     * above knows whether the message was complete.
     */
    public Result endOfInput() {
        return machine.endOfInput();
    }

    // ---- outbound ------------------------------------------------------------------------------

    /**
     * Encrypts plaintext from src (read mode) into pending ciphertext.
     *
     * @return bytes taken (0 while handshaking or while ciphertext must be flushed first), or -1
     *         when the connection can no longer send
     */
    public int send(ByteBuffer src) {
        if (machine.state() == State.HANDSHAKING || machine.tasksRunning()) {
            return 0;
        }
        if (machine.outboundClosed()) {
            return -1;
        }
        int start = src.position();
        try {
            ByteBuffer netOut = buffers.outputTarget();
            for (int step = 0; step < TlsStateMachine.MAX_STEPS && src.hasRemaining(); step++) {
                TlsSession.Status status = session.wrap(src, netOut);
                switch (status) {
                    case OK:
                        break;
                    case BUFFER_OVERFLOW:
                        if (netOut.position() == 0) {
                            machine.fail(Failure.RECORD_TOO_LARGE, new SSLException("record larger than a pool buffer"));
                        }
                        return src.position() - start; // drain first
                    case CLOSED:
                        return src.position() == start ? -1 : src.position() - start;
                    case BUFFER_UNDERFLOW:
                    default:
                        throw new IllegalStateException("wrap: " + status);
                }
            }
            return src.position() - start;
        } catch (SSLException e) {
            machine.fail(Failure.PROTOCOL, e);
            return src.position() == start ? -1 : src.position() - start;
        } finally {
            buffers.releaseOutputIfEmpty();
        }
    }

    /** Starts a graceful close: queues close_notify (RFC 8446 §6.1). Does not wait for the peer's. */
    public void closeOutbound() {
        machine.closeOutbound();
    }

    public boolean hasPendingOutput() {
        return buffers.hasOutput();
    }

    /** True when the engine stopped because its output buffer is full; flush, then {@link #resume}. */
    public boolean outputBlocked() {
        return machine.outputBlocked();
    }

    /** Copies pending ciphertext into dst (fill mode); for in-memory use and tests. */
    public int drainTo(ByteBuffer dst) {
        if (!buffers.hasOutput()) {
            return 0;
        }
        int copied = buffers.drainTo(dst);
        machine.afterDrain();
        return copied;
    }

    /** Writes pending ciphertext to a non-blocking channel; returns bytes written (0 if the socket is full). */
    public int writeTo(WritableByteChannel channel) throws IOException {
        if (!buffers.hasOutput()) {
            return 0;
        }
        try {
            return buffers.writeTo(channel);
        } finally {
            machine.afterDrain();
        }
    }

    // ---- lifecycle -----------------------------------------------------------------------------

    public State state() {
        return machine.state();
    }

    /** Why the connection failed, or null. */
    public Failure failure() {
        return machine.failure();
    }

    /** The provider's exception behind {@link #failure()}, for the log; may be null. */
    public SSLException failureCause() {
        return machine.failureCause();
    }

    /** True when a NOT_TLS failure began like an HTTP request line, so a plain 400 is understood. */
    public boolean looksLikePlainHttp() {
        return looksLikePlainHttp;
    }

    public boolean inboundClosed() {
        return machine.inboundClosed();
    }

    public long handshakeDeadlineNanos() {
        return handshakeDeadlineNanos;
    }

    /** Called by the loop's timer; fails the connection when it is still handshaking past its deadline. */
    public boolean handshakeExpired(long nowNanos) {
        if (machine.state() == State.HANDSHAKING && nowNanos - handshakeDeadlineNanos >= 0) {
            machine.failQuietly(Failure.HANDSHAKE_TIMEOUT);
            return true;
        }
        return false;
    }

    /** True while handshake tasks run elsewhere; the owner should not wait for socket reads meanwhile. */
    public boolean tasksRunning() {
        return machine.tasksRunning();
    }

    /** The negotiated ALPN protocol, "" when none, null before the handshake finished. */
    public String applicationProtocol() {
        return machine.sessionFreed() ? null : session.applicationProtocol();
    }

    /** The negotiated protocol version, or null. */
    public String protocol() {
        return machine.sessionFreed() ? null : session.protocol();
    }

    public TlsSession session() {
        return session;
    }

    /** Returns every buffer to the pool (plaintext zeroed), frees the session and ends the state machine. Idempotent. */
    public void release() {
        machine.release();
    }
}
