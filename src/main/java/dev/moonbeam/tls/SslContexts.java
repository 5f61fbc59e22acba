package dev.moonbeam.tls;

import java.security.GeneralSecurityException;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSessionContext;

/** Builds {@link ServerTls} from certificates and settings. Stateless. */
public final class SslContexts {
    /**
     * Read once by the JDK when its TLS classes initialise; must be set before any of them load.
     * TLS 1.3 has no renegotiation (RFC 8446 §4); for 1.2 a client-initiated one is refused here,
     * and {@link TlsEngine} refuses it as well in case the property was set too late.
     */
    static final String REJECT_RENEGOTIATION_PROPERTY = "jdk.tls.rejectClientInitiatedRenegotiation";

    private SslContexts() {
    }

    /** Call first thing in main, before anything touches javax.net.ssl. */
    public static void hardenJdkDefaults() {
        System.setProperty(REJECT_RENEGOTIATION_PROPERTY, "true");
    }

    /**
     * @param certificates the first is the default for clients without SNI or with an unknown name
     */
    public static JdkServerTls create(List<KeyMaterial> certificates, TlsSettings settings) {
        return create(certificates, settings, "");
    }

    /** @param note why this provider serves (e.g. why {@code auto} fell back), or "" */
    static JdkServerTls create(List<KeyMaterial> certificates, TlsSettings settings, String note) {
        if (certificates.isEmpty()) {
            throw new IllegalArgumentException("at least one certificate is required for TLS");
        }
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(new KeyManager[] {new SniKeyManager(certificates)}, null, null);
            SSLSessionContext sessions = context.getServerSessionContext();
            sessions.setSessionCacheSize(settings.sessionCacheSize());
            sessions.setSessionTimeout((int) Math.min(Integer.MAX_VALUE, settings.sessionTimeout().toSeconds()));
            return new JdkServerTls(context, settings, certificates, new TlsProviderInfo(TlsProviderInfo.JDK,
                    "JSSE, Java " + Runtime.version().feature(), note));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK cannot create a TLS context", e);
        }
    }
}
