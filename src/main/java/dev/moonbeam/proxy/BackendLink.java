package dev.moonbeam.proxy;

import dev.moonbeam.balance.Backend;
import dev.moonbeam.balance.BackendPool;
import java.io.IOException;

/**
 * The backend an {@link Exchange}'s request went to, the slot it holds there (an in-flight count
 * for least connections and {@code max_connections}), and the connection it uses: taken from the
 * loop's pool or newly opened, and at the end pooled again or closed. One per exchange, reused for
 * each request. Loop-owned.
 */
final class BackendLink {
    /** The exchange's logger: logging set for {@link Exchange} covers all of an exchange's messages. */
    private static final System.Logger LOG = System.getLogger(Exchange.class.getName());

    private final Exchange exchange;
    private final Worker worker;
    private Backend backend;
    private BackendConnection connection;
    private boolean inflightHeld;

    BackendLink(Exchange exchange, Worker worker) {
        this.exchange = exchange;
        this.worker = worker;
    }

    Backend backend() {
        return backend;
    }

    /** The connection in use, or null. */
    BackendConnection connection() {
        return connection;
    }

    /** True while a slot on the backend is held for this request. */
    boolean holdsSlot() {
        return inflightHeld;
    }

    /**
     * Uses {@code picked}, on which a slot is already taken for this request: a pooled connection
     * to it, or a new one.
     *
     * @return true while the new connection is still connecting
     */
    boolean open(Backend picked, boolean freshConnection, ClientSide client, long now) throws IOException {
        backend = picked;
        inflightHeld = true;
        BackendPool<BackendConnection> pool = worker.pool(backend);
        // A connection that began with a PROXY header speaks for one client only: never shared.
        boolean proxyHeader = picked.spec().sendProxyProtocol();
        BackendConnection pooled = freshConnection || proxyHeader ? null : pool.poll(now, BackendConnection::close);
        if (pooled != null) {
            pooled.adopt(exchange);
            connection = pooled;
            return false;
        }
        connection = BackendConnection.connect(worker, backend, exchange);
        if (proxyHeader) {
            ProxyProtocol.writeV2(client.client(), client.local(), connection.out());
        }
        return connection.isConnecting();
    }

    /** Completes a new connection's connect; true once it is up (and the backend counts as healthy). */
    boolean finishConnect() throws IOException {
        if (!connection.finishConnect()) {
            return false;
        }
        backend.markSucceeded();
        return true;
    }

    /** Connecting failed or timed out: the backend is marked down (passive health). */
    void connectFailed(Throwable cause) {
        LOG.log(System.Logger.Level.WARNING, () -> "backend " + backend.spec().hostPort() + ": connect failed: " + cause);
        backend.markFailed(worker.loop().now());
    }

    /** Hands a clean connection back to the loop's pool for the next request. */
    void pool(int keepAliveTimeoutSeconds) {
        BackendConnection done = connection;
        connection = null;
        done.release(keepAliveTimeoutSeconds);
    }

    void close() {
        if (connection != null) {
            connection.close();
            connection = null;
        }
    }

    /** Gives the slot on the backend back (and counts a success); the freed slot goes to the oldest waiter. */
    void releaseInflight(boolean success) {
        if (inflightHeld) {
            inflightHeld = false;
            backend.release();
            if (success) {
                backend.markSucceeded();
            }
            worker.queue().dispatch(worker.loop().now()); // the freed slot goes to the oldest waiter
        }
    }
}
