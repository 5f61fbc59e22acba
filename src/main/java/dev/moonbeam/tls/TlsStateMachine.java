package dev.moonbeam.tls;

import dev.moonbeam.tls.TlsEngine.Failure;
import dev.moonbeam.tls.TlsEngine.Result;
import dev.moonbeam.tls.TlsEngine.State;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;

/**
 * The transitions of one connection's TLS: drives the {@link TlsSession} through handshake
 * statuses, wraps and unwraps until it needs something from the caller, hands JSSE's delegated
 * tasks to another thread and back, and records failures. {@link TlsEngine} is its public face and
 * feeds it bytes; the states and their timeouts are listed there.
 *
 * <p>Owned by the connection's loop thread, like the engine; no locks.
 */
final class TlsStateMachine {
    private static final System.Logger LOG = System.getLogger(TlsEngine.class.getName());
    /** Guard against a spinning loop; one step per record or task, so far above any honest need. */
    static final int MAX_STEPS = 10_000;
    /** Capacity 0: position and limit can only ever be 0, so sharing it across loops is safe. */
    static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    private final TlsSession session;
    private final TlsBuffers buffers;
    private final TlsEngine.TaskRunner taskRunner;
    private final Runnable onTasksDone;
    private State state = State.HANDSHAKING;
    private Failure failure;
    private SSLException failureCause;
    private boolean inboundClosed;
    private boolean outboundCloseRequested;
    /** A wrap overflowed with ciphertext pending: flushing it unblocks the session. */
    private boolean outputBlocked;
    /** True while delegated tasks run on another thread: nothing may touch the session meanwhile. */
    private boolean tasksRunning;
    private boolean sessionFreed;

    TlsStateMachine(TlsSession session, TlsBuffers buffers, TlsEngine.TaskRunner taskRunner, Runnable onTasksDone) {
        this.session = session;
        this.buffers = buffers;
        this.taskRunner = taskRunner;
        this.onTasksDone = onTasksDone;
    }

    State state() {
        return state;
    }

    Failure failure() {
        return failure;
    }

    SSLException failureCause() {
        return failureCause;
    }

    boolean inboundClosed() {
        return inboundClosed;
    }

    boolean outputBlocked() {
        return outputBlocked;
    }

    boolean tasksRunning() {
        return tasksRunning;
    }

    boolean sessionFreed() {
        return sessionFreed;
    }

    /** No more application data may be sent: closed, failed, or close_notify queued. */
    boolean outboundClosed() {
        return state == State.CLOSED || failure != null || outboundCloseRequested || session.isOutboundDone();
    }

    /** What a call on a CLOSED engine reports. */
    Result closedResult() {
        return failure != null ? Result.FAILED : Result.INBOUND_CLOSED;
    }

    /** Drives the session over the held input (a buffer of {@link TlsBuffers}). */
    Result advanceHeld() {
        ByteBuffer netIn = buffers.flipHeldInput();
        try {
            return advance(netIn);
        } finally {
            buffers.afterHeldInput(state == State.CLOSED); // CLOSED: nobody will unwrap the rest
        }
    }

    /** Drives the session over {@code in} until it needs something from the caller. */
    Result advance(ByteBuffer in) {
        for (int step = 0; step < MAX_STEPS; step++) {
            if (state == State.CLOSED) {
                return closedResult();
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
                if (in.remaining() >= buffers.inBufferSize()) {
                    // One partial record fills a whole pool buffer: its header promised more than a
                    // buffer holds (JSSE waits for up to 2^14 + 2048 while handshaking), so it can
                    // never complete; waiting would leave no room, a readable socket and a spinning loop.
                    return fail(Failure.RECORD_TOO_LARGE, new SSLException("record larger than a pool buffer"));
                }
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

    /** Starts a graceful close: queues close_notify (RFC 8446 §6.1). Does not wait for the peer's. */
    void closeOutbound() {
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

    /** After a flush: a close_notify that did not fit before is wrapped now. */
    void continueClose() {
        if (outboundCloseRequested && !session.isOutboundDone() && state != State.CLOSED) {
            wrapClose();
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

    /** The peer's stream ended: a failure while handshaking, else a (truncated) end of input. */
    Result endOfInput() {
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

    /** A fatal error with an alert for the peer: CLOSING until the alert is flushed. */
    Result fail(Failure kind, SSLException cause) {
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
    Result failQuietly(Failure kind) {
        if (failure == null) {
            failure = kind;
            LOG.log(Level.DEBUG, "TLS failure {0}", kind);
        }
        release();
        return Result.FAILED;
    }

    /** After ciphertext left: the output buffer may be gone, a pending close may go on, CLOSED may follow. */
    void afterDrain() {
        if (!buffers.hasOutput()) {
            outputBlocked = false;
            continueClose();
        }
        checkClosed();
    }

    private void checkClosed() {
        if (state == State.CLOSING && session.isOutboundDone() && !buffers.hasOutput()) {
            // close_notify or alert is out; unread plaintext stays readable until release().
            setState(State.CLOSED);
        }
    }

    /** Returns every buffer (plaintext zeroed), frees the session and ends in CLOSED. Idempotent. */
    void release() {
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

    private void setState(State next) {
        LOG.log(Level.TRACE, "{0} --> {1}", state, next);
        state = next;
    }
}
