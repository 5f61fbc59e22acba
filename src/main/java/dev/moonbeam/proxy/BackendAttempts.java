package dev.moonbeam.proxy;

import dev.moonbeam.balance.Backend;
import dev.moonbeam.balance.BackendQueue;
import dev.moonbeam.balance.LoadBalancer;
import dev.moonbeam.observe.Termination;

/**
 * Which backend an {@link Exchange}'s request tries, and whether it may try again: a pick per
 * attempt (avoiding the one that just failed), at most one per backend in the routing, waiting in
 * the queue when all are busy, another backend after a failed connect, and one retry on a fresh
 * connection after a stale pooled one. One per exchange, reset for each request. Loop-owned.
 */
final class BackendAttempts {
    private final Exchange exchange;
    private final Worker worker;
    private final BackendLink link;
    private final QueueWait queueWait;
    private final ResponseRelay response;
    private int attempts;
    private boolean retried;
    private boolean connectFailed;

    BackendAttempts(Exchange exchange, Worker worker, BackendLink link, QueueWait queueWait, ResponseRelay response) {
        this.exchange = exchange;
        this.worker = worker;
        this.link = link;
        this.queueWait = queueWait;
        this.response = response;
    }

    /** A new request: no backend tried yet. */
    void reset() {
        attempts = 0;
        retried = false;
        connectFailed = false;
    }

    /**
     * Picks a live backend (other than {@code avoid} when another is available), takes a pooled
     * connection to it or starts a new one, and queues the request head. Answers 503 when no
     * backend is available.
     */
    void attach(Backend avoid) {
        attach(avoid, false);
    }

    private void attach(Backend avoid, boolean freshConnection) {
        if (worker.loop().isStopping()) {
            exchange.finish(503, Termination.SHUTDOWN);
            return;
        }
        BackendQueue queue = worker.queue();
        if (!queue.isEmpty()) {
            if (!worker.routing().current().balancer().anyAvailable(worker.loop().now())) {
                // Every backend is down: 503 at once, as without a queue; those already waiting
                // keep their place for a backend that comes back.
                exchange.finish(503, Termination.NO_BACKEND);
                return;
            }
            // Others wait already: a slot that frees goes to them first.
            queueWait.enqueue(queue, freshConnection);
            return;
        }
        int limit = Math.max(1, worker.routing().current().backends().size());
        while (attempts < limit) {
            attempts++;
            long now = worker.loop().now();
            LoadBalancer balancer = worker.routing().current().balancer();
            Backend picked = balancer.acquire(now, avoid);
            if (picked == null) {
                if (balancer.anyAvailable(now)) {
                    // Every available backend is at its max_connections.
                    queueWait.enqueue(queue, freshConnection);
                    return;
                }
                break;
            }
            if (exchange.startOn(picked, freshConnection)) {
                return;
            }
            avoid = picked;
        }
        // None available at all: 503 at once. Some tried and refused: 502, as nginx answers.
        if (connectFailed) {
            exchange.finish(502, Termination.BACKEND_CONNECT_FAILED);
        } else {
            exchange.finish(503, Termination.NO_BACKEND);
        }
    }

    /** Connecting failed: the backend is marked down and the connection and its slot are dropped. */
    void connectFailed(Throwable cause) {
        link.connectFailed(cause);
        connectFailed = true;
        exchange.dropConnection();
    }

    /** Connect failed or timed out: mark the backend and try another; nothing was sent yet. */
    void retryElsewhere(Throwable cause) {
        Backend failed = link.backend();
        connectFailed(cause);
        attach(failed);
    }

    /**
     * A pooled connection the backend closed just as we sent: retried once on a fresh connection,
     * but only when nothing can have been lost and repeating is harmless (RFC 9110 §9.2.2).
     *
     * @return true when the request went out again (or waits for a slot to)
     */
    boolean retryStale(boolean reused, boolean nothingLost) {
        if (!reused || retried || !nothingLost || exchange.state() != Exchange.State.ACTIVE
                || !exchange.method().isIdempotent() || worker.loop().isStopping()) {
            return false;
        }
        retried = true;
        link.releaseInflight(false); // a stale keep-alive connection says nothing about the backend's health
        attempts = 0;
        response.restart(exchange.method());
        // Other pooled connections may be just as stale: the retry always connects anew.
        attach(null, true);
        return true;
    }
}
