package dev.moonbeam.tls;

import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * {@link ServerTls} on the JDK's JSSE: one {@link SSLContext} with our key manager, making one
 * {@link JdkTlsSession} per accepted connection. Immutable and shared by all loops.
 */
public final class JdkServerTls implements ServerTls {
    private final SSLContext context;
    private final TlsSettings settings;
    private final List<KeyMaterial> certificates;

    private final TlsProviderInfo provider;

    JdkServerTls(SSLContext context, TlsSettings settings, List<KeyMaterial> certificates, TlsProviderInfo provider) {
        this.context = context;
        this.settings = settings;
        this.certificates = List.copyOf(certificates);
        this.provider = provider;
    }

    /** Sessions made and not freed; counted like the native provider's so leak checks cover both. */
    private final java.util.concurrent.atomic.AtomicInteger liveSessions = new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean retired;
    private final Runnable sessionFreed = liveSessions::decrementAndGet;

    @Override
    public TlsSession newSession() {
        liveSessions.incrementAndGet();
        return new JdkTlsSession(newEngine(), sessionFreed);
    }

    @Override
    public int liveSessions() {
        return liveSessions.get();
    }

    @Override
    public boolean released() {
        return retired && liveSessions.get() == 0;
    }

    @Override
    public void retire() {
        retired = true;
    }

    @Override
    public TlsProviderInfo provider() {
        return provider;
    }

    /** A server-mode engine with our protocols, suites, order and ALPN. */
    public SSLEngine newEngine() {
        return configure(context.createSSLEngine());
    }

    /** Same, with the peer address as a hint for the JDK's session cache. */
    public SSLEngine newEngine(String peerHost, int peerPort) {
        return configure(context.createSSLEngine(peerHost, peerPort));
    }

    @Override
    public TlsSettings settings() {
        return settings;
    }

    @Override
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
