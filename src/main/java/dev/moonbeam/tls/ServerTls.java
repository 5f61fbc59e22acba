package dev.moonbeam.tls;

import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * The server's TLS configuration, ready to make one engine per accepted connection. Immutable and
 * shared by all loops (it sits in the routing snapshot; a reload swaps the whole object, so new
 * certificates apply to new connections only).
 */
public final class ServerTls {
    private final SSLContext context;
    private final TlsSettings settings;
    private final List<KeyMaterial> certificates;

    ServerTls(SSLContext context, TlsSettings settings, List<KeyMaterial> certificates) {
        this.context = context;
        this.settings = settings;
        this.certificates = List.copyOf(certificates);
    }

    /** A server-mode engine with our protocols, suites, order and ALPN. */
    public SSLEngine newEngine() {
        return configure(context.createSSLEngine());
    }

    /** Same, with the peer address as a hint for the JDK's session cache. */
    public SSLEngine newEngine(String peerHost, int peerPort) {
        return configure(context.createSSLEngine(peerHost, peerPort));
    }

    public TlsSettings settings() {
        return settings;
    }

    public List<KeyMaterial> certificates() {
        return certificates;
    }

    private SSLEngine configure(SSLEngine engine) {
        engine.setUseClientMode(false);
        SSLParameters parameters = engine.getSSLParameters();
        parameters.setProtocols(settings.protocols().toArray(new String[0]));
        parameters.setCipherSuites(settings.cipherSuites().toArray(new String[0]));
        parameters.setUseCipherSuitesOrder(settings.cipherOrder() == TlsSettings.CipherOrder.SERVER);
        parameters.setApplicationProtocols(settings.applicationProtocols().toArray(new String[0]));
        parameters.setNeedClientAuth(false);
        engine.setSSLParameters(parameters);
        return engine;
    }
}
