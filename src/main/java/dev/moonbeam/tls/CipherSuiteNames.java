package dev.moonbeam.tls;

import java.util.List;
import java.util.Map;

/**
 * The cipher suites MoonBeam allows, under both names users know: IANA's (what JSSE and RFCs use,
 * {@code TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}) and OpenSSL's (what nginx and HAProxy configs use,
 * {@code ECDHE-RSA-AES128-GCM-SHA256}). TLS 1.3 suites have one name in both worlds. Stateless.
 */
final class CipherSuiteNames {
    /** IANA name to OpenSSL name, for the ECDHE AEAD suites of TLS 1.2 (RFC 5289, RFC 7905). */
    private static final Map<String, String> TLS12_OPENSSL_NAMES = Map.of(
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305");
    /** RFC 8446 §B.4; the same names in OpenSSL. */
    static final List<String> TLS13_SUITES = List.of(
            "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256");

    private CipherSuiteNames() {
    }

    /** The IANA name for an OpenSSL or IANA name; unknown names come back unchanged (the caller rejects them). */
    static String toIana(String name) {
        for (Map.Entry<String, String> entry : TLS12_OPENSSL_NAMES.entrySet()) {
            if (entry.getValue().equals(name)) {
                return entry.getKey();
            }
        }
        return name;
    }

    /** The OpenSSL name of a TLS 1.2 suite given by its IANA name, or null for a TLS 1.3 or unknown suite. */
    static String toOpenSsl(String ianaName) {
        return TLS12_OPENSSL_NAMES.get(ianaName);
    }

    static boolean isTls13(String ianaName) {
        return TLS13_SUITES.contains(ianaName);
    }
}
