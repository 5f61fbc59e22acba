package dev.moonbeam.proxy;

import dev.moonbeam.balance.Backend;
import dev.moonbeam.balance.BackendPool;
import dev.moonbeam.balance.RoutingTable;
import dev.moonbeam.loop.BufferPool;
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
    private final Supplier<ProxySettings> plainSettings;
    private final Map<Backend, BackendPool<BackendConnection>> pools = new IdentityHashMap<>();
    /** Written by the loop only; volatile so shutdown and metrics on other threads see it. */
    private volatile int openClients;
    private RequestListener listener = RequestListener.NONE;
    private ClientConnectionLimit clientLimit = ClientConnectionLimit.unlimited();
    private ProxyProtocolStats proxyProtocolStats = new ProxyProtocolStats();
    /** Shared by all loops; until wired, one of no room, so a request finding every backend full gets 503. */
    private dev.moonbeam.balance.BackendQueue queue;
    private dev.moonbeam.tls.TlsEngine.TaskRunner handshakeTasks;
    /** Parsers and exchanges of connections that are idle between requests; reused, bounded. */
    private final java.util.ArrayDeque<dev.moonbeam.http.RequestParser> idleParsers = new java.util.ArrayDeque<>();
    private final java.util.ArrayDeque<Exchange> idleExchanges = new java.util.ArrayDeque<>();
    private static final int MAX_IDLE_SESSIONS = 4096;
    private static final int MAX_POOLED_HEAD_BYTES = 8192;
    private boolean draining;
    /** Written by this loop only; volatile so metrics on other threads read whole values. */
    private volatile long tlsHandshakes;
    private volatile long tlsHandshakeFailures;
    private volatile int idleSnapshot;
    private volatile long pooledBytesSnapshot;
    /** Refreshes {@link #idleSnapshot}: the pools themselves must not be walked from another thread. */
    private final dev.moonbeam.loop.Timeout statsTimer = new dev.moonbeam.loop.Timeout(this::refreshStats);
    private static final long STATS_INTERVAL_NANOS = 1_000_000_000L;
    /** The loop's shared socket-read buffer for TLS: holds nothing between calls. */
    private final java.nio.ByteBuffer scratch;
    /** The same for native engines: direct, so BoringSSL reads the socket's bytes in place. */
    private final java.nio.ByteBuffer nativeScratch;
    /** Heap buffers for JSSE engines (see {@link BufferPool#heap}). */
    private final BufferPool tlsBuffers;
    /** Outbound ciphertext: room for the two records one plaintext buffer becomes, sent in one write. */
    private final BufferPool tlsOutBuffers;
    /** Direct buffers for native engines, which read and write them in place; empty until used. */
    private final BufferPool nativeTlsBuffers;
    private final BufferPool nativeTlsOutBuffers;
    /** HTTP/2 request bodies: a stream's whole receive window (RFC 9113 §6.9.2 default, 65,535 bytes). */
    private final BufferPool http2Bodies = BufferPool.heap(Http2Connection.STREAM_WINDOW + 1, 64);
    private dev.moonbeam.h2.RequestHeadBuilder http2HeadBuilder;
    private dev.moonbeam.h2.ResponseFields http2ResponseFields;
    private java.nio.ByteBuffer http2BlockScratch;
    private final byte[] http2NameScratch = new byte[256];
    /** Stands in for "no input" when a parser must be asked whether a message ended without more bytes. */
    private final java.nio.ByteBuffer empty = java.nio.ByteBuffer.allocate(0);

    public Worker(EventLoop loop, RoutingTable routing, Supplier<ProxySettings> settings,
                  Supplier<ProxySettings> plainSettings) {
        this.loop = loop;
        this.routing = routing;
        this.settings = settings;
        this.plainSettings = plainSettings;
        this.queue = new dev.moonbeam.balance.BackendQueue(() -> routing.current().balancer(), 0, 0);
        this.scratch = java.nio.ByteBuffer.allocate(loop.buffers().bufferSize());
        this.nativeScratch = java.nio.ByteBuffer.allocateDirect(loop.buffers().bufferSize());
        this.tlsBuffers = BufferPool.heap(loop.buffers().bufferSize(), BufferPool.DEFAULT_MAX_RETAINED);
        this.tlsOutBuffers = BufferPool.heap(2 * loop.buffers().bufferSize(), BufferPool.DEFAULT_MAX_RETAINED);
        this.nativeTlsBuffers = new BufferPool(loop.buffers().bufferSize(), BufferPool.DEFAULT_MAX_RETAINED);
        this.nativeTlsOutBuffers = new BufferPool(2 * loop.buffers().bufferSize(), BufferPool.DEFAULT_MAX_RETAINED);
        loop.onShutdown(this::closePools);
        loop.execute(this::refreshStats);
    }

    /**
     * Runs TLS handshake computations on {@code executor} and hands the engine back to this loop;
     * null (the default) runs them inline. Call before the loop starts.
     */
    public void handshakeExecutor(java.util.concurrent.Executor executor) {
        this.handshakeTasks = executor == null ? null : (tasks, done) -> {
            try {
                executor.execute(() -> {
                    try {
                        tasks.run();
                    } finally {
                        loop.execute(done);
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException shuttingDown) {
                tasks.run();
                loop.execute(done);
            }
        };
    }

    dev.moonbeam.tls.TlsEngine.TaskRunner handshakeTasks() {
        return handshakeTasks;
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

    /** @param direct true for a native engine (direct buffers), false for JSSE (heap buffers) */
    public BufferPool tlsBuffers(boolean direct) {
        return direct ? nativeTlsBuffers : tlsBuffers;
    }

    public BufferPool tlsOutBuffers(boolean direct) {
        return direct ? nativeTlsOutBuffers : tlsOutBuffers;
    }

    BufferPool http2Bodies() {
        return http2Bodies;
    }

    /**
     * Shared by this loop's HTTP/2 connections: a header block is turned into a head within one
     * call, so one builder (40 KiB of field scratch) serves them all instead of one per connection.
     */
    dev.moonbeam.h2.RequestHeadBuilder http2HeadBuilder() {
        if (http2HeadBuilder == null) {
            http2HeadBuilder = new dev.moonbeam.h2.RequestHeadBuilder(8192);
        }
        return http2HeadBuilder;
    }

    /** Where a response's header block is encoded before it is framed: larger than any head the parser admits. */
    java.nio.ByteBuffer http2BlockScratch() {
        if (http2BlockScratch == null) {
            http2BlockScratch = java.nio.ByteBuffer.allocate(128 * 1024);
        }
        return http2BlockScratch;
    }

    byte[] http2NameScratch() {
        return http2NameScratch;
    }

    dev.moonbeam.h2.ResponseFields http2ResponseFields() {
        if (http2ResponseFields == null) {
            http2ResponseFields = new dev.moonbeam.h2.ResponseFields();
        }
        return http2ResponseFields;
    }

    /** @param direct true for a native engine, false for JSSE (see {@link #tlsBuffers}) */
    java.nio.ByteBuffer scratch(boolean direct) {
        return direct ? nativeScratch : scratch;
    }

    java.nio.ByteBuffer emptyBuffer() {
        return empty.clear();
    }

    /** Settings for connections on the plain-HTTP listener, if there is one. */
    public ProxySettings plainSettings() {
        return plainSettings.get();
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

    /**
     * Graceful shutdown, on this loop: stop accepting, close idle client connections, and let
     * the others finish their current exchange with {@code Connection: close}. Loop thread only.
     */
    public void drain() {
        draining = true;
        loop.forEachHandler(handler -> {
            if (handler instanceof Acceptor acceptor) {
                acceptor.stop();
            } else if (handler instanceof ClientConnection client) {
                client.drain();
            } else if (handler instanceof Http2Connection http2) {
                http2.drain();
            } else if (handler instanceof ProxyHeaderReader reader) {
                reader.drain();
            }
        });
    }

    boolean isDraining() {
        return draining;
    }

    /** Closes the idle pooled connections to backends that a reload removed. Loop thread only. */
    public void retainPools(java.util.Collection<Backend> current) {
        java.util.Set<Backend> keep = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        keep.addAll(current);
        pools.entrySet().removeIf(entry -> {
            if (keep.contains(entry.getKey())) {
                return false;
            }
            entry.getValue().clear(BackendConnection::close);
            return true;
        });
    }

    dev.moonbeam.http.RequestParser takeParser(ProxySettings settings) {
        dev.moonbeam.http.RequestParser parser = idleParsers.pollFirst();
        if (parser == null || !parser.limits().equals(settings.requestLimits())) {
            parser = new dev.moonbeam.http.RequestParser(settings.requestLimits());
        }
        return parser;
    }

    Exchange takeExchange() {
        Exchange exchange = idleExchanges.pollFirst();
        return exchange != null ? exchange : new Exchange(this);
    }

    void giveBack(dev.moonbeam.http.RequestParser parser, Exchange exchange) {
        exchange.unbind();
        // A parser whose head buffer grew for one huge request is left to the GC, so the pool
        // cannot pin MAX_IDLE_SESSIONS times the largest head ever seen.
        if (idleParsers.size() < MAX_IDLE_SESSIONS && parser.head().bytes().length <= MAX_POOLED_HEAD_BYTES) {
            parser.reset();
            idleParsers.addFirst(parser);
            idleExchanges.addFirst(exchange);
        }
    }

    private void refreshStats() {
        idleSnapshot = idleBackendConnections();
        pooledBytesSnapshot = pooledBytes(loop.buffers()) + pooledBytes(tlsBuffers) + pooledBytes(tlsOutBuffers) + pooledBytes(http2Bodies)
                + pooledBytes(nativeTlsBuffers) + pooledBytes(nativeTlsOutBuffers);
        loop.timers().schedule(statsTimer, loop.now() + STATS_INTERVAL_NANOS);
    }

    /** Bytes of this loop's buffers, in use or kept for reuse, as of the last refresh (any thread). */
    public long pooledBufferBytesSnapshot() {
        return pooledBytesSnapshot;
    }

    private static long pooledBytes(BufferPool pool) {
        return (long) (pool.outstanding() + pool.retained()) * pool.bufferSize();
    }

    /** Idle pooled backend connections as of the last second; safe from any thread. */
    public int idleBackendConnectionsSnapshot() {
        return idleSnapshot;
    }

    @SuppressWarnings("NonAtomicOperationOnVolatileField") // single writer: this loop
    void tlsHandshakeCompleted() {
        tlsHandshakes++;
    }

    @SuppressWarnings("NonAtomicOperationOnVolatileField")
    void tlsHandshakeFailed() {
        tlsHandshakeFailures++;
    }

    public long tlsHandshakes() {
        return tlsHandshakes;
    }

    public long tlsHandshakeFailures() {
        return tlsHandshakeFailures;
    }

    void clientOpened() {
        openClients++;
    }

    void clientClosed() {
        openClients--;
        clientLimit.release();
    }

    /** The connection counted itself when it opened; the one that handed it over stops counting. */
    void clientHandedOver() {
        openClients--;
    }

    /** The process-wide PROXY protocol counters; call before the loop starts. */
    public void proxyProtocolStats(ProxyProtocolStats shared) {
        this.proxyProtocolStats = java.util.Objects.requireNonNull(shared, "proxyProtocolStats");
    }

    ProxyProtocolStats proxyProtocolStats() {
        return proxyProtocolStats;
    }

    /** The process-wide backend queue; call before the loop starts. */
    public void queue(dev.moonbeam.balance.BackendQueue shared) {
        this.queue = java.util.Objects.requireNonNull(shared, "queue");
    }

    dev.moonbeam.balance.BackendQueue queue() {
        return queue;
    }

    /** The process-wide client connection cap this loop accepts under. Call before the loop starts. */
    public void clientLimit(ClientConnectionLimit limit) {
        this.clientLimit = limit;
    }

    ClientConnectionLimit clientLimit() {
        return clientLimit;
    }

    /**
     * Closes some of this loop's idle client connections, those idle longest first, to make room
     * when the connection cap is reached: an eighth of them, at least one and at most 16 (nginx's
     * rule for its "reusable connections"). Walks every connection, so it runs only then, at most
     * every 100 ms. Loop thread.
     */
    int closeLongestIdle() {
        java.util.List<IdleConnection> idle = new java.util.ArrayList<>();
        loop.forEachHandler(handler -> {
            if (handler instanceof IdleConnection connection && connection.isIdle()) {
                idle.add(connection);
            }
        });
        idle.sort(java.util.Comparator.comparingLong(IdleConnection::idleSinceNanos));
        int closed = idle.isEmpty() ? 0 : Math.max(1, Math.min(16, idle.size() / 8));
        for (int i = 0; i < closed; i++) {
            idle.get(i).close(); // at once, as the idle timeout does (and nginx here): the slot is the point
        }
        return closed;
    }

    public int openClients() {
        return openClients;
    }

    /**
     * Buffers this loop has lent out of all its pools and not yet got back. Loop thread only (a
     * test reads it through a posted task): with no client connected and no exchange running it
     * must be zero, or a close path forgot a release.
     */
    public int outstandingBuffers() {
        return loop.buffers().outstanding() + tlsBuffers.outstanding() + tlsOutBuffers.outstanding()
                + nativeTlsBuffers.outstanding() + nativeTlsOutBuffers.outstanding() + http2Bodies.outstanding();
    }

    private void closePools() {
        for (BackendPool<BackendConnection> pool : pools.values()) {
            pool.clear(BackendConnection::close);
        }
    }
}
