package dev.moonbeam.tls;

import io.netty.internal.tcnative.Buffer;
import io.netty.internal.tcnative.CertificateCallback;
import io.netty.internal.tcnative.SSL;
import io.netty.internal.tcnative.SSLContext;
import io.netty.internal.tcnative.SSLPrivateKeyMethod;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLException;

/**
 * {@link ServerTls} on BoringSSL: one native {@code SSL_CTX} shared by every loop (BoringSSL locks
 * its session cache and ticket keys internally), so a session resumes on whichever loop the
 * client's next connection lands. Certificates are parsed into native chains and keys once; a
 * certificate callback picks one per handshake from the SNI name and the signature algorithms the
 * client accepts (the same choice as the JSSE path's {@link SniKeyManager}).
 *
 * <p>Native memory is reference-counted: one reference for the configuration itself (dropped by
 * {@link #retire()}) and one per live session. The context, chains and keys are freed when the
 * count reaches zero, so a reload never frees what a handshake in flight still uses.
 *
 * <p>Thread-safe: {@link #newSession()} is called by every loop.
 */
final class NativeServerTls implements ServerTls {
    private static final System.Logger LOG = System.getLogger(NativeServerTls.class.getName());
    /**
     * BoringSSL's writes while reading (a handshake flight, tickets, alerts) wait here until the
     * next wrap; a larger flight simply continues straight into the output buffer. Held for the
     * connection's life, so kept small: it is most of the per-connection cost of an idle one.
     */
    private static final int NON_APPLICATION_BUFFER_BYTES = 2048;
    private static final TicketKeys TICKET_KEYS = new TicketKeys(TlsSettings.DEFAULT_SESSION_TIMEOUT.toNanos());

    /**
     * Why our last callback on this thread failed. When callbacks run as tcnative tasks, their
     * exceptions become BoringSSL's bare "callback failed"; this keeps the useful reason for the
     * handshake error ({@link #takeCallbackFailure}).
     */
    private static final ThreadLocal<String> CALLBACK_FAILURE = new ThreadLocal<>();

    private final long context;
    private final long[] chains;
    private final long[] keys;
    private final TlsSettings settings;
    private final List<KeyMaterial> certificates;
    private final TlsProviderInfo provider;
    private final SniKeyManager chooser;
    private final AtomicInteger references = new AtomicInteger(1);
    private volatile int ticketGeneration;
    /** The system OpenSSL's copies of {@link #keys}, used for signing when set (see PrivateKeyOperations). */
    private final PrivateKeyOperations keyOperations;
    private final long[] systemKeys;
    private final AtomicBoolean keyFailureLogged = new AtomicBoolean();
    private final LongAdder systemKeyOperationCount = new LongAdder();

    private NativeServerTls(long context, long[] chains, long[] keys, TlsSettings settings,
                            List<KeyMaterial> certificates, TlsProviderInfo provider,
                            PrivateKeyOperations keyOperations, long[] systemKeys) {
        this.context = context;
        this.chains = chains;
        this.keys = keys;
        this.settings = settings;
        this.certificates = List.copyOf(certificates);
        this.keyOperations = keyOperations;
        this.systemKeys = systemKeys;
        this.provider = keyOperations == null ? provider : new TlsProviderInfo(provider.name(),
                provider.library() + ", private keys: " + keyOperations.library(), provider.note());
        this.chooser = new SniKeyManager(certificates);
    }

    /** Needs {@link BoringSslLibrary} loaded. */
    static NativeServerTls create(List<KeyMaterial> certificates, TlsSettings settings, TlsProviderInfo provider)
            throws SSLException {
        if (certificates.isEmpty()) {
            throw new IllegalArgumentException("at least one certificate is required for TLS");
        }
        long context = 0;
        long[] chains = new long[certificates.size()];
        long[] keys = new long[certificates.size()];
        PrivateKeyOperations keyOperations = null;
        long[] systemKeys = null;
        try {
            context = SSLContext.make(protocolMask(settings.protocols()), SSL.SSL_MODE_SERVER);
            configure(context, settings);
            SSLContext.setSessionIdContext(context, sessionIdContext(certificates));
            for (int i = 0; i < certificates.size(); i++) {
                chains[i] = parseChain(certificates.get(i).chain());
                keys[i] = parseKey(certificates.get(i));
            }
            // Only for RSA keys: OpenSSL's RSA is ~3x BoringSSL's here, but its ECDSA path (the hook is
            // per context, so EC keys would go along) measured slower per handshake than BoringSSL's.
            keyOperations = hasRsaKey(certificates) ? PrivateKeyOperations.system().operations() : null;
            systemKeys = keyOperations == null ? null : systemKeys(keyOperations, certificates);
            if (systemKeys == null) {
                keyOperations = null;
            }
            NativeServerTls tls = new NativeServerTls(context, chains, keys, settings, certificates, provider,
                    keyOperations, systemKeys);
            SSLContext.setCertificateCallback(context, tls.new CertificateChooser());
            if (keyOperations != null) {
                // tcnative calls a private-key method only as a task (its direct path passes the
                // wrong arguments); with tasks on, the certificate callback is one too. Both run
                // inline on the loop: see NativeTlsSession.handshake().
                SSLContext.setUseTasks(context, true);
                SSLContext.setPrivateKeyMethod(context, tls.new SystemKeySigner());
            }
            tls.applyTicketKeys(TICKET_KEYS.refresh(System.nanoTime()));
            return tls;
        } catch (Exception e) {
            freeAll(context, chains, keys);
            if (systemKeys != null) {
                freeSystemKeys(keyOperations, systemKeys);
            }
            SSL.clearError();
            throw e instanceof SSLException ssl ? ssl : new SSLException("BoringSSL: " + e.getMessage(), e);
        }
    }

    private static void configure(long context, TlsSettings settings) throws Exception {
        // tcnative's make() opens BoringSSL from TLS 1.0 to 1.3 whatever mask it is given; close it
        // down to what is configured (RFC 8996 retired 1.0 and 1.1).
        int noVersions = SSL.SSL_OP_NO_TLSv1 | SSL.SSL_OP_NO_TLSv1_1;
        if (!settings.protocols().contains("TLSv1.2")) {
            noVersions |= SSL.SSL_OP_NO_TLSv1_2;
        }
        if (!settings.protocols().contains("TLSv1.3")) {
            noVersions |= SSL.SSL_OP_NO_TLSv1_3;
        }
        SSLContext.setOptions(context, noVersions);
        SSLContext.setMode(context, SSLContext.getMode(context) | SSL.SSL_MODE_RELEASE_BUFFERS
                | SSL.SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
        if (settings.cipherOrder() == TlsSettings.CipherOrder.SERVER) {
            SSLContext.setOptions(context, SSL.SSL_OP_CIPHER_SERVER_PREFERENCE);
        }
        List<String> tls12 = new ArrayList<>();
        for (String suite : settings.cipherSuites()) {
            String openSslName = CipherSuiteNames.toOpenSsl(suite);
            if (openSslName != null) {
                tls12.add(openSslName);
            }
        }
        if (settings.protocols().contains("TLSv1.3")
                && !settings.cipherSuites().containsAll(CipherSuiteNames.TLS13_SUITES)) {
            // BoringSSL has no switch for these; say so rather than pretend the list applies.
            LOG.log(System.Logger.Level.WARNING, "ssl.ciphers: the native TLS provider always offers all three "
                    + "TLS 1.3 suites " + CipherSuiteNames.TLS13_SUITES + "; the list applies to TLS 1.2 only "
                    + "(use \"provider\": \"jdk\" to restrict TLS 1.3 suites)");
        }
        if (settings.protocols().contains("TLSv1.2")) {
            if (tls12.isEmpty()) {
                throw new SSLException("TLSv1.2 is enabled but no TLS 1.2 cipher suite is configured");
            }
            SSLContext.setCipherSuite(context, String.join(":", tls12), false);
        }
        SSLContext.setAlpnProtos(context, settings.applicationProtocols().toArray(new String[0]),
                SSL.SSL_SELECTOR_FAILURE_NO_ADVERTISE);
        SSLContext.setSessionCacheMode(context, SSL.SSL_SESS_CACHE_SERVER);
        SSLContext.setSessionCacheSize(context, settings.sessionCacheSize());
        SSLContext.setSessionCacheTimeout(context, settings.sessionTimeout().toSeconds());
        // One TLS 1.3 ticket per handshake (BoringSSL's default is two): a browser uses one per connection.
        SSLContext.setNumTickets(context, 1);
    }

    /**
     * BoringSSL resumes a session (from its cache or a ticket) only under the same session-ID
     * context. Deriving it from the certificates means a reload that keeps them keeps tickets
     * (process-wide keys) resumable, while a reload that replaces them (say, after a key
     * compromise) makes every client authenticate against the new certificate. The session-ID
     * cache itself belongs to one context and starts empty after any reload.
     */
    private static byte[] sessionIdContext(List<KeyMaterial> certificates) throws Exception {
        java.security.MessageDigest digest = java.security.MessageDigest.getInstance("SHA-256");
        for (KeyMaterial material : certificates) {
            for (X509Certificate certificate : material.chain()) {
                digest.update(encoded(certificate));
            }
        }
        return digest.digest(); // 32 bytes, SSL_MAX_SID_CTX_LENGTH
    }

    private static int protocolMask(List<String> protocols) {
        int mask = 0;
        for (String protocol : protocols) {
            mask |= "TLSv1.3".equals(protocol) ? SSL.SSL_PROTOCOL_TLSV1_3 : SSL.SSL_PROTOCOL_TLSV1_2;
        }
        return mask;
    }

    @Override
    public TlsSession newSession() {
        for (int seen = references.get(); ; seen = references.get()) {
            if (seen <= 0) {
                throw new IllegalStateException("this TLS configuration was replaced and freed");
            }
            if (references.compareAndSet(seen, seen + 1)) {
                break;
            }
        }
        int generation = TICKET_KEYS.refresh(System.nanoTime());
        if (generation != ticketGeneration) {
            applyTicketKeys(generation);
        }
        long ssl = 0;
        try {
            ssl = SSL.newSSL(context, true);
            long bio = SSL.bioNewByteBuffer(ssl, NON_APPLICATION_BUFFER_BYTES);
            return new NativeTlsSession(this, ssl, bio);
        } catch (RuntimeException | Error e) { // out of native memory: give back what was taken
            if (ssl != 0) {
                SSL.freeSSL(ssl);
            }
            SSL.clearError();
            release();
            throw e;
        }
    }

    /** Synchronized: two loops noticing a rotation at once must not leave the older keys applied last. */
    private synchronized void applyTicketKeys(int generation) {
        generation = Math.max(generation, TICKET_KEYS.refresh(System.nanoTime()));
        SSLContext.setSessionTicketKeys(context, TICKET_KEYS.keys());
        ticketGeneration = generation;
    }

    static void noteCallbackFailure(String reason) {
        CALLBACK_FAILURE.set(reason);
    }

    /** The reason our last callback on this thread failed, once; null if none did. */
    static String takeCallbackFailure() {
        String reason = CALLBACK_FAILURE.get();
        if (reason != null) {
            CALLBACK_FAILURE.remove();
        }
        return reason;
    }

    /** A session made by this configuration was freed. */
    void sessionFreed() {
        release();
    }

    private final AtomicBoolean retired = new AtomicBoolean();

    @Override
    public void retire() {
        if (retired.compareAndSet(false, true)) {
            release();
        }
    }

    @Override
    public int liveSessions() {
        return Math.max(0, references.get() - (retired.get() ? 0 : 1));
    }

    @Override
    public boolean released() {
        return references.get() == 0;
    }

    private void release() {
        if (references.decrementAndGet() == 0) {
            freeAll(context, chains, keys);
            if (systemKeys != null) {
                freeSystemKeys(keyOperations, systemKeys);
            }
        }
    }

    private static boolean hasRsaKey(List<KeyMaterial> certificates) {
        for (KeyMaterial material : certificates) {
            if ("RSA".equals(material.key().getAlgorithm())) {
                return true;
            }
        }
        return false;
    }

    /**
     * The system OpenSSL's copies of every private key, or null (with a warning) when it cannot
     * load one of them: then BoringSSL keeps signing for all, which works, only slower for RSA.
     */
    private static long[] systemKeys(PrivateKeyOperations operations, List<KeyMaterial> certificates) {
        long[] loaded = new long[certificates.size()];
        for (int i = 0; i < certificates.size(); i++) {
            byte[] der = certificates.get(i).key().getEncoded();
            try {
                if (der == null) {
                    throw new SSLException("the key cannot be exported");
                }
                loaded[i] = operations.load(der);
            } catch (SSLException e) {
                LOG.log(System.Logger.Level.WARNING, "the private key of "
                        + certificates.get(i).leaf().getSubjectX500Principal() + " stays with BoringSSL ("
                        + e.getMessage() + "); every key signs there, RSA handshakes are slower");
                freeSystemKeys(operations, loaded);
                return null;
            } finally {
                if (der != null) {
                    java.util.Arrays.fill(der, (byte) 0);
                }
            }
        }
        return loaded;
    }

    private static void freeSystemKeys(PrivateKeyOperations operations, long[] loaded) {
        for (long key : loaded) {
            if (key != 0) {
                operations.free(key);
            }
        }
    }

    private static void freeAll(long context, long[] chains, long[] keys) {
        for (long chain : chains) {
            if (chain != 0) {
                SSL.freeX509Chain(chain);
            }
        }
        for (long key : keys) {
            if (key != 0) {
                SSL.freePrivateKey(key);
            }
        }
        if (context != 0) {
            SSLContext.free(context);
        }
    }

    @Override
    public boolean directBuffers() {
        return true;
    }

    @Override
    public TlsSettings settings() {
        return settings;
    }

    @Override
    public List<KeyMaterial> certificates() {
        return certificates;
    }

    @Override
    public TlsProviderInfo provider() {
        return provider;
    }

    @Override
    public long cachedSessions() {
        return references.get() > 0 ? SSLContext.sessionNumber(context) : 0;
    }

    /** Signatures and decryptions the system OpenSSL did for this configuration; 0 when BoringSSL does them. */
    long systemKeyOperations() {
        return systemKeyOperationCount.sum();
    }

    /** Session-cache and ticket counters, for tests that check resumption really happened. */
    long resumptions() {
        return SSLContext.sessionHits(context) + SSLContext.sessionTicketKeyResume(context);
    }

    /**
     * Runs inside BoringSSL's handshake, on the loop thread that drives it. An exception here fails
     * the handshake (tcnative turns it into an error return).
     */
    private final class CertificateChooser implements CertificateCallback {
        @Override
        public void handle(long ssl, byte[] keyTypes, byte[][] issuers) throws Exception {
            try {
                choose(ssl);
            } catch (Exception e) {
                noteCallbackFailure(e.getMessage());
                throw e;
            }
        }

        private void choose(long ssl) throws Exception {
            String hostName = SSL.getSniHostname(ssl);
            String name = hostName == null ? null : hostName.toLowerCase(Locale.ROOT);
            boolean ecdsa = false;
            boolean rsa = false;
            String[] algorithms = SSL.getSigAlgs(ssl);
            if (algorithms == null) {
                rsa = true; // TLS 1.2 without signature_algorithms: RSA/SHA-1 is implied (RFC 5246 §7.4.1.4.1)
            } else {
                for (String algorithm : algorithms) {
                    ecdsa |= algorithm.startsWith("ecdsa");
                    rsa |= algorithm.startsWith("rsa");
                }
            }
            String alias = ecdsa ? chooser.choose("EC", name) : null;
            if (alias == null && rsa) {
                alias = chooser.choose("RSA", name);
            }
            if (alias == null) {
                throw new SSLException("no certificate for " + (name == null ? "a client without SNI" : name)
                        + " matches the client's signature algorithms");
            }
            int index = Integer.parseInt(alias);
            // No BoringSSL key when the system OpenSSL signs: tcnative then installs its private-key
            // hook for this connection, which calls SystemKeySigner.
            SSL.setKeyMaterial(ssl, chains[index], systemKeys != null ? 0 : keys[index]);
        }
    }

    /**
     * BoringSSL's private-key hook, answered by the system OpenSSL (see PrivateKeyOperations).
     * Runs inside the handshake on the loop thread that drives it (NativeTlsSession runs the task
     * inline). The key is found again from the SNI name and the key type the signature scheme
     * implies: the same inputs {@link CertificateChooser} chose the certificate from, so the same
     * answer, with no state carried between the two callbacks.
     */
    private final class SystemKeySigner implements SSLPrivateKeyMethod {
        @Override
        public byte[] sign(long ssl, int signatureScheme, byte[] input) throws Exception {
            boolean ecdsa = (signatureScheme & 0xff) == 0x03;
            systemKeyOperationCount.increment();
            try {
                return keyOperations.sign(systemKeys[keyIndex(ssl, ecdsa ? "EC" : "RSA")], signatureScheme, input);
            } catch (Exception e) {
                throw logged(e);
            }
        }

        @Override
        public byte[] decrypt(long ssl, byte[] input) throws Exception {
            systemKeyOperationCount.increment();
            try {
                return keyOperations.decryptRaw(systemKeys[keyIndex(ssl, "RSA")], input);
            } catch (Exception e) {
                throw logged(e);
            }
        }

        private int keyIndex(long ssl, String keyType) throws SSLException {
            String hostName = SSL.getSniHostname(ssl);
            String alias = chooser.choose(keyType, hostName == null ? null : hostName.toLowerCase(Locale.ROOT));
            if (alias == null) {
                throw new SSLException("no " + keyType + " key for " + hostName);
            }
            return Integer.parseInt(alias);
        }

        /** BoringSSL reports only "private key operation failed"; the reason is ours to log, once. */
        private Exception logged(Exception e) {
            noteCallbackFailure(e.getMessage());
            if (keyFailureLogged.compareAndSet(false, true)) {
                LOG.log(System.Logger.Level.WARNING, "TLS private-key operation failed (further failures "
                        + "of this configuration are not logged): " + e.getMessage());
            }
            return e;
        }
    }

    // ---- key material --------------------------------------------------------------------------

    private static long parseChain(List<X509Certificate> chain) throws Exception {
        StringBuilder pem = new StringBuilder();
        for (X509Certificate certificate : chain) {
            appendPem(pem, "CERTIFICATE", encoded(certificate));
        }
        byte[] bytes = pem.toString().getBytes(StandardCharsets.US_ASCII);
        long bio = toBio(bytes);
        try {
            return SSL.parseX509Chain(bio);
        } finally {
            SSL.freeBIO(bio);
        }
    }

    private static long parseKey(KeyMaterial material) throws Exception {
        byte[] der = material.key().getEncoded(); // PKCS#8 for both RSA and EC keys
        if (der == null) {
            throw new SSLException("the private key of " + material.leaf().getSubjectX500Principal()
                    + " cannot be exported (a hardware key?); use ssl.provider \"jdk\"");
        }
        StringBuilder pem = new StringBuilder();
        appendPem(pem, "PRIVATE KEY", der);
        byte[] bytes = pem.toString().getBytes(StandardCharsets.US_ASCII);
        java.util.Arrays.fill(der, (byte) 0);
        long bio = toBio(bytes);
        java.util.Arrays.fill(bytes, (byte) 0);
        try {
            return SSL.parsePrivateKey(bio, null);
        } finally {
            SSL.freeBIO(bio);
        }
    }

    private static byte[] encoded(X509Certificate certificate) throws SSLException {
        try {
            return certificate.getEncoded();
        } catch (CertificateEncodingException e) {
            throw new SSLException("cannot encode certificate " + certificate.getSubjectX500Principal(), e);
        }
    }

    private static void appendPem(StringBuilder pem, String type, byte[] der) {
        pem.append("-----BEGIN ").append(type).append("-----\n")
                .append(Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der))
                .append("\n-----END ").append(type).append("-----\n");
    }

    private static long toBio(byte[] bytes) throws Exception {
        ByteBuffer buffer = ByteBuffer.allocateDirect(bytes.length);
        buffer.put(bytes);
        long bio = SSL.newMemBIO();
        int written = SSL.bioWrite(bio, Buffer.address(buffer), bytes.length);
        for (int i = 0; i < bytes.length; i++) {
            buffer.put(i, (byte) 0); // the key's PEM does not linger in native memory
        }
        if (written != bytes.length) {
            SSL.freeBIO(bio);
            throw new SSLException("BoringSSL took " + written + " of " + bytes.length + " bytes of key material");
        }
        return bio;
    }
}
