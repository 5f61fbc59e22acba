package dev.moonbeam.proxy;

import dev.moonbeam.balance.Backend;
import dev.moonbeam.balance.BackendPool;
import dev.moonbeam.balance.RoutingTable;
import dev.moonbeam.loop.EventLoop;
import dev.moonbeam.observe.RequestListener;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The proxy's state for one event loop: its idle backend connections (one pool per backend) and
 * access to the shared, read-mostly routing and settings.
 *
 * <p>Owned by its loop's thread, except {@link #loop()} which is safe to read from anywhere.
 */
public final class Worker {
    private final EventLoop loop;
    private final RoutingTable routing;
    private final Supplier<ProxySettings> settings;
    private final Map<Backend, BackendPool<BackendConnection>> pools = new IdentityHashMap<>();
    private int openClients;
    private RequestListener listener = RequestListener.NONE;
    /** The loop's shared socket-read buffer for TLS: holds nothing between calls. */
    private final java.nio.ByteBuffer scratch;
    /** Stands in for "no input" when a parser must be asked whether a message ended without more bytes. */
    private final java.nio.ByteBuffer empty = java.nio.ByteBuffer.allocate(0);

    public Worker(EventLoop loop, RoutingTable routing, Supplier<ProxySettings> settings) {
        this.loop = loop;
        this.routing = routing;
        this.settings = settings;
        this.scratch = java.nio.ByteBuffer.allocateDirect(loop.buffers().bufferSize());
        loop.onShutdown(this::closePools);
    }

    /** Sets who hears of finished requests; call before the loop starts. */
    public void listener(RequestListener newListener) {
        this.listener = newListener;
    }

    RequestListener listener() {
        return listener;
    }

    public EventLoop loop() {
        return loop;
    }

    public RoutingTable routing() {
        return routing;
    }

    /** The settings new connections and requests use; a reload swaps them. */
    public ProxySettings settings() {
        return settings.get();
    }

    java.nio.ByteBuffer scratch() {
        return scratch;
    }

    java.nio.ByteBuffer emptyBuffer() {
        return empty.clear();
    }

    BackendPool<BackendConnection> pool(Backend backend) {
        BackendPool<BackendConnection> pool = pools.get(backend);
        if (pool == null) {
            pool = new BackendPool<>(Math.max(1, settings().maxIdlePerBackend()));
            pools.put(backend, pool);
        }
        return pool;
    }

    /** Total idle pooled backend connections on this loop; for tests and metrics. */
    public int idleBackendConnections() {
        int idle = 0;
        for (BackendPool<BackendConnection> pool : pools.values()) {
            idle += pool.size();
        }
        return idle;
    }

    void clientOpened() {
        openClients++;
    }

    void clientClosed() {
        openClients--;
    }

    public int openClients() {
        return openClients;
    }

    private void closePools() {
        for (BackendPool<BackendConnection> pool : pools.values()) {
            pool.clear(BackendConnection::close);
        }
    }
}
