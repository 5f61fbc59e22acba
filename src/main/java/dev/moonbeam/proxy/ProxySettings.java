package dev.moonbeam.proxy;

import dev.moonbeam.config.Limits;
import dev.moonbeam.config.Networks;
import dev.moonbeam.config.ProxyConfig;
import dev.moonbeam.config.Timeouts;
import dev.moonbeam.http.ForwardContext;
import dev.moonbeam.http.HttpLimits;
import dev.moonbeam.tls.ServerTls;
import java.net.InetAddress;

/**
 * What the connection code needs from the config, in the form it uses (nanoseconds, parser
 * limits). Immutable; a reload publishes a new instance that new connections pick up.
 *
 * @param tls               null for a plain-HTTP listener
 * @param redirectHttpsPort when &gt; 0, requests are not proxied but redirected to HTTPS on this port
 * @param proxyProtocolFrom peers whose connections begin with a PROXY header; empty = PROXY protocol off
 * @param http2MaxConcurrentStreams streams an HTTP/2 client may open at once (whether h2 is offered is the TLS context's ALPN list)
 * @param http2Cleartext   a plain connection that starts with the HTTP/2 preface speaks HTTP/2 (h2c, prior knowledge)
 * @param clientBodyNanos  an HTTP/1.1 request body must arrive within this after its head; 0 = no limit
 */
public record ProxySettings(HttpLimits requestLimits, HttpLimits responseLimits, long clientHeadNanos,
                            long clientIdleNanos, long tlsHandshakeNanos, long backendConnectNanos,
                            long backendResponseNanos, long backendIdleNanos, int maxIdlePerBackend,
                            Networks trustForwardedHeaders, ServerTls tls, int redirectHttpsPort,
                            Networks proxyProtocolFrom, int http2MaxConcurrentStreams, boolean http2Cleartext,
                            long clientBodyNanos) {

    /** Keep-alive reuse stops this long before a backend's advertised {@code Keep-Alive: timeout}. */
    public static final long KEEP_ALIVE_SAFETY_MARGIN_NANOS = 1_000_000_000L;

    public static ProxySettings from(ProxyConfig config, ServerTls tls) {
        Limits limits = config.limits();
        Timeouts timeouts = config.timeouts();
        HttpLimits request = new HttpLimits(limits.maxRequestLine(), limits.maxHeaderBytes(), limits.maxHeaderCount(),
                limits.maxChunkExtension(), limits.maxBodyBytes(), java.util.EnumSet.noneOf(dev.moonbeam.http.Leniency.class));
        // Backends are trusted more than clients but not unboundedly: same head limits, no body cap.
        HttpLimits response = new HttpLimits(limits.maxRequestLine(), Math.max(limits.maxHeaderBytes(), 65536),
                Math.max(limits.maxHeaderCount(), 200), limits.maxChunkExtension(), 0, java.util.EnumSet.noneOf(dev.moonbeam.http.Leniency.class));
        return new ProxySettings(request, response, timeouts.clientHead().toNanos(), timeouts.clientIdle().toNanos(),
                timeouts.tlsHandshake().toNanos(), timeouts.backendConnect().toNanos(),
                timeouts.backendResponse().toNanos(), timeouts.backendIdle().toNanos(), limits.maxIdlePerBackend(),
                config.trustForwardedHeaders(), tls, 0, config.proxyProtocolFrom(),
                config.http2().maxConcurrentStreams(), config.http2().cleartext(), timeouts.clientBody().toNanos());
    }

    /** The same settings for the plain-HTTP listener: no TLS, and a redirect when it only redirects. */
    public ProxySettings forPlainListener(int redirectToHttpsPort) {
        return new ProxySettings(requestLimits, responseLimits, clientHeadNanos, clientIdleNanos, tlsHandshakeNanos,
                backendConnectNanos, backendResponseNanos, backendIdleNanos, maxIdlePerBackend, trustForwardedHeaders, null,
                redirectToHttpsPort, proxyProtocolFrom, http2MaxConcurrentStreams, http2Cleartext, clientBodyNanos);
    }

    /** Whether X-Forwarded-* from a client at {@code address} are believed (decided once per connection). */
    public ForwardContext.ForwardedHeaders forwardedHeadersFrom(InetAddress address) {
        return trustForwardedHeaders.contains(address) ? ForwardContext.ForwardedHeaders.TRUST_AND_APPEND
                : ForwardContext.ForwardedHeaders.REPLACE;
    }

    public ForwardContext.Scheme scheme() {
        return tls != null ? ForwardContext.Scheme.HTTPS : ForwardContext.Scheme.HTTP;
    }
}
