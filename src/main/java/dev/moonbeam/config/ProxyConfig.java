package dev.moonbeam.config;

import java.nio.file.Path;
import java.util.List;

/**
 * A validated, immutable configuration. Built only by {@link ConfigLoader}; a running proxy
 * replaces its whole config at once, never a part of it.
 *
 * @param source                the file it was read from
 * @param listen                the client listener
 * @param threads               event loops; 0 means one per available processor
 * @param backends              at least one
 * @param tls                   null for a plain-HTTP listener
 * @param trustForwardedHeaders clients whose {@code X-Forwarded-For} is appended to and whose
 *                              {@code X-Forwarded-Proto}/{@code -Host} are kept, instead of replaced
 * @param httpListener          the optional plain-HTTP listener, or null
 * @param observe               access log and admin listener
 * @param healthCheck           the top-level {@code health_check}; {@link HealthCheckConfig#DISABLED}
 *                              when absent (each backend's own setting is in {@link BackendConfig})
 * @param warmUp                the warm-up before the listeners open (start-up only)
 * @param queue                 where requests wait when every backend is at its max_connections
 * @param proxyProtocolFrom     balancers whose connections must begin with a PROXY header (and
 *                              nobody else's may); {@link Networks#NONE} = PROXY protocol off
 */
public record ProxyConfig(Path source, ListenAddress listen, int threads, List<BackendConfig> backends,
                          TlsConfig tls, Timeouts timeouts, Limits limits, LogConfig log,
                          Networks trustForwardedHeaders, HttpListenerConfig httpListener,
                          HealthCheckConfig healthCheck, ObserveConfig observe, WarmUpConfig warmUp,
                          QueueConfig queue, Networks proxyProtocolFrom, Http2Config http2) {
    public static final int MAX_THREADS = 256;

    /** Without an {@code http2} section: the defaults. */
    public ProxyConfig(Path source, ListenAddress listen, int threads, List<BackendConfig> backends,
                       TlsConfig tls, Timeouts timeouts, Limits limits, LogConfig log,
                       Networks trustForwardedHeaders, HttpListenerConfig httpListener,
                       HealthCheckConfig healthCheck, ObserveConfig observe, WarmUpConfig warmUp,
                       QueueConfig queue, Networks proxyProtocolFrom) {
        this(source, listen, threads, backends, tls, timeouts, limits, log, trustForwardedHeaders, httpListener,
                healthCheck, observe, warmUp, queue, proxyProtocolFrom, Http2Config.DEFAULTS);
    }

    public ProxyConfig {
        if (http2 == null) {
            http2 = Http2Config.DEFAULTS;
        }
        backends = List.copyOf(backends);
        if (queue == null) {
            queue = QueueConfig.DEFAULTS;
        }
        if (trustForwardedHeaders == null) {
            trustForwardedHeaders = Networks.NONE;
        }
        if (proxyProtocolFrom == null) {
            proxyProtocolFrom = Networks.NONE;
        }
    }

    /** The number of event loops to run: {@code threads}, or one per core when it is 0. */
    public int effectiveThreads() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }

    public ProxyConfig withWarmUp(WarmUpConfig newWarmUp) {
        return new ProxyConfig(source, listen, threads, backends, tls, timeouts, limits, log, trustForwardedHeaders,
                httpListener, healthCheck, observe, newWarmUp, queue, proxyProtocolFrom, http2);
    }

    public ProxyConfig withLimits(Limits newLimits) {
        return new ProxyConfig(source, listen, threads, backends, tls, timeouts, newLimits, log, trustForwardedHeaders,
                httpListener, healthCheck, observe, warmUp, queue, proxyProtocolFrom, http2);
    }

    public boolean isTls() {
        return tls != null;
    }

    public ProxyConfig withThreads(int newThreads) {
        return new ProxyConfig(source, listen, newThreads, backends, tls, timeouts, limits, log, trustForwardedHeaders,
                httpListener, healthCheck, observe, warmUp, queue, proxyProtocolFrom, http2);
    }

    public ProxyConfig withListen(ListenAddress newListen) {
        return new ProxyConfig(source, newListen, threads, backends, tls, timeouts, limits, log, trustForwardedHeaders,
                httpListener, healthCheck, observe, warmUp, queue, proxyProtocolFrom, http2);
    }
}
