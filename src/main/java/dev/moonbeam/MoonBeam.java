package dev.moonbeam;

import dev.moonbeam.balance.BackendQueue;
import dev.moonbeam.balance.BackendSpec;
import dev.moonbeam.balance.DnsDiscovery;
import dev.moonbeam.balance.Routing;
import dev.moonbeam.balance.RoutingTable;
import dev.moonbeam.config.BackendConfig;
import dev.moonbeam.config.ConfigException;
import dev.moonbeam.config.ProxyConfig;
import dev.moonbeam.loop.BufferPool;
import dev.moonbeam.loop.Clock;
import dev.moonbeam.loop.EventLoop;
import dev.moonbeam.loop.ListenSockets;
import dev.moonbeam.loop.LoopWatchdog;
import dev.moonbeam.proxy.ClientConnectionLimit;
import dev.moonbeam.proxy.Listener;
import dev.moonbeam.proxy.ProxyProtocolStats;
import dev.moonbeam.proxy.ProxySettings;
import dev.moonbeam.proxy.Worker;
import dev.moonbeam.tls.ServerTls;
import dev.moonbeam.tls.TlsProviderInfo;
import dev.moonbeam.tls.TlsSetup;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import dev.moonbeam.observe.AccessLog;
import dev.moonbeam.observe.AdminEndpoint;
import dev.moonbeam.observe.AdminPages;
import dev.moonbeam.observe.MetricsRegistry;
import dev.moonbeam.observe.RequestListener;
import java.util.Map;
import java.nio.file.Path;

/**
 * Wires the configured parts together: the listening sockets, one {@link EventLoop} and
 * {@link Worker} per thread, the shared routing table and settings. {@link #close()} stops it.
 */
public final class MoonBeam implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(MoonBeam.class.getName());

    private final List<ServerSocketChannel> listeners;
    private volatile ProxyConfig config;
    private volatile long reloads;
    /** Stopping (SIGTERM): /healthz answers 503, whether or not the drain has started yet. */
    private volatile boolean draining;
    private final List<Worker> workers;
    private final RoutingTable routing;
    private volatile ProxySettings settings;
    private volatile ProxySettings plainSettings;
    private final List<ServerSocketChannel> plainListeners = new ArrayList<>();
    private final MetricsRegistry metrics;
    /**
     * TLS handshake computations (key exchange, signature) run here, off the loops, so new clients
     * do not stall the requests of established ones. One thread per core.
     */
    private final java.util.concurrent.ExecutorService handshakePool = java.util.concurrent.Executors.newFixedThreadPool(
            Runtime.getRuntime().availableProcessors(), new java.util.concurrent.ThreadFactory() {
                private final java.util.concurrent.atomic.AtomicInteger count = new java.util.concurrent.atomic.AtomicInteger();

                @Override
                public Thread newThread(Runnable runnable) {
                    Thread thread = new Thread(runnable, "tls-handshake-" + count.getAndIncrement());
                    thread.setDaemon(true);
                    return thread;
                }
            });
    private AccessLog accessLog;
    private LoopWatchdog watchdog;
    private HeapTrimmer heapTrimmer;
    private ClientConnectionLimit clientLimit;
    private BackendQueue queue;
    private DnsDiscovery discovery;
    private final ProxyProtocolStats proxyProtocolStats = new ProxyProtocolStats();
    private String clientLimitDescription = "";
    private ServerSocketChannel adminSocket;
    private final CountDownLatch terminated = new CountDownLatch(1);

    private MoonBeam(List<ServerSocketChannel> listeners, List<Worker> workers, RoutingTable routing, ProxySettings settings) {
        this.listeners = listeners;
        this.workers = workers;
        this.routing = routing;
        this.settings = settings;
        this.metrics = new MetricsRegistry(routing::current);
    }

    /** Loads certificates, binds, and starts the loops. */
    public static MoonBeam start(ProxyConfig config) throws IOException, ConfigException {
        return start(config, index -> RequestListener.NONE);
    }

    /**
     * @param requestListeners gives each loop (by index) the listener told of every finished request
     */
    public static MoonBeam start(ProxyConfig config, IntFunction<RequestListener> requestListeners) throws IOException, ConfigException {
        return start(config, requestListeners, false);
    }

    /**
     * @param takeover listen next to a running MoonBeam on the same ports (a rolling restart)
     *                 instead of refusing ports that are taken
     */
    public static MoonBeam start(ProxyConfig config, IntFunction<RequestListener> requestListeners, boolean takeover)
            throws IOException, ConfigException {
        return start(config, requestListeners, takeover, DnsDiscovery.SYSTEM);
    }

    /** @param resolver looks up the names of {@code "resolve": "dns"} backends (tests pass a stand-in) */
    public static MoonBeam start(ProxyConfig config, IntFunction<RequestListener> requestListeners, boolean takeover,
            DnsDiscovery.Resolver resolver) throws IOException, ConfigException {
        ServerTls tls = config.isTls() ? TlsSetup.build(config.source(), config.tls(), config.timeouts().tlsHandshake(), config.http2().enabled()) : null;
        try {
            return start(config, tls, requestListeners, takeover, resolver);
        } catch (IOException | ConfigException | RuntimeException e) {
            if (tls != null) {
                tls.retire(); // nothing was started with it; its native context goes too
            }
            throw e;
        }
    }

    private static MoonBeam start(ProxyConfig config, ServerTls tls, IntFunction<RequestListener> requestListeners,
                                  boolean takeover, DnsDiscovery.Resolver resolver) throws IOException, ConfigException {
        ProxySettings settings = ProxySettings.from(config, tls);
        DnsDiscovery discovery = new DnsDiscovery(resolver);
        discovery.configure(config.backends()); // first lookups before listening: the routing starts with members
        RoutingTable routing = new RoutingTable(Routing.of(specs(config, discovery)));
        int threads = config.effectiveThreads();
        List<ServerSocketChannel> listeners = ListenSockets.open(config.listen().address(), threads, takeover);
        List<Worker> workers = new ArrayList<>(threads);
        MoonBeam proxy = new MoonBeam(listeners, workers, routing, settings);
        proxy.config = config;
        proxy.discovery = discovery;
        proxy.plainSettings = plainSettings(config, settings, proxy.address().getPort());
        try {
            if (config.httpListener() != null) {
                proxy.plainListeners.addAll(ListenSockets.open(config.httpListener().listen().address(), threads, takeover));
            }
            if (config.observe().admin() != null) {
                // Shared too: during the overlap /healthz answers from either process (503 from
                // the draining one), as a load balancer's check expects.
                proxy.adminSocket = ListenSockets.open(config.observe().admin().address(), 1, takeover).get(0);
            }
            if (config.observe().accessLog() != null) {
                Path file = config.observe().accessLog();
                try {
                    if (file.getParent() != null) {
                        java.nio.file.Files.createDirectories(file.getParent());
                    }
                    proxy.accessLog = AccessLog.open(file, config.observe().accessLogQueue());
                } catch (IOException e) {
                    throw new IOException("cannot open the access log " + file + " (" + e + ")", e);
                }
            }
        } catch (IOException e) {
            proxy.closeListeners();
            throw e;
        }
        try {
            ClientConnectionLimit.Resolved cap = ClientConnectionLimit.resolve(config.limits().maxClientConnections());
            proxy.clientLimit = new ClientConnectionLimit(cap.max());
            proxy.clientLimitDescription = cap.description();
            proxy.queue = new BackendQueue(() -> routing.current().balancer(), config.queue().maxWaiting(),
                    config.queue().timeout().toNanos());
            for (int i = 0; i < threads; i++) {
                EventLoop loop = new EventLoop("loop-" + i, Clock.SYSTEM, BufferPool.withDefaults());
                Worker worker = new Worker(loop, routing, proxy::settings, proxy::plainSettings);
                worker.handshakeExecutor(proxy.handshakePool);
                worker.clientLimit(proxy.clientLimit);
                worker.queue(proxy.queue);
                worker.proxyProtocolStats(proxy.proxyProtocolStats);
                RequestListener observers = RequestListener.both(
                        proxy.accessLog != null ? proxy.accessLog.recorder() : RequestListener.NONE, proxy.metrics.newLoop());
                worker.listener(RequestListener.both(observers, requestListeners.apply(i)));
                // Without SO_REUSEPORT every loop watches the one socket; accept() sorts out who wins.
                Listener.register(worker, listeners.get(Math.min(i, listeners.size() - 1)), Listener.Role.MAIN);
                if (!proxy.plainListeners.isEmpty()) {
                    Listener.register(worker, proxy.plainListeners.get(Math.min(i, proxy.plainListeners.size() - 1)),
                            Listener.Role.PLAIN);
                }
                workers.add(worker);
            }
            if (proxy.adminSocket != null) {
                AdminEndpoint.register(workers.get(0).loop(), proxy.adminSocket,
                        AdminPages.of(proxy.metrics, Version.get()).withHealth(() -> !proxy.draining));
            }
            proxy.clientLimit.workers(workers);
            // Made before the loops start (which publishes it to them), started after.
            proxy.watchdog = new LoopWatchdog(workers.stream().map(Worker::loop).toList(),
                    config.timeouts().loopStallWarning());
            proxy.registerMetrics();
        } catch (IOException | RuntimeException e) {
            proxy.closeListeners();
            if (proxy.accessLog != null) {
                proxy.accessLog.close();
            }
            throw e;
        }
        for (Worker worker : workers) {
            worker.loop().start();
        }
        proxy.watchdog.start();
        proxy.heapTrimmer = new HeapTrimmer(proxy.clientLimit::open);
        proxy.heapTrimmer.start();
        discovery.start(proxy::dnsMembersChanged);
        return proxy;
    }

    private void registerMetrics() {
        metrics.configLoaded(System.currentTimeMillis());
        for (Worker worker : workers) {
            Map<String, String> loop = Map.of("loop", worker.loop().name());
            metrics.gauge("moonbeam_open_connections", "Open client connections per event loop.", loop, worker::openClients);
            metrics.gauge("moonbeam_backend_pool_idle_connections", "Idle pooled backend connections per event loop.",
                    loop, worker::idleBackendConnectionsSnapshot);
            metrics.gauge("moonbeam_buffer_bytes", "Bytes of I/O and TLS buffers per event loop, in use or kept for reuse.",
                    loop, worker::pooledBufferBytesSnapshot);
            metrics.counter("moonbeam_tls_handshakes_total", "Completed TLS handshakes per event loop.", loop,
                    worker::tlsHandshakes);
            metrics.counter("moonbeam_tls_handshake_failures_total", "Failed TLS handshakes per event loop.", loop,
                    worker::tlsHandshakeFailures);
            int index = workers.indexOf(worker);
            metrics.counter("moonbeam_loop_stalls_total", "Rounds of an event loop that ran longer than"
                    + " timeouts.loop_stall_warning (each is logged with the loop's stack).", loop,
                    () -> watchdog.stalls(index));
        }
        metrics.counter("moonbeam_config_reloads_total", "Configuration reloads applied.", Map.of(), this::reloads);
        metrics.counter("moonbeam_buffer_allocation_failures_total", "Direct buffers that could not be allocated because"
                + " -XX:MaxDirectMemorySize was used up; each refused (503) or closed a connection.", Map.of(),
                dev.moonbeam.loop.BufferPool::directAllocationFailures);
        metrics.gauge("moonbeam_client_connections", "Open client connections, all loops.", Map.of(), clientLimit::open);
        metrics.clientConnections(clientLimit::open, clientLimit::max);
        metrics.gauge("moonbeam_client_connections_limit", "limits.max_client_connections in force (derived from the"
                + " open-file limit unless set).", Map.of(), clientLimit::max);
        metrics.counter("moonbeam_client_connection_limit_reached_total", "Times a loop stopped accepting because the"
                + " client connection limit was reached.", Map.of(), clientLimit::timesReached);
        metrics.counter("moonbeam_idle_connections_reclaimed_total", "Idle keep-alive client connections closed to make"
                + " room at the client connection limit.", Map.of(), clientLimit::reclaimed);
        metrics.gauge("moonbeam_queue_length", "Requests waiting for a backend slot (every backend at its"
                + " max_connections).", Map.of(), queue::length);
        metrics.gauge("moonbeam_queue_max_waiting", "queue.max_waiting in force.", Map.of(), queue::maxWaiting);
        metrics.counter("moonbeam_queued_requests_total", "Requests that had to wait for a backend slot.", Map.of(),
                queue::enqueuedCount);
        metrics.counter("moonbeam_queue_overflows_total", "Requests answered 503 because queue.max_waiting requests"
                + " were already waiting.", Map.of(), queue::overflowCount);
        metrics.counter("moonbeam_queue_timeouts_total", "Requests answered 503 after waiting queue.timeout for a"
                + " backend slot.", Map.of(), queue::timeoutCount);
        metrics.queue(queue::length, queue::maxWaiting);
        metrics.counter("moonbeam_proxy_protocol_headers_total", "Connections from proxy_protocol.from balancers whose"
                + " PROXY header was accepted.", Map.of(), proxyProtocolStats::acceptedCount);
        for (ProxyProtocolStats.Refusal refusal : ProxyProtocolStats.Refusal.values()) {
            metrics.counter("moonbeam_proxy_protocol_refused_total", "Connections closed for a PROXY header problem:"
                    + " untrusted_source (a header from a client not in proxy_protocol.from), missing, invalid, timeout.",
                    Map.of("reason", refusal.label()), () -> proxyProtocolStats.refusedCount(refusal));
        }
        if (settings.tls() != null) {
            metrics.tlsDescription(() -> settings.tls() == null ? "" : settings.tls().provider().describe());
            metrics.gauge("moonbeam_tls_sessions", "Live TLS sessions (native SSL objects with the native provider) of the current configuration.",
                    Map.of(), () -> settings.tls() == null ? 0 : settings.tls().liveSessions());
            metrics.gauge("moonbeam_tls_session_cache_entries", "Sessions in the TLS session cache (native provider; -1 with JSSE).",
                    Map.of(), () -> settings.tls() == null ? 0 : settings.tls().cachedSessions());
            registerTlsProvider(settings.tls().provider());
        }
        if (accessLog != null) {
            AccessLog log = accessLog;
            metrics.counter("moonbeam_access_log_dropped_total", "Access-log lines dropped because the writer fell behind.",
                    Map.of(), log::drops);
        }
    }

    /** {@code moonbeam_tls_provider_info{provider, library}}: 1 for the provider serving now, 0 for earlier ones. */
    private void registerTlsProvider(TlsProviderInfo provider) {
        metrics.gauge("moonbeam_tls_provider_info", "Which TLS provider and library serve new connections.",
                Map.of("provider", provider.name(), "library", provider.library()),
                () -> settings.tls() != null && settings.tls().provider().name().equals(provider.name())
                        && settings.tls().provider().library().equals(provider.library()) ? 1 : 0);
    }

    public MetricsRegistry metrics() {
        return metrics;
    }

    /** Reopens the access log (after external rotation). Any thread. */
    public void reopenLogs() {
        if (accessLog != null) {
            accessLog.reopen();
        }
    }

    /** The admin listener's address, or null when there is none. */
    public InetSocketAddress adminAddress() {
        try {
            return adminSocket == null ? null : (InetSocketAddress) adminSocket.getLocalAddress();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private void closeListeners() {
        ListenSockets.closeAll(listeners);
        ListenSockets.closeAll(plainListeners);
        if (adminSocket != null) {
            ListenSockets.closeAll(List.of(adminSocket));
        }
    }

    private static ProxySettings plainSettings(ProxyConfig config, ProxySettings settings, int httpsPort) {
        boolean redirect = config.httpListener() != null
                && config.httpListener().action() == dev.moonbeam.config.HttpListenerConfig.Action.REDIRECT;
        return settings.forPlainListener(redirect ? httpsPort : 0);
    }

    public ProxySettings plainSettings() {
        return plainSettings;
    }

    /** The plain-HTTP listener's address, or null when there is none. */
    public InetSocketAddress plainAddress() {
        try {
            return plainListeners.isEmpty() ? null : (InetSocketAddress) plainListeners.get(0).getLocalAddress();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The backends to balance over: each configured one, and for a {@code "resolve": "dns"} entry one
     * member per address its name has now, named {@code host:port@address}, with the entry's weight,
     * limit and checks. An address already taken by an earlier entry is skipped.
     */
    static List<BackendSpec> specs(ProxyConfig config, DnsDiscovery discovery) {
        List<BackendSpec> specs = new ArrayList<>();
        Set<InetSocketAddress> taken = new HashSet<>();
        for (BackendConfig backend : config.backends()) {
            if (!backend.isDiscovered()) {
                taken.add(backend.address());
                specs.add(new BackendSpec(backend.hostPort().toString(), backend.address(), backend.weight(),
                        backend.maxConnections(), backend.sendProxyProtocol(), backend.healthCheck()));
            }
        }
        for (BackendConfig backend : config.backends()) {
            if (!backend.isDiscovered()) {
                continue;
            }
            for (InetAddress member : discovery.members(backend.hostPort())) {
                InetSocketAddress address = new InetSocketAddress(member, backend.hostPort().port());
                if (taken.add(address)) {
                    specs.add(new BackendSpec(backend.hostPort() + "@" + member.getHostAddress(), address, backend.weight(),
                            backend.maxConnections(), backend.sendProxyProtocol(), backend.healthCheck()));
                }
            }
        }
        return specs;
    }

    /** A DNS name's members changed (discovery thread): rebuild the routing as a reload would. */
    private synchronized void dnsMembersChanged() {
        Routing current = routing.reload(specs(config, discovery));
        for (Worker worker : workers) {
            worker.loop().execute(() -> worker.retainPools(current.backends()));
        }
    }

    /**
     * Applies a new config to new connections and requests; in-flight exchanges finish under the
     * old one. Runs on the control thread: it reads certificate files.
     *
     * @return what could not be applied without a restart (empty when everything applied)
     * @throws ConfigException when a certificate cannot be loaded; nothing changes then
     */
    public synchronized List<String> reload(ProxyConfig next) throws ConfigException {
        ServerTls tls = next.isTls() ? TlsSetup.build(next.source(), next.tls(), next.timeouts().tlsHandshake(), next.http2().enabled()) : null;
        try {
            return apply(next, tls);
        } catch (ConfigException | RuntimeException e) {
            if (tls != null && settings.tls() != tls) {
                tls.retire(); // the reload failed after the TLS context was built: free it
            }
            throw e;
        }
    }

    private List<String> apply(ProxyConfig next, ServerTls tls) throws ConfigException {
        ProxySettings nextSettings = ProxySettings.from(next, tls);
        List<String> notApplied = new ArrayList<>();
        ProxyConfig previous = config;
        if (!next.listen().equals(previous.listen())) {
            notApplied.add("listen (" + previous.listen() + " -> " + next.listen() + ") needs a restart; still listening on "
                    + previous.listen());
        }
        if (next.effectiveThreads() != previous.effectiveThreads()) {
            notApplied.add("threads (" + previous.effectiveThreads() + " -> " + next.effectiveThreads()
                    + ") needs a restart; still running " + previous.effectiveThreads());
        }
        if (next.isTls() != previous.isTls()) {
            // The listener keeps speaking what it spoke; switching would strand every client.
            notApplied.add("switching TLS " + (next.isTls() ? "on" : "off") + " needs a restart");
            if (tls != null) {
                tls.retire(); // built only to validate the file; never served
            }
            nextSettings = ProxySettings.from(next, settings.tls());
        }
        if (!java.util.Objects.equals(next.httpListener(), previous.httpListener())) {
            notApplied.add("http_listener changes need a restart");
            next = new ProxyConfig(next.source(), next.listen(), next.threads(), next.backends(), next.tls(), next.timeouts(),
                    next.limits(), next.log(), next.trustForwardedHeaders(), previous.httpListener(), next.healthCheck(), previous.observe(),
                    previous.warmUp(), next.queue(), next.proxyProtocolFrom());
        }
        if (!java.util.Objects.equals(next.observe(), previous.observe())) {
            notApplied.add("access_log and admin changes need a restart");
        }
        discovery.configure(next.backends());
        Routing current = routing.reload(specs(next, discovery));
        metrics.configLoaded(System.currentTimeMillis());
        plainSettings = plainSettings(next, nextSettings, address().getPort());
        ServerTls replacedTls = settings.tls();
        settings = nextSettings;
        if (replacedTls != null && replacedTls != nextSettings.tls()) {
            retireAfterLoopsMovedOn(replacedTls);
            TlsProviderInfo provider = nextSettings.tls().provider();
            if (!provider.equals(replacedTls.provider())) {
                registerTlsProvider(provider);
                LOG.log(System.Logger.Level.INFO, "TLS now served by " + provider.describe());
            }
        }
        // Remember what is in force, not what was asked for: what needs a restart keeps its old
        // value, so the next reload still reports it.
        config = new ProxyConfig(next.source(), previous.listen(), previous.threads(), next.backends(),
                next.isTls() == previous.isTls() ? next.tls() : previous.tls(), next.timeouts(), next.limits(), next.log(),
                next.trustForwardedHeaders(), previous.httpListener(), next.healthCheck(), previous.observe(),
                previous.warmUp(), next.queue(), next.proxyProtocolFrom());
        reloads++;
        watchdog.threshold(next.timeouts().loopStallWarning());
        queue.configure(next.queue().maxWaiting(), next.queue().timeout().toNanos());
        if (next.limits().maxClientConnections() != previous.limits().maxClientConnections()) {
            ClientConnectionLimit.Resolved cap = ClientConnectionLimit.resolve(next.limits().maxClientConnections());
            clientLimit.max(cap.max());
            clientLimitDescription = cap.description();
        }
        for (Worker worker : workers) {
            worker.loop().execute(() -> worker.retainPools(current.backends()));
        }
        return notApplied;
    }

    public ProxyConfig config() {
        return config;
    }

    /** The client connection cap in force and where it came from, for the start-up log. */
    public String clientLimitDescription() {
        return clientLimitDescription;
    }

    public long reloads() {
        return reloads;
    }

    /**
     * The first step of a delayed stop ({@code timeouts.shutdown_delay}): /healthz answers 503 so
     * balancers stop sending, while clients are still accepted and served as usual.
     */
    public void announceStopping() {
        draining = true;
    }

    /**
     * Graceful shutdown: stop accepting, close idle connections, let in-flight requests finish
     * (their responses say {@code Connection: close}) for up to {@code drain}, then stop.
     */
    public void drainAndClose(java.time.Duration drain) {
        draining = true;
        java.util.concurrent.CountDownLatch acceptorsStopped = new java.util.concurrent.CountDownLatch(workers.size());
        for (Worker worker : workers) {
            worker.loop().execute(() -> {
                try {
                    worker.drain();
                } finally {
                    acceptorsStopped.countDown();
                }
            });
        }
        long deadline = System.nanoTime() + drain.toNanos();
        // Counting open clients means nothing before every loop has taken what its listener had
        // queued: a count of 0 then would close listeners under queued connections (reset).
        try {
            acceptorsStopped.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        while (openClients() > 0 && System.nanoTime() - deadline < 0 && !Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        int left = openClients();
        if (left > 0) {
            LOG.log(System.Logger.Level.WARNING, left + " connection(s) still busy after the " + drain.toMillis()
                    + " ms drain; closing them");
        }
        close();
    }

    /** Open client connections over all loops (read racily; for shutdown and metrics). */
    public int openClients() {
        int open = 0;
        for (Worker worker : workers) {
            open += worker.openClients();
        }
        return open;
    }

    public ProxySettings settings() {
        return settings;
    }

    public RoutingTable routing() {
        return routing;
    }

    public List<Worker> workers() {
        return workers;
    }

    /** The bound address (useful with port 0 in tests). */
    public InetSocketAddress address() {
        try {
            return (InetSocketAddress) listeners.get(0).getLocalAddress();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public void awaitTermination() {
        try {
            terminated.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Retires a replaced TLS configuration once every loop has run a task posted after the swap: a
     * loop may have read the old settings just before it and still be opening a connection with
     * them. Its sessions keep the native context alive until they are freed.
     */
    private void retireAfterLoopsMovedOn(ServerTls replaced) {
        java.util.concurrent.atomic.AtomicInteger waiting = new java.util.concurrent.atomic.AtomicInteger(workers.size());
        for (Worker worker : workers) {
            worker.loop().execute(() -> {
                if (waiting.decrementAndGet() == 0) {
                    replaced.retire();
                }
            });
        }
    }

    /** Stops accepting, closes every connection and stops the loops. */
    @Override
    public void close() {
        closeListeners();
        for (Worker worker : workers) {
            worker.loop().shutdown();
        }
        for (Worker worker : workers) {
            try {
                if (!worker.loop().awaitTermination(5, TimeUnit.SECONDS)) {
                    LOG.log(System.Logger.Level.WARNING, worker.loop().name() + " did not stop within 5 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        handshakePool.shutdownNow();
        if (discovery != null) {
            discovery.close();
        }
        if (watchdog != null) {
            watchdog.close();
        }
        if (heapTrimmer != null) {
            heapTrimmer.close();
        }
        if (settings.tls() != null) {
            settings.tls().retire(); // the loops have released every session
        }
        if (accessLog != null) {
            accessLog.close();
        }
        terminated.countDown();
    }
}
