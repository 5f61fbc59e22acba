package dev.moonbeam.tls;

import dev.moonbeam.loop.BufferPool;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;

/**
 * One client connection's TLS, as an explicit state machine around one {@link SSLEngine}, pure over
 * byte buffers: ciphertext goes in through {@link #receive}, plaintext comes out of
 * {@link #readPlaintext}; plaintext goes in through {@link #send} and ciphertext comes out of
 * {@link #drainTo} / {@link #writeTo}. No I/O of its own except the channel a caller hands to
 * {@code writeTo}.
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
 * <p>Buffers come from the loop's pool and are held only while bytes are pending: {@code netIn} for a
 * partial record, {@code appIn} for plaintext not yet read (zeroed on release), {@code netOut} for
 * ciphertext not yet written. An idle OPEN connection holds none. Pool buffers are sized for one
 * full record, so BUFFER_OVERFLOW is answered by draining, never by enlarging.
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
     * Runs the SSLEngine's delegated tasks (key exchange, signing: the bulk of a handshake's CPU)
     * somewhere else and then calls {@code done} on the engine's own loop thread.
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

    private final SSLEngine engine;
    private final BufferPool pool;
    /** Ciphertext waiting for the socket; may hold several records so they leave in one write. */
    private final BufferPool outPool;
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
    private ByteBuffer netIn;
    private ByteBuffer appIn;
    private final TaskRunner taskRunner;
    private final Runnable onTasksDone;
    /** True while delegated tasks run on another thread: nothing may touch the SSLEngine meanwhile. */
    private boolean tasksRunning;
    /** How far into {@code appIn} plaintext was ever written, so release zeroes only that much. */
    private int appInDirty;
    private ByteBuffer netOut;
    /** SSLEngine's two-buffer wrap/unwrap allocate a one-element array per call; these are reused. */
    private final ByteBuffer[] wrapSource = new ByteBuffer[1];
    private final ByteBuffer[] unwrapTarget = new ByteBuffer[1];

    /**
     * @param handshakeDeadlineNanos on the loop's clock ({@link System#nanoTime} in production, a fake in tests)
     */
    public TlsEngine(SSLEngine engine, BufferPool pool, long handshakeDeadlineNanos) {
        this(engine, pool, handshakeDeadlineNanos, null, null);
    }

    /**
     * @param taskRunner where delegated tasks run, or null to run them inline on the caller's thread
     * @param onTasksDone called on the loop thread when off-loop tasks have finished; the owner then
     *                    drives the engine again (reads, flushes)
     */
    public TlsEngine(SSLEngine engine, BufferPool pool, long handshakeDeadlineNanos, TaskRunner taskRunner,
                     Runnable onTasksDone) {
        this(engine, pool, pool, handshakeDeadlineNanos, taskRunner, onTasksDone);
    }

    /**
     * @param outPool buffers for outbound ciphertext; larger than {@code pool}'s so that the records
     *                wrapped from one plaintext buffer (a full record and its remainder) leave in one
     *                socket write instead of two
     */
    public TlsEngine(SSLEngine engine, BufferPool pool, BufferPool outPool, long handshakeDeadlineNanos,
                     TaskRunner taskRunner, Runnable onTasksDone) {
        int recordBytes = engine.getSession().getPacketBufferSize();
        int smallest = Math.min(pool.bufferSize(), outPool.bufferSize());
        if (smallest < recordBytes) {
            throw new IllegalArgumentException("pool buffers (" + smallest
                    + " bytes) cannot hold one TLS record (" + recordBytes + ")");
        }
        this.engine = engine;
        this.pool = pool;
        this.outPool = outPool;
        this.handshakeDeadlineNanos = handshakeDeadlineNanos;
        this.taskRunner = taskRunner;
        this.onTasksDone = onTasksDone;
        try {
            // Without this a server engine reports NOT_HANDSHAKING until its first unwrap.
            engine.beginHandshake();
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
            // Keep what arrived; it is unwrapped once the tasks are done.
            if (netIn == null) {
                netIn = pool.acquire();
            }
            netIn.put(src);
            return Result.TASKS_RUNNING;
        }
        if (netIn != null) {
            netIn.put(src);
            return advanceHeld();
        }
        Result result = advance(src);
        if (src.hasRemaining()) {
            // Only leftovers are copied out of the caller's (loop-wide scratch) buffer.
            if (state == State.CLOSED || failure != null) {
                src.position(src.limit());
            } else {
                netIn = pool.acquire();
                netIn.put(src);
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
        if (outboundCloseRequested && !engine.isOutboundDone()) {
            wrapClose();
        }
        if (netIn != null) {
            return advanceHeld();
        }
        return advance(EMPTY);
    }

    /** How many ciphertext bytes the next {@link #receive} may take; 0 while plaintext waits to be read. */
    public int inboundRoom() {
        if (appIn != null) {
            return 0;
        }
        return netIn == null ? pool.bufferSize() : netIn.remaining();
    }

    /** Copies pending plaintext into dst (fill mode); releases (zeroed) the buffer once empty. */
    public int readPlaintext(ByteBuffer dst) {
        if (appIn == null) {
            return 0;
        }
        appIn.flip();
        // Compaction only moves bytes down, so the largest limit seen bounds what was ever written.
        appInDirty = Math.max(appInDirty, appIn.limit());
        try {
            return BufferPool.copyWhatFits(appIn, dst);
        } finally {
            appIn.compact();
            if (appIn.position() == 0) {
                pool.releaseZeroed(appIn, appInDirty);
                appIn = null;
                appInDirty = 0;
            }
        }
    }

    public boolean hasPlaintext() {
        return appIn != null;
    }

    /** True while ciphertext bytes are held that are not yet unwrapped. */
    public boolean hasHeldInput() {
        return netIn != null;
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
        if (state == State.CLOSED || failure != null || outboundCloseRequested || engine.isOutboundDone()) {
            return -1;
        }
        int taken = 0;
        ensureNetOut();
        try {
            for (int step = 0; step < MAX_STEPS && src.hasRemaining(); step++) {
                SSLEngineResult result = wrapFrom(src);
                taken += result.bytesConsumed();
                switch (result.getStatus()) {
                    case OK:
                        break;
                    case BUFFER_OVERFLOW:
                        if (netOut.position() == 0) {
                            fail(Failure.RECORD_TOO_LARGE, new SSLException("record larger than a pool buffer"));
                        }
                        return taken; // drain first
                    case CLOSED:
                        return taken == 0 ? -1 : taken;
                    case BUFFER_UNDERFLOW:
                    default:
                        throw new IllegalStateException("wrap: " + result.getStatus());
                }
            }
            return taken;
        } catch (SSLException e) {
            fail(Failure.PROTOCOL, e);
            return taken == 0 ? -1 : taken;
        } finally {
            releaseNetOutIfEmpty();
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
            return; // tasksDone() closes the engine's outbound side
        }
        engine.closeOutbound();
        wrapClose();
        checkClosed();
    }

    public boolean hasPendingOutput() {
        return netOut != null;
    }

    /** True when the engine stopped because its output buffer is full; flush, then {@link #resume}. */
    public boolean outputBlocked() {
        return outputBlocked;
    }

    /** Copies pending ciphertext into dst (fill mode); for in-memory use and tests. */
    public int drainTo(ByteBuffer dst) {
        if (netOut == null) {
            return 0;
        }
        netOut.flip();
        try {
            return BufferPool.copyWhatFits(netOut, dst);
        } finally {
            netOut.compact();
            afterDrain();
        }
    }

    /** Writes pending ciphertext to a non-blocking channel; returns bytes written (0 if the socket is full). */
    public int writeTo(WritableByteChannel channel) throws IOException {
        if (netOut == null) {
            return 0;
        }
        netOut.flip();
        try {
            return channel.write(netOut); // socket write
        } finally {
            netOut.compact();
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

    /** The JDK's exception behind {@link #failure()}, for the log; may be null. */
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
        return engine.getApplicationProtocol();
    }

    public SSLEngine sslEngine() {
        return engine;
    }

    /** Returns every buffer to the pool (plaintext zeroed) and ends the state machine. Idempotent. */
    public void release() {
        if (netIn != null) {
            pool.release(netIn);
            netIn = null;
        }
        if (appIn != null) {
            pool.releaseZeroed(appIn);
            appIn = null;
        }
        if (netOut != null) {
            outPool.release(netOut);
            netOut = null;
        }
        if (state != State.CLOSED) {
            if (!tasksRunning) {
                engine.closeOutbound(); // with tasks still running the engine is simply dropped
            }
            setState(State.CLOSED);
        }
    }

    // ---- the state machine ---------------------------------------------------------------------

    private Result advanceHeld() {
        netIn.flip();
        try {
            return advance(netIn);
        } finally {
            netIn.compact();
            if (netIn.position() == 0 || state == State.CLOSED) { // CLOSED: nobody will unwrap the rest
                pool.release(netIn);
                netIn = null;
            }
        }
    }

    /** Drives the SSLEngine over {@code in} until it needs something from the caller. */
    private Result advance(ByteBuffer in) {
        for (int step = 0; step < MAX_STEPS; step++) {
            if (state == State.CLOSED) {
                return failure != null ? Result.FAILED : Result.INBOUND_CLOSED;
            }
            if (failure != null) {
                return Result.FAILED;
            }
            Result result;
            HandshakeStatus status = engine.getHandshakeStatus();
            switch (status) {
                case NEED_TASK:
                    result = runDelegatedTasks();
                    break;
                case NEED_WRAP:
                    result = wrapHandshake();
                    break;
                case NEED_UNWRAP:
                case NEED_UNWRAP_AGAIN:
                    if (engine.isInboundDone()) {
                        return Result.INBOUND_CLOSED; // e.g. TLS 1.2 after our close_notify; we do not wait
                    }
                    result = unwrap(in);
                    break;
                case NOT_HANDSHAKING:
                case FINISHED:
                    if (state == State.HANDSHAKING) {
                        setState(State.OPEN);
                    }
                    if (inboundClosed || engine.isInboundDone()) {
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
        boolean wasOpen = state == State.OPEN;
        if (appIn == null) {
            appIn = pool.acquire();
        }
        SSLEngineResult result;
        try {
            result = unwrapInto(in);
        } catch (SSLHandshakeException e) {
            return fail(state == State.HANDSHAKING ? Failure.HANDSHAKE : Failure.RENEGOTIATION_REFUSED, e);
        } catch (SSLException e) {
            return fail(state == State.HANDSHAKING ? Failure.HANDSHAKE : Failure.PROTOCOL, e);
        } finally {
            if (appIn != null && appIn.position() == 0) {
                pool.release(appIn); // held no plaintext, nothing to zero
                appIn = null;
            }
        }
        HandshakeStatus after = result.getHandshakeStatus();
        if (wasOpen && isRenegotiation(after)) {
            return fail(Failure.RENEGOTIATION_REFUSED, new SSLException("client-initiated renegotiation refused"));
        }
        switch (result.getStatus()) {
            case OK:
                return null;
            case BUFFER_UNDERFLOW:
                return Result.NEED_INPUT; // partial record: the caller keeps the rest in netIn
            case BUFFER_OVERFLOW:
                if (appIn != null) {
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
                throw new IllegalStateException("unwrap: " + result.getStatus());
        }
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

    private Result wrapHandshake() {
        ensureNetOut();
        SSLEngineResult result;
        try {
            result = wrapFrom(EMPTY);
        } catch (SSLException e) {
            releaseNetOutIfEmpty();
            return fail(state == State.HANDSHAKING ? Failure.HANDSHAKE : Failure.PROTOCOL, e);
        }
        releaseNetOutIfEmpty();
        switch (result.getStatus()) {
            case OK:
                return null;
            case BUFFER_OVERFLOW:
                if (netOut != null) {
                    outputBlocked = true;
                    return Result.NEED_FLUSH;
                }
                return fail(Failure.RECORD_TOO_LARGE, new SSLException("handshake record larger than a pool buffer"));
            case CLOSED:
                checkClosed(); // our close_notify went out with it
                return engine.isInboundDone() || inboundClosed ? Result.INBOUND_CLOSED : null;
            case BUFFER_UNDERFLOW:
            default:
                throw new IllegalStateException("wrap: " + result.getStatus());
        }
    }

    /** Wraps close_notify or a fatal alert, as far as the output buffer allows. */
    private void wrapClose() {
        for (int step = 0; step < MAX_STEPS && !engine.isOutboundDone(); step++) {
            ensureNetOut();
            SSLEngineResult result;
            try {
                result = wrapFrom(EMPTY);
            } catch (SSLException e) {
                break; // nothing sensible left to send
            } finally {
                releaseNetOutIfEmpty();
            }
            if (result.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                outputBlocked = netOut != null;
                return;
            }
            if (result.bytesProduced() == 0) {
                break;
            }
        }
    }

    /**
     * The key exchange and the signature run here: ~1-3 ms of pure-Java EC arithmetic per full
     * handshake. Inline, fifty new clients stalled every keep-alive request on the loop for over
     * 100 ms (benchmarked), so with a runner they go to other threads and the loop serves on.
     * Returns null to keep going (inline) or {@link Result#TASKS_RUNNING}.
     */
    private Result runDelegatedTasks() {
        if (taskRunner == null) {
            for (Runnable task = engine.getDelegatedTask(); task != null; task = engine.getDelegatedTask()) {
                task.run();
            }
            return null;
        }
        tasksRunning = true;
        taskRunner.run(this::runAllTasks, this::tasksDone);
        return Result.TASKS_RUNNING;
    }

    /** On the runner's thread: only the SSLEngine is touched, never our buffers or state. */
    private void runAllTasks() {
        for (Runnable task = engine.getDelegatedTask(); task != null; task = engine.getDelegatedTask()) {
            task.run();
        }
    }

    /** Back on the loop thread. */
    private void tasksDone() {
        tasksRunning = false;
        if (state == State.CLOSED) {
            return;
        }
        if (outboundCloseRequested && !engine.isOutboundDone()) {
            engine.closeOutbound();
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
            release(); // the engine is busy on another thread; no alert, just drop it
            return Result.FAILED;
        }
        engine.closeOutbound();
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
        if (!tasksRunning) {
            engine.closeOutbound();
        }
        release();
        return Result.FAILED;
    }

    private void afterDrain() {
        if (netOut.position() == 0) {
            outPool.release(netOut);
            netOut = null;
            outputBlocked = false;
            if (outboundCloseRequested && !engine.isOutboundDone()) {
                wrapClose();
            }
        }
        checkClosed();
    }

    private void checkClosed() {
        if (state == State.CLOSING && engine.isOutboundDone() && netOut == null) {
            // close_notify or alert is out; unread plaintext stays readable until release().
            setState(State.CLOSED);
        }
    }

    private SSLEngineResult wrapFrom(ByteBuffer src) throws SSLException {
        wrapSource[0] = src;
        try {
            return engine.wrap(wrapSource, 0, 1, netOut);
        } finally {
            wrapSource[0] = null;
        }
    }

    private SSLEngineResult unwrapInto(ByteBuffer src) throws SSLException {
        unwrapTarget[0] = appIn;
        try {
            return engine.unwrap(src, unwrapTarget, 0, 1);
        } finally {
            unwrapTarget[0] = null;
        }
    }

    private void ensureNetOut() {
        if (netOut == null) {
            netOut = outPool.acquire();
        }
    }

    private void releaseNetOutIfEmpty() {
        if (netOut != null && netOut.position() == 0) {
            outPool.release(netOut);
            netOut = null;
        }
    }

    private void setState(State next) {
        LOG.log(Level.TRACE, "{0} --> {1}", state, next);
        state = next;
    }
}
