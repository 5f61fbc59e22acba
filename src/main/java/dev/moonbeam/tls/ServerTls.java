package dev.moonbeam.tls;

import java.util.List;

/**
 * The server's TLS configuration, ready to make one {@link TlsSession} per accepted connection, on
 * whichever provider was chosen ({@link TlsProviders}). Shared by all loops: it sits in the routing
 * snapshot, and a reload swaps the whole object, so new certificates apply to new connections only.
 */
public interface ServerTls {
    /** A server-side session with our protocols, suites, order, ALPN and certificates. */
    TlsSession newSession();

    TlsSettings settings();

    /** The configured certificates; the first is the default. */
    List<KeyMaterial> certificates();

    /** Which provider and library serve TLS, and why {@code auto} chose it. */
    TlsProviderInfo provider();

    /** True when sessions work on direct buffers in place (native); false for heap buffers (JSSE). */
    default boolean directBuffers() {
        return false;
    }

    /** Sessions made and not yet freed (tests and leak checks). */
    int liveSessions();

    /** Sessions held in the server-side session cache, or -1 where the provider does not say (JSSE). */
    default long cachedSessions() {
        return -1;
    }

    /** True once {@link #retire()} was called and every session was freed: nothing native is held. */
    boolean released();

    /**
     * This configuration no longer makes new sessions (a reload replaced it, or the proxy stopped).
     * Native resources are freed once the last session made from it is freed too.
     */
    void retire();
}
