package dev.moonbeam.tls;

import dev.moonbeam.loop.BufferPool;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;

/**
 * One client connection's TLS, as an explicit state machine around one {@link TlsSession} (the
 * provider seam: JSSE or native), pure over byte buffers: ciphertext goes in through
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

    private static final System.Logger LOG = System.getLogger(TlsEngine.class.getName());
    /** TLS record content type handshake (RFC 8446 §5.1); every ClientHello starts with it. */
    private static final int CONTENT_TYPE_HANDSHAKE = 22;
    /** Guard against a spinning loop; one step per record or task, so far above any honest need. */
    private static final int MAX_STEPS = 10_000;
    /** Capacity 0: position and limit can only ever be 0, so sharing it across loops is safe. */
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    private final TlsSession session;
    private final TlsBuffers buffers;
    private final long handshakeDeadlineNanos;
    private State state = State.HANDSHAKING;
    private Failure failure;
    private SSLException failureCause;
    private boolean sawFirstByte;
    private boolean looksLikePlainHttp;
    private boolean inboundClosed;
    private boolean outboundCloseRequested;
    /** A wrap overflowed with ciphertext pending: flushing it unblocks the engine. */
    private boolean outputBlocked;
    private final TaskRunner taskRunner;
    private final Runnable onTasksDone;
    /** True while delegated tasks run on another thread: nothing may touch the session meanwhile. */
    private boolean tasksRunning;
    private boolean sessionFreed;

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
        this.handshakeDeadlineNanos = handshakeDeadlineNanos;
        this.taskRunner = taskRunner;
        this.onTasksDone = onTasksDone;
        try {
            // Without this a JSSE server engine reports NOT_HANDSHAKING until its first unwrap.
            session.beginHandshake();
        } catch (SSLException e) {
            fail(Failure.HANDSHAKE, e);
        }
    }

    // ---- inbound -------------------------------------------------------------------------------

    /**
     * Takes ciphertext from {@code src} (read mode) and unwraps all it can. Leftover bytes (a partial
     * record, or records waiting for plaintext to be read) are copied into a pooled buffer, so src is
     * always fully consumed. Callers give at most {@link #inboundRoom()} bytes.
     */
    public Result receive(ByteBuffer src) {
        if (state == State.CLOSED) {
            src.position(src.limit()); // nothing will read it
            return failure != null ? Result.FAILED : Result.INBOUND_CLOSED;
        }
        if (!sawFirstByte && src.hasRemaining()) {
            sawFirstByte = true;
            int first = src.get(src.position()) & 0xFF;
            if (first != CONTENT_TYPE_HANDSHAKE) {
                looksLikePlainHttp = first >= 'A' && first <= 'Z'; // every method token starts upper case
                src.position(src.limit());
                return failQuietly(Failure.NOT_TLS);
            }
        }
        if (src.remaining() > inboundRoom()) {
            throw new IllegalStateException("receive() given " + src.remaining() + " bytes, room is " + inboundRoom());
        }
        if (tasksRunning) {
            buffers.holdInput(src); // unwrapped once the tasks are done
            return Result.TASKS_RUNNING;
        }
        if (buffers.hasHeldInput()) {
            buffers.holdInput(src);
            return advanceHeld();
        }
        Result result = advance(src);
        if (src.hasRemaining()) {
            // Only leftovers are copied out of the caller's (loop-wide scratch) buffer.
            if (state == State.CLOSED || failure != null) {
                src.position(src.limit());
            } else {
                buffers.holdInput(src);
            }
        }
        return result;
    }

    /** Continues after the caller flushed output or read plaintext. */
    public Result resume() {
        if (state == State.CLOSED) {
            return failure != null ? Result.FAILED : Result.INBOUND_CLOSED;
        }
        if (tasksRunning) {
            return Result.TASKS_RUNNING;
        }
        if (outboundCloseRequested && !session.isOutboundDone()) {
            wrapClose();
        }
        if (buffers.hasHeldInput()) {
            return advanceHeld();
        }
        return advance(EMPTY);
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
        if (state == State.HANDSHAKING) {
            return failQuietly(Failure.TRUNCATED_HANDSHAKE);
        }
        if (!inboundClosed) {
            inboundClosed = true;
            if (state == State.OPEN) {
                setState(State.CLOSING);
            }
        }
        return Result.INBOUND_CLOSED;
    }

    // ---- outbound ------------------------------------------------------------------------------

    /**
     * Encrypts plaintext from src (read mode) into pending ciphertext.
     *
     * @return bytes taken (0 while handshaking or while ciphertext must be flushed first), or -1
     *         when the connection can no longer send
     */
    public int send(ByteBuffer src) {
        if (state == State.HANDSHAKING || tasksRunning) {
            return 0;
        }
        if (state == State.CLOSED || failure != null || outboundCloseRequested || session.isOutboundDone()) {
            return -1;
        }
        int start = src.position();
        try {
            ByteBuffer netOut = buffers.outputTarget();
            for (int step = 0; step < MAX_STEPS && src.hasRemaining(); step++) {
                TlsSession.Status status = session.wrap(src, netOut);
                switch (status) {
                    case OK:
                        break;
                    case BUFFER_OVERFLOW:
                        if (netOut.position() == 0) {
                            fail(Failure.RECORD_TOO_LARGE, new SSLException("record larger than a pool buffer"));
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
            fail(Failure.PROTOCOL, e);
            return src.position() == start ? -1 : src.position() - start;
        } finally {
            buffers.releaseOutputIfEmpty();
        }
    }

    /** Starts a graceful close: queues close_notify (RFC 8446 §6.1). Does not wait for the peer's. */
    public void closeOutbound() {
        if (state == State.CLOSED || outboundCloseRequested) {
            return;
        }
        outboundCloseRequested = true;
        if (state != State.CLOSING) {
            setState(State.CLOSING);
        }
        if (tasksRunning) {
            return; // tasksDone() closes the session's outbound side
        }
        session.closeOutbound();
        wrapClose();
        checkClosed();
    }

    public boolean hasPendingOutput() {
        return buffers.hasOutput();
    }

    /** True when the engine stopped because its output buffer is full; flush, then {@link #resume}. */
    public boolean outputBlocked() {
        return outputBlocked;
    }

    /** Copies pending ciphertext into dst (fill mode); for in-memory use and tests. */
    public int drainTo(ByteBuffer dst) {
        if (!buffers.hasOutput()) {
            return 0;
        }
        int copied = buffers.drainTo(dst);
        afterDrain();
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
            afterDrain();
        }
    }

    // ---- lifecycle -----------------------------------------------------------------------------

    public State state() {
        return state;
    }

    /** Why the connection failed, or null. */
    public Failure failure() {
        return failure;
    }

    /** The provider's exception behind {@link #failure()}, for the log; may be null. */
    public SSLException failureCause() {
        return failureCause;
    }

    /** True when a NOT_TLS failure began like an HTTP request line, so a plain 400 is understood. */
    public boolean looksLikePlainHttp() {
        return looksLikePlainHttp;
    }

    public boolean inboundClosed() {
        return inboundClosed;
    }

    public long handshakeDeadlineNanos() {
        return handshakeDeadlineNanos;
    }

    /** Called by the loop's timer; fails the connection when it is still handshaking past its deadline. */
    public boolean handshakeExpired(long nowNanos) {
        if (state == State.HANDSHAKING && nowNanos - handshakeDeadlineNanos >= 0) {
            failQuietly(Failure.HANDSHAKE_TIMEOUT);
            return true;
        }
        return false;
    }

    /** The negotiated ALPN protocol, "" when none, null before the handshake finished. */
    public String applicationProtocol() {
        return sessionFreed ? null : session.applicationProtocol();
    }

    /** The negotiated protocol version, or null. */
    public String protocol() {
        return sessionFreed ? null : session.protocol();
    }

    public TlsSession session() {
        return session;
    }

    /** Returns every buffer to the pool (plaintext zeroed), frees the session and ends the state machine. Idempotent. */
    public void release() {
        buffers.releaseAll();
        if (state != State.CLOSED) {
            if (!tasksRunning) {
                session.closeOutbound(); // with tasks still running the session is simply dropped
            }
            setState(State.CLOSED);
        }
        freeSession();
    }

    private void freeSession() {
        // A session busy on a task thread is freed when the task hands it back (tasksDone).
        if (!sessionFreed && !tasksRunning) {
            sessionFreed = true;
            session.free();
        }
    }

    // ---- the state machine ---------------------------------------------------------------------

    private Result advanceHeld() {
        ByteBuffer netIn = buffers.flipHeldInput();
        try {
            return advance(netIn);
        } finally {
            buffers.afterHeldInput(state == State.CLOSED); // CLOSED: nobody will unwrap the rest
        }
    }

    /** Drives the session over {@code in} until it needs something from the caller. */
    private Result advance(ByteBuffer in) {
        for (int step = 0; step < MAX_STEPS; step++) {
            if (state == State.CLOSED) {
                return failure != null ? Result.FAILED : Result.INBOUND_CLOSED;
            }
            if (failure != null) {
                return Result.FAILED;
            }
            Result result;
            TlsSession.Handshake status = session.handshakeStatus();
            switch (status) {
                case NEED_TASK:
                    result = runDelegatedTasks();
                    break;
                case NEED_WRAP:
                    result = wrapHandshake();
                    break;
                case NEED_UNWRAP:
                    if (session.isInboundDone()) {
                        return Result.INBOUND_CLOSED; // e.g. TLS 1.2 after our close_notify; we do not wait
                    }
                    result = unwrap(in);
                    break;
                case DONE:
                    if (state == State.HANDSHAKING) {
                        setState(State.OPEN);
                    }
                    if (inboundClosed || session.isInboundDone()) {
                        return Result.INBOUND_CLOSED;
                    }
                    if (!in.hasRemaining()) {
                        return Result.NEED_INPUT;
                    }
                    result = unwrap(in);
                    break;
                default:
                    throw new IllegalStateException("handshake status " + status);
            }
            if (result != null) {
                return result;
            }
        }
        return fail(Failure.PROTOCOL, new SSLException("no progress after " + MAX_STEPS + " steps"));
    }

    /** One record; returns null to keep going, or what the caller must do. */
    private Result unwrap(ByteBuffer in) {
        if (!in.hasRemaining()) {
            return Result.NEED_INPUT;
        }
        TlsSession.Status status;
        try {
            status = session.unwrap(in, buffers.plaintextTarget());
        } catch (SSLHandshakeException e) {
            return fail(state == State.HANDSHAKING ? Failure.HANDSHAKE : Failure.RENEGOTIATION_REFUSED, e);
        } catch (SSLException e) {
            return fail(state == State.HANDSHAKING ? Failure.HANDSHAKE : Failure.PROTOCOL, e);
        } finally {
            buffers.releasePlaintextIfUnused();
        }
        switch (status) {
            case OK:
                return null;
            case BUFFER_UNDERFLOW:
                return Result.NEED_INPUT; // partial record: the caller keeps the rest in netIn
            case BUFFER_OVERFLOW:
                if (buffers.hasPlaintext()) {
                    return Result.NEED_PLAINTEXT_READ;
                }
                return fail(Failure.RECORD_TOO_LARGE, new SSLException("record larger than a pool buffer"));
            case CLOSED:
                // close_notify received (RFC 8446 §6.1); TLS 1.2 engines now want to wrap their reply.
                inboundClosed = true;
                if (state == State.OPEN || state == State.HANDSHAKING) {
                    setState(State.CLOSING);
                }
                return null;
            default:
                throw new IllegalStateException("unwrap: " + status);
        }
    }

    private Result wrapHandshake() {
        TlsSession.Status status;
        try {
            status = session.wrap(EMPTY, buffers.outputTarget());
        } catch (SSLException e) {
            buffers.releaseOutputIfEmpty();
            return fail(state == State.HANDSHAKING ? Failure.HANDSHAKE : Failure.PROTOCOL, e);
        }
        buffers.releaseOutputIfEmpty();
        switch (status) {
            case OK:
                return null;
            case BUFFER_OVERFLOW:
                if (buffers.hasOutput()) {
                    outputBlocked = true;
                    return Result.NEED_FLUSH;
                }
                return fail(Failure.RECORD_TOO_LARGE, new SSLException("handshake record larger than a pool buffer"));
            case CLOSED:
                checkClosed(); // our close_notify went out with it
                return session.isInboundDone() || inboundClosed ? Result.INBOUND_CLOSED : null;
            case BUFFER_UNDERFLOW:
            default:
                throw new IllegalStateException("wrap: " + status);
        }
    }

    /** Wraps close_notify or a fatal alert, as far as the output buffer allows. */
    private void wrapClose() {
        for (int step = 0; step < MAX_STEPS && !session.isOutboundDone(); step++) {
            ByteBuffer netOut = buffers.outputTarget();
            int before = netOut.position();
            TlsSession.Status status;
            try {
                status = session.wrap(EMPTY, netOut);
            } catch (SSLException e) {
                break; // nothing sensible left to send
            } finally {
                buffers.releaseOutputIfEmpty();
            }
            if (status == TlsSession.Status.BUFFER_OVERFLOW) {
                outputBlocked = buffers.hasOutput();
                return;
            }
            if (buffers.outputBytes() == before) {
                break;
            }
        }
    }

    /**
     * JSSE's key exchange and signature run here: ~1-3 ms of pure-Java EC arithmetic per full
     * handshake. Inline, fifty new clients stalled every keep-alive request on the loop for over
     * 100 ms (benchmarked), so with a runner they go to other threads and the loop serves on.
     * Returns null to keep going (inline) or {@link Result#TASKS_RUNNING}.
     */
    private Result runDelegatedTasks() {
        if (taskRunner == null) {
            runAllTasks();
            return null;
        }
        tasksRunning = true;
        taskRunner.run(this::runAllTasks, this::tasksDone);
        return Result.TASKS_RUNNING;
    }

    /** On the runner's thread: only the session is touched, never our buffers or state. */
    private void runAllTasks() {
        for (Runnable task = session.delegatedTask(); task != null; task = session.delegatedTask()) {
            task.run();
        }
    }

    /** Back on the loop thread. */
    private void tasksDone() {
        tasksRunning = false;
        if (state == State.CLOSED) {
            freeSession();
            return;
        }
        if (outboundCloseRequested && !session.isOutboundDone()) {
            session.closeOutbound();
            wrapClose();
            checkClosed();
        }
        if (onTasksDone != null) {
            onTasksDone.run();
        }
    }

    /** True while handshake tasks run elsewhere; the owner should not wait for socket reads meanwhile. */
    public boolean tasksRunning() {
        return tasksRunning;
    }

    /** A fatal error with an alert for the peer: CLOSING until the alert is flushed. */
    private Result fail(Failure kind, SSLException cause) {
        if (failure == null) {
            failure = kind;
            failureCause = cause;
            LOG.log(Level.DEBUG, "TLS failure {0}: {1}", kind, cause.getMessage());
        }
        if (state != State.CLOSING && state != State.CLOSED) {
            setState(State.CLOSING);
        }
        outboundCloseRequested = true;
        if (tasksRunning) {
            release(); // the session is busy on another thread; no alert, just drop it
            return Result.FAILED;
        }
        session.closeOutbound();
        wrapClose();
        checkClosed();
        return Result.FAILED;
    }

    /** A failure where there is no one to send an alert to, or nothing they would understand. */
    private Result failQuietly(Failure kind) {
        if (failure == null) {
            failure = kind;
            LOG.log(Level.DEBUG, "TLS failure {0}", kind);
        }
        release();
        return Result.FAILED;
    }

    private void afterDrain() {
        if (!buffers.hasOutput()) {
            outputBlocked = false;
            if (outboundCloseRequested && !session.isOutboundDone() && state != State.CLOSED) {
                wrapClose();
            }
        }
        checkClosed();
    }

    private void checkClosed() {
        if (state == State.CLOSING && session.isOutboundDone() && !buffers.hasOutput()) {
            // close_notify or alert is out; unread plaintext stays readable until release().
            setState(State.CLOSED);
        }
    }

    private void setState(State next) {
        LOG.log(Level.TRACE, "{0} --> {1}", state, next);
        state = next;
    }
}
