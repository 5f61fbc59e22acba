package dev.moonbeam.config;

/**
 * The {@code http2} section: HTTP/2 for clients on the TLS listener (ALPN {@code h2}, RFC 9113).
 * Streams become HTTP/1.1 exchanges with the backends as usual.
 *
 * @param enabled              offer {@code h2} before {@code http/1.1} in ALPN (only where there is TLS)
 * @param maxConcurrentStreams streams one client connection may have open (SETTINGS_MAX_CONCURRENT_STREAMS)
 * @param cleartext            on plain-HTTP listeners, a connection that starts with the HTTP/2
 *                             preface speaks HTTP/2 ("prior knowledge" h2c, RFC 9113 §3.3); off by
 *                             default: only trusted peers (a balancer in front, gRPC clients) use it
 */
public record Http2Config(boolean enabled, int maxConcurrentStreams, boolean cleartext) {
    /** On with TLS, as browsers expect (HAProxy 2.8+ offers h2 on TLS binds by default too). */
    public static final boolean DEFAULT_ENABLED = true;
    public static final int DEFAULT_MAX_CONCURRENT_STREAMS = 128;
    public static final int MAX_MAX_CONCURRENT_STREAMS = 1024;
    public static final Http2Config DEFAULTS = new Http2Config(DEFAULT_ENABLED, DEFAULT_MAX_CONCURRENT_STREAMS, false);

    public Http2Config {
        if (maxConcurrentStreams < 1 || maxConcurrentStreams > MAX_MAX_CONCURRENT_STREAMS) {
            throw new IllegalArgumentException("maxConcurrentStreams must be 1.." + MAX_MAX_CONCURRENT_STREAMS);
        }
    }
}
