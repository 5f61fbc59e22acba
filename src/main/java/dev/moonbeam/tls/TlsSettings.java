package dev.moonbeam.tls;

import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLContext;

/**
 * Protocol settings for the TLS listener. The defaults are the secure choice; the validating
 * constructor refuses anything weaker, naming the offending value.
 *
 * @param protocols TLS versions offered; only {@code TLSv1.3} and {@code TLSv1.2} (RFC 8996 retired 1.0 and 1.1)
 * @param cipherSuites suites in server preference order; AEAD only; IANA or OpenSSL names, kept as IANA names
 * @param cipherOrder whose preference picks the suite
 * @param applicationProtocols ALPN protocols offered (RFC 7301)
 * @param sessionCacheSize sessions kept for resumption (0 = JDK's unlimited)
 * @param sessionTimeout how long a session can be resumed
 * @param handshakeTimeout deadline for a client to complete its handshake
 */
public record TlsSettings(
        List<String> protocols,
        List<String> cipherSuites,
        CipherOrder cipherOrder,
        List<String> applicationProtocols,
        int sessionCacheSize,
        Duration sessionTimeout,
        Duration handshakeTimeout) {

    /** Whose cipher suite preference wins. */
    public enum CipherOrder { SERVER, CLIENT }

    public static final List<String> DEFAULT_PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
    /** TLS 1.3 suites (RFC 8446 §B.4), then ECDHE with AES-GCM / ChaCha20-Poly1305 for 1.2 (RFC 5289, RFC 7905). */
    public static final List<String> DEFAULT_CIPHER_SUITES = List.of(
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
    public static final List<String> DEFAULT_APPLICATION_PROTOCOLS = List.of("http/1.1");
    /** With HTTP/2 on: h2 first, so clients that speak it get it (RFC 9113 §3.2, RFC 7301 §3.2). */
    public static final List<String> HTTP2_APPLICATION_PROTOCOLS = List.of("h2", "http/1.1");
    public static final int DEFAULT_SESSION_CACHE_SIZE = 20_000;
    public static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofHours(1);
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);

    private static final Set<String> ALLOWED_PROTOCOLS = Set.of("TLSv1.3", "TLSv1.2");
    /** Key exchanges with forward secrecy and AEAD ciphers; everything else is refused. */
    private static final List<String> AEAD_MARKERS = List.of("_GCM_", "_CHACHA20_POLY1305_");

    public TlsSettings {
        protocols = List.copyOf(protocols);
        cipherSuites = cipherSuites.stream().map(CipherSuiteNames::toIana).toList();
        applicationProtocols = List.copyOf(applicationProtocols);
        if (protocols.isEmpty()) {
            throw new IllegalArgumentException("tls protocols: at least one of TLSv1.3, TLSv1.2 is required");
        }
        for (String protocol : protocols) {
            if (!ALLOWED_PROTOCOLS.contains(protocol)) {
                throw new IllegalArgumentException("tls protocol '" + protocol
                        + "' is not allowed; use TLSv1.3 and/or TLSv1.2");
            }
        }
        if (cipherSuites.isEmpty()) {
            throw new IllegalArgumentException("tls cipher suites: at least one is required");
        }
        Set<String> supported = null;
        for (String suite : cipherSuites) {
            if (CipherSuiteNames.toOpenSsl(suite) != null || CipherSuiteNames.isTls13(suite)) {
                continue; // one of the nine allowed suites, which every JDK 17+ and BoringSSL know
            }
            if (supported == null) {
                // Only for names outside our table: the JDK's default context costs ~0.25 s of
                // start-up (it loads the trust store), which the usual configuration never pays.
                supported = Set.of(jdkSupportedSuites());
            }
            // Policy first: JDK 24+ no longer even knows the RSA key-exchange suites, and "not
            // allowed" tells the user more than "unknown" about a real suite.
            if (!isStrong(suite) && (supported.contains(suite) || suite.matches("TLS_\\w+_WITH_\\w+"))) {
                throw new IllegalArgumentException("tls cipher suite '" + suite
                        + "' is not an ECDHE AEAD suite (GCM or CHACHA20_POLY1305)");
            }
            if (!supported.contains(suite)) {
                throw new IllegalArgumentException("tls cipher suite '" + suite + "' is unknown to this JDK");
            }
        }
        if (cipherOrder == null) {
            throw new IllegalArgumentException("tls cipher order is required");
        }
        for (String protocol : applicationProtocols) {
            if (protocol.isEmpty() || protocol.length() > 255) {
                throw new IllegalArgumentException("ALPN protocol '" + protocol + "' must be 1..255 bytes (RFC 7301 §3.1)");
            }
        }
        if (sessionCacheSize < 0) {
            throw new IllegalArgumentException("tls session cache size must be >= 0, got " + sessionCacheSize);
        }
        requirePositive("session timeout", sessionTimeout);
        requirePositive("handshake timeout", handshakeTimeout);
    }

    public static TlsSettings defaults() {
        return new TlsSettings(DEFAULT_PROTOCOLS, DEFAULT_CIPHER_SUITES, CipherOrder.SERVER,
                DEFAULT_APPLICATION_PROTOCOLS, DEFAULT_SESSION_CACHE_SIZE, DEFAULT_SESSION_TIMEOUT,
                DEFAULT_HANDSHAKE_TIMEOUT);
    }

    public TlsSettings withProtocols(List<String> newProtocols) {
        return new TlsSettings(newProtocols, cipherSuites, cipherOrder, applicationProtocols, sessionCacheSize,
                sessionTimeout, handshakeTimeout);
    }

    public TlsSettings withCipherSuites(List<String> newSuites) {
        return new TlsSettings(protocols, newSuites, cipherOrder, applicationProtocols, sessionCacheSize,
                sessionTimeout, handshakeTimeout);
    }

    public TlsSettings withApplicationProtocols(List<String> newProtocols) {
        return new TlsSettings(protocols, cipherSuites, cipherOrder, newProtocols, sessionCacheSize,
                sessionTimeout, handshakeTimeout);
    }

    public TlsSettings withHandshakeTimeout(Duration timeout) {
        return new TlsSettings(protocols, cipherSuites, cipherOrder, applicationProtocols, sessionCacheSize,
                sessionTimeout, timeout);
    }

    private static boolean isStrong(String suite) {
        // TLS 1.3 suites carry no key exchange in their name: it is always (EC)DHE (RFC 8446 §4.2.8/§4.2.9 psk_dhe_ke).
        boolean forwardSecret = suite.startsWith("TLS_ECDHE_") || !suite.contains("_WITH_");
        for (String marker : AEAD_MARKERS) {
            if (suite.contains(marker) && forwardSecret) {
                return true;
            }
        }
        return false;
    }

    private static String[] jdkSupportedSuites() {
        try {
            return SSLContext.getDefault().getSupportedSSLParameters().getCipherSuites();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no default TLS context", e);
        }
    }

    private static void requirePositive(String name, Duration value) {
        if (value == null || value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException("tls " + name + " must be > 0, got " + value);
        }
    }
}
