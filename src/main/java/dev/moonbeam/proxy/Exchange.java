package dev.moonbeam.proxy;

import dev.moonbeam.balance.Backend;
import dev.moonbeam.balance.BackendQueue;
import dev.moonbeam.http.RequestMethod;
import dev.moonbeam.loop.BufferPool;
import dev.moonbeam.loop.Timeout;
import dev.moonbeam.observe.Termination;
import java.io.IOException;
import java.nio.channels.SelectionKey;

/**
 * Relays one request and its response between a {@link ClientConnection} and a
 * {@link BackendConnection}; one instance per client connection, reused for each request so
 * nothing is allocated per request.
 *
 * <p>States and their timeouts:
 * <ul>
 *   <li>IDLE — no request in progress.
 *   <li>QUEUED — every available backend is at its {@code max_connections}; waiting in the
 *       process-wide {@link BackendQueue} (queue timeout: 503 with Retry-After).
 *   <li>CONNECTING — a new backend connection is being opened (backend connect timeout; on
 *       failure or expiry the backend is marked down and the next one is tried).
 *   <li>ACTIVE — the request goes to the backend while the response comes back (backend response
 *       timeout, re-armed whenever bytes move; expiry: 504, or 408 if the client stalled its
 *       upload, or a plain close once the response has begun).
 *   <li>TUNNEL — after a 101 the two sockets are joined byte for byte (same inactivity timeout).
 * </ul>
 * This class holds the state and the one timer and moves between states; its parts, made once per
 * exchange, do the work of each phase: {@link BackendAttempts} (which backend, retries),
 * {@link QueueWait}, {@link BackendLink} (backend, slot, connection), {@link RequestRelay},
 * {@link ResponseRelay}, {@link Tunnel} and {@link ExchangeReport} (the access-log record).
 * Loop-owned.
 */
final class Exchange {
    enum State { IDLE, QUEUED, CONNECTING, ACTIVE, TUNNEL }

    private static final System.Logger LOG = System.getLogger(Exchange.class.getName());

    private final Worker worker;
    private ClientSide client;
    private ProxySettings settings;
    private final Timeout timeout = new Timeout(this::onTimeout);
    private State state = State.IDLE;
    private RequestMethod method;
    // The parts, made once per exchange and reused for every request it serves.
    private final ExchangeReport report;
    private final BackendLink link;
    private final QueueWait queueWait;
    private final RequestRelay request;
    private final ResponseRelay response;
    private final BackendAttempts attempts;
    private final Tunnel tunnel;

    Exchange(Worker worker) {
        this.worker = worker;
        this.report = new ExchangeReport(worker);
        this.link = new BackendLink(this, worker);
        this.queueWait = new QueueWait(this, worker);
        this.request = new RequestRelay(this, worker, link);
        this.response = new ResponseRelay(this, worker, link);
        this.attempts = new BackendAttempts(this, worker, link, queueWait, response);
        this.tunnel = new Tunnel(this, link);
    }

    /**
     * Attaches this (pooled) exchange to a client connection for its next requests. Exchanges
     * live in the worker's pool while their connection is idle, so ten thousand idle keep-alive
     * clients do not each keep a response parser.
     */
    void bind(ClientSide newClient, ProxySettings newSettings, byte[] clientAddress) {
        client = newClient;
        response.bind(settings, newSettings);
        settings = newSettings;
        report.bind(clientAddress, newSettings.tls() != null, newClient.http2());
        state = State.IDLE;
    }

    /** True when nothing of a request is in progress, so the exchange may go back to the pool. */
    boolean isIdle() {
        return state == State.IDLE && link.connection() == null && !link.holdsSlot();
    }

    void unbind() {
        worker.loop().timers().cancel(timeout);
        client = null;
        report.unbind();
    }

    State state() {
        return state;
    }

    void enter(State next) {
        state = next;
    }

    ClientSide client() {
        return client;
    }

    RequestMethod method() {
        return method;
    }

    ExchangeReport report() {
        return report;
    }

    RequestRelay request() {
        return request;
    }

    /** Sets the exchange's one timer (its meaning follows from the state) to {@code deadlineNanos}. */
    void schedule(long deadlineNanos) {
        worker.loop().timers().schedule(timeout, deadlineNanos);
    }

    void cancelTimer() {
        worker.loop().timers().cancel(timeout);
    }

    /** True once the whole request body has gone to the backend (or there was none). */
    boolean requestComplete() {
        return request.isComplete();
    }

    // ---- starting a request ----

    /** The client's request head is complete: choose a backend and queue the rewritten head. */
    void begin() {
        report.begin(client.parser().head());
        method = client.parser().head().method();
        attempts.reset();
        request.reset();
        response.reset(method);
        if (method == RequestMethod.CONNECT) {
            // Not a forward proxy: CONNECT would tunnel to wherever the client asks.
            finish(501, Termination.BAD_REQUEST);
            return;
        }
        if (settings.redirectHttpsPort() > 0) {
            redirectToHttps();
            return;
        }
        attempts.attach(null);
    }

    /** The plain listener only redirects: a 301 to the same host and target over HTTPS. */
    private void redirectToHttps() {
        int written = client.writeRedirect(settings.redirectHttpsPort());
        if (written < 0) {
            finish(400, Termination.BAD_REQUEST);
            return;
        }
        report.answered(301, written);
        report.end(Termination.COMPLETED);
        request.markComplete();
        client.responseComplete(true);
    }

    /**
     * Sends the request to {@code picked}, on which a slot is already taken for it: a pooled
     * connection or a new one.
     *
     * @return false when connecting failed at once (the slot is given back; try another)
     */
    boolean startOn(Backend picked, boolean freshConnection) {
        long now = worker.loop().now();
        report.sending(picked);
        try {
            if (link.open(picked, freshConnection, client, now)) {
                state = State.CONNECTING;
                worker.loop().timers().schedule(timeout, now + settings.backendConnectNanos());
            } else {
                state = State.ACTIVE;
                armInactivity();
            }
            if (request.writeHead(link.connection())) {
                // Bodyless requests complete here, so a quick response finds them complete.
                forwardRequestBody();
            }
        } catch (IOException e) {
            attempts.connectFailed(e);
            return false;
        } catch (BufferPool.Exhausted e) {
            // No buffer for the request head: our shortage, not the backend's (not marked failed).
            // Caught here because startOn also runs from timers and tasks (retries, queue grants).
            finish(503, Termination.OUT_OF_BUFFER_MEMORY);
        }
        return true;
    }

    /** A queued request's slot came: send it there, or on to another backend if connecting failed at once. */
    void startOnGranted(Backend slot, boolean freshConnection) {
        if (!startOn(slot, freshConnection)) {
            attempts.attach(slot);
        }
        if (client != null) {
            client.progress();
        }
    }

    /** The backend's socket is ready: complete a connect, then let the client connection move bytes. */
    void onBackendReady(int readyOps) {
        ClientSide owner = client; // a failed retry may end the exchange and unbind it
        if (state == State.CONNECTING && (readyOps & SelectionKey.OP_CONNECT) != 0) {
            try {
                if (!link.finishConnect()) {
                    return;
                }
            } catch (IOException e) {
                attempts.retryElsewhere(e);
                owner.progress();
                return;
            }
            state = State.ACTIVE;
            report.connected();
            armInactivity();
        }
        owner.progress();
    }

    /** An I/O error on the backend socket outside {@link #pump}. */
    void onBackendFailure(Throwable cause) {
        ClientSide owner = client; // backendBroke may end the exchange and unbind it
        if (state == State.CONNECTING) {
            attempts.retryElsewhere(cause);
        } else {
            backendBroke(cause, Termination.BACKEND_RESET);
        }
        if (owner != null) {
            owner.progress();
        }
    }

    // ---- request direction ----

    /** Copies request body bytes from the client's buffer to the backend's, as far as room allows. */
    boolean forwardRequestBody() {
        return request.forwardBody();
    }

    /** Tunnel mode: everything from the client goes to the backend as is. */
    boolean forwardTunnel() {
        return tunnel.forward();
    }

    // ---- response direction and backend I/O ----

    /** Flushes, reads and parses on the backend side as far as possible; true if anything moved. */
    boolean pump() {
        BackendConnection connection = link.connection();
        if (connection == null || state == State.CONNECTING || state == State.IDLE) {
            return false;
        }
        boolean moved = false;
        try {
            if (connection.hasPendingOutput()) {
                moved = connection.flush() > 0;
            }
            if (!connection.inputClosed && connection.isReadable() && response.wantsBackendBytes()
                    && (connection.in == null || connection.in.hasRemaining())) {
                int n = connection.read();
                if (n > 0) {
                    response.received(n);
                    moved = true;
                } else if (n < 0) {
                    moved = true;
                }
            }
        } catch (IOException e) {
            backendBroke(e, Termination.BACKEND_RESET);
            return true;
        }
        if (moved) {
            armInactivity();
        }
        if (state == State.TUNNEL) {
            return tunnel.relay(connection) || moved;
        }
        return response.relay(connection) || moved;
    }

    /** After a 101: the two sockets are joined byte for byte from now on. */
    void enterTunnel() {
        state = State.TUNNEL;
        client.enterTunnel();
        armInactivity();
    }

    /**
     * The backend connection failed after it was established. Retried once on a fresh connection
     * when nothing can have been lost (a reused connection, no response byte, no body byte sent);
     * otherwise a 502 if the client has not seen a response byte yet, else the client connection
     * closes so a truncated response is never passed off as complete.
     */
    void backendBroke(Throwable cause, Termination reason) {
        BackendConnection connection = link.connection();
        if (connection == null) {
            return;
        }
        boolean reused = connection.isReused();
        LOG.log(System.Logger.Level.DEBUG, () -> "backend " + link.backend().spec().hostPort() + " failed: " + cause);
        link.close();
        if (attempts.retryStale(reused, !response.anyReceived() && !request.anyBodyForwarded())) {
            return;
        }
        link.releaseInflight(false);
        if (!response.begun()) {
            finish(502, reason);
        } else {
            state = State.IDLE;
            worker.loop().timers().cancel(timeout);
            report.end(reason);
            client.close();
        }
    }

    // ---- timeouts ----

    private void armInactivity() {
        worker.loop().timers().schedule(timeout, worker.loop().now() + settings.backendResponseNanos());
    }

    private void onTimeout() {
        // Ending the exchange with an error page can close the client connection at once (no
        // buffer for the page), which unbinds this exchange: keep the client side at hand.
        ClientSide owner = client;
        switch (state) {
            case CONNECTING -> {
                attempts.retryElsewhere(new IOException("connect timed out"));
                owner.progress();
            }
            case ACTIVE -> {
                if (response.begun()) {
                    // Mid-response: a client that stopped reading holds the bytes back (its buffer
                    // is full); otherwise the backend stopped sending.
                    Termination reason = client.hasUnsentResponse() ? Termination.CLIENT_TIMEOUT : Termination.BACKEND_TIMEOUT;
                    link.close();
                    link.releaseInflight(false);
                    state = State.IDLE;
                    report.end(reason);
                    client.close();
                } else {
                    // Waiting on the client's body is the client's fault (408); waiting on the response is the backend's (504).
                    int status = request.isComplete() ? 504 : 408;
                    LOG.log(System.Logger.Level.WARNING, () -> "backend " + link.backend().spec().hostPort() + ": "
                            + (status == 504 ? "response timed out" : "client upload stalled"));
                    link.close();
                    link.releaseInflight(false);
                    finish(status, status == 504 ? Termination.BACKEND_TIMEOUT : Termination.CLIENT_TIMEOUT);
                    owner.progress();
                }
            }
            case TUNNEL -> tunnel.timedOut();
            case QUEUED -> queueWait.onTimer();
            case IDLE -> {
                // A timer that fired after the exchange ended: nothing to do.
            }
            default -> throw new IllegalStateException("exchange in state " + state);
        }
    }

    /**
     * The client's body deadline ({@code timeouts.client_body}) passed. A body still incomplete is
     * the client's fault: 408, or a close once a response has begun (as for a stalled upload).
     *
     * @return true while the request waits for a backend slot or connection: its body is not being
     *         read, so the caller gives the client its time again
     */
    boolean clientBodyTimedOut() {
        if (state == State.QUEUED || state == State.CONNECTING) {
            return true;
        }
        if (state == State.ACTIVE && !request.isComplete()) {
            LOG.log(System.Logger.Level.DEBUG, "request body not complete within timeouts.client_body: 408");
            finish(408, Termination.CLIENT_TIMEOUT);
        }
        return false;
    }

    // ---- teardown ----

    /** Ends the exchange with an error response to the client, who is then disconnected. */
    void finish(int status, Termination reason) {
        if (worker.loop().isStopping()) {
            // The loop closes every socket when the drain time runs out: whichever side's close
            // is seen first, the request was cut off by the shutdown.
            status = 503;
            reason = Termination.SHUTDOWN;
        }
        worker.loop().timers().cancel(timeout);
        queueWait.leave(); // refused while waiting (e.g. no buffer memory): its ticket must not stay queued
        link.close();
        link.releaseInflight(false);
        state = State.IDLE;
        if (response.begun()) {
            // Part of a response is out: an error page now would corrupt it.
            report.end(reason);
            client.close();
        } else {
            report.errorResponse(status);
            report.end(reason);
            client.respondAndClose(status);
        }
    }

    /**
     * The client side could not get a buffer for this request (BufferPool.Exhausted): 503 if no
     * response byte went out yet, else the client connection closes. False when no request is in
     * progress (nothing to answer).
     */
    boolean outOfBufferMemory() {
        if (!report.inProgress()) {
            return false;
        }
        finish(503, Termination.OUT_OF_BUFFER_MEMORY);
        return true;
    }

    /** The client connection is closing: the backend side cannot be reused. */
    void abortBackend() {
        worker.loop().timers().cancel(timeout);
        queueWait.leave();
        if (report.inProgress()) {
            report.abandoned(response.begun());
        }
        link.close();
        link.releaseInflight(false);
        state = State.IDLE;
    }

    /** A request refused before any exchange (bad head, head timeout): logged with no request line. */
    void reportRejected(int status) {
        report.rejected(status);
    }

    /** Drops the connection and the slot after a failed connect. */
    void dropConnection() {
        link.close();
        link.releaseInflight(false);
        worker.loop().timers().cancel(timeout);
    }

    /** Sets the backend socket's interest ops for what the exchange waits on. */
    void updateInterest() {
        BackendConnection connection = link.connection();
        if (connection == null) {
            return;
        }
        if (state == State.CONNECTING) {
            connection.setInterest(SelectionKey.OP_CONNECT);
            return;
        }
        int ops = 0;
        if (!connection.inputClosed && response.wantsBackendBytes() && (connection.in == null || connection.in.hasRemaining())) {
            ops |= SelectionKey.OP_READ;
        }
        if (connection.hasPendingOutput()) {
            ops |= SelectionKey.OP_WRITE;
        }
        connection.setInterest(ops);
    }
}
