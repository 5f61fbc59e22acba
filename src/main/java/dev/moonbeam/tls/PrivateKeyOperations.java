package dev.moonbeam.tls;

import javax.net.ssl.SSLException;

/**
 * Signing and raw RSA decryption with private keys held by a crypto library other than the one
 * running the TLS protocol. The native provider hands BoringSSL's private-key operations to the
 * system's OpenSSL 3 when it is present because, on CPUs with AVX-512 IFMA, OpenSSL 3's RSA is
 * about three times BoringSSL's (0.26 ms against ~0.8 ms per RSA-2048 signature here), and RSA
 * signing is most of an RSA handshake. ECDSA goes the same way since BoringSSL's hook is per
 * context, not per key; OpenSSL's P-256 signs in ~20 µs.
 *
 * <p>Implemented over {@code java.lang.foreign}, so only on JDK 22+; {@link #system()} finds it.
 * Thread-safe: keys are read-only once loaded, every call uses its own native state.
 */
interface PrivateKeyOperations {

    /** The library's own version string, for logs and /status. */
    String library();

    /** Loads a PKCS#8 DER private key; the returned handle stays valid until {@link #free}. */
    long load(byte[] pkcs8) throws SSLException;

    /**
     * Signs {@code input} (the whole message, not a digest) with a TLS SignatureScheme code
     * (RFC 8446 §4.2.3, e.g. 0x0804 rsa_pss_rsae_sha256), returning the signature as TLS carries it.
     */
    byte[] sign(long key, int signatureScheme, byte[] input) throws SSLException;

    /** RSA decryption without padding removal (TLS 1.2's RSA key exchange; BoringSSL unpads). */
    byte[] decryptRaw(long key, byte[] input) throws SSLException;

    void free(long key);

    /** The system OpenSSL 3 on JDK 22+, or the reason there is none. */
    static Availability system() {
        return SystemHolder.AVAILABILITY;
    }

    /** Either {@code operations} or a {@code reason} it is missing. */
    record Availability(PrivateKeyOperations operations, String reason) {
    }

    final class SystemHolder {
        static final String DISABLE_PROPERTY = "moonbeam.tls.systemKeyOperations";
        private static final Availability AVAILABILITY = find();

        private SystemHolder() {
        }

        private static Availability find() {
            if ("false".equalsIgnoreCase(System.getProperty(DISABLE_PROPERTY))) {
                return new Availability(null, "disabled by -D" + DISABLE_PROPERTY + "=false");
            }
            int feature = Runtime.version().feature();
            if (feature < 22) {
                return new Availability(null, "Java " + feature + " has no java.lang.foreign (needs 22+)");
            }
            try {
                Class<?> type = Class.forName("dev.moonbeam.tls.OpenSslKeyOperations");
                Object loaded = type.getMethod("load").invoke(null);
                return loaded instanceof PrivateKeyOperations operations
                        ? new Availability(operations, null)
                        : new Availability(null, String.valueOf(loaded));
            } catch (ClassNotFoundException e) {
                return new Availability(null, "this build has no OpenSSL binding (built on Java "
                        + "below 22; rebuild with scripts/moonbeam.sh on a newer JDK)");
            } catch (ReflectiveOperationException | LinkageError e) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                return new Availability(null, "OpenSSL binding failed: " + cause);
            }
        }
    }
}
