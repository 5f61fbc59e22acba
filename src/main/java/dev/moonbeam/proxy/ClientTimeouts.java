package dev.moonbeam.proxy;

import dev.moonbeam.loop.Timeout;

/**
 * The one timer of a {@link ClientConnection} and which of its timeouts it stands for now: the
 * TLS handshake, keep-alive idle (shortened while the loop drains), the request head (slowloris),
 * the request body ({@code timeouts.client_body}) and the closing grace; and what each expiry does.
 * One per connection. Loop-owned.
 */
final class ClientTimeouts {
    enum Purpose { HANDSHAKE, IDLE, HEAD, BODY, CLOSING }

    /** How long an idle keep-alive connection stays open once draining starts (see drain()). */
    static final long DRAIN_IDLE_GRACE_NANOS = 1_000_000_000L;
    /** How long a final response may take to drain, and the client to close, before we close regardless. */
    static final long CLOSING_GRACE_NANOS = 5_000_000_000L;

    private final ClientConnection connection;
    private final Worker worker;
    private final ProxySettings settings;
    /** Null for a plain connection. */
    private final ClientTls tls;
    private final Timeout timeout = new Timeout(this::onTimeout);
    private Purpose purpose;
    private long idleSinceNanos;

    ClientTimeouts(ClientConnection connection, Worker worker, ProxySettings settings, ClientTls tls) {
        this.connection = connection;
        this.worker = worker;
        this.settings = settings;
        this.tls = tls;
    }

    Purpose purpose() {
        return purpose;
    }

    /** When it last became idle; the earliest is the connection idle longest. */
    long idleSinceNanos() {
        return idleSinceNanos;
    }

    void arm(Purpose next, long nanos) {
        if (next == Purpose.IDLE && purpose != Purpose.IDLE) {
            idleSinceNanos = worker.loop().now(); // entering idle; a re-arm (drain grace) keeps the age
        }
        purpose = next;
        worker.loop().timers().schedule(timeout, worker.loop().now() + nanos);
    }

    void armIdle() {
        arm(Purpose.IDLE, idleNanos());
    }

    /** The head timeout starts with the first byte of a request, and covers the whole head. */
    void armHead() {
        arm(Purpose.HEAD, settings.clientHeadNanos());
    }

    void disarm() {
        worker.loop().timers().cancel(timeout);
    }

    /** The keep-alive idle timeout; while the loop drains, only the short grace of drain(). */
    private long idleNanos() {
        return worker.isDraining() ? Math.min(settings.clientIdleNanos(), DRAIN_IDLE_GRACE_NANOS)
                : settings.clientIdleNanos();
    }

    /** Graceful shutdown: idle connections close after a short grace, busy ones after their current response. */
    void drain() {
        // Not at once: a keep-alive client may have a request on the way, and closing under it
        // fails that request (the client sees a reset, not an answer). A request that arrives
        // within the grace is answered with Connection: close; silence closes the connection. A
        // TLS handshake in progress keeps its own deadline and gets the grace once it is done.
        if (connection.state() == ClientConnection.State.IDLE && purpose == Purpose.IDLE) {
            armIdle();
        }
    }

    private void onTimeout() {
        switch (purpose) {
            case HANDSHAKE -> {
                if (tls != null && !tls.handshaking() && connection.state() == ClientConnection.State.IDLE) {
                    armIdle();
                } else {
                    if (tls != null) {
                        tls.handshakeTimedOut();
                    }
                    connection.close();
                }
            }
            case IDLE -> connection.close();
            case HEAD -> connection.requests().headTimedOut();
            case BODY -> {
                if (connection.state() == ClientConnection.State.EXCHANGE
                        && connection.requests().exchange().clientBodyTimedOut()) {
                    // Still waiting for a backend: none of that time was the client's to send in.
                    arm(Purpose.BODY, settings.clientBodyNanos());
                }
                connection.progress();
            }
            case CLOSING -> connection.close();
            default -> throw new IllegalStateException("timer purpose " + purpose);
        }
    }
}
