package dev.moonbeam.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.util.List;
import java.util.Random;
import javax.crypto.Cipher;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Assumptions;

/**
 * The native provider's private-key operations by the system OpenSSL 3 (Java 22+ only; skipped,
 * with the reason, elsewhere): every signature scheme checked by the JDK's own verifier, and real
 * handshakes whose signatures are counted as made there.
 */
class SystemKeyOperationsTest {
    private static final byte[] REQUEST = "GET / HTTP/1.1\r\nHost: rsa.test\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static PrivateKeyOperations operations;

    @BeforeEach // per test, so that a skip shows as skipped tests with the reason, not as none run
    void assumeAvailable() {
        PrivateKeyOperations.Availability availability = PrivateKeyOperations.system();
        // .ci/run sets this on a Java 22+ run where libcrypto.so.3 exists: skipping there would hide a broken binding.
        if (Boolean.getBoolean("moonbeam.test.requireSystemKeyOperations") && availability.operations() == null) {
            throw new AssertionError("system OpenSSL key operations required but unavailable: " + availability.reason());
        }
        Assumptions.assumeTrue(availability.operations() != null,
                () -> "system OpenSSL key operations unavailable (" + availability.reason() + "): skipped");
        operations = availability.operations();
    }

    @ParameterizedTest(name = "{0} 0x{1}")
    @CsvSource({
        "RSA, 0201, SHA1withRSA",
        "RSA, 0401, SHA256withRSA",
        "RSA, 0501, SHA384withRSA",
        "RSA, 0601, SHA512withRSA",
        "RSA, 0804, SHA-256",
        "RSA, 0805, SHA-384",
        "RSA, 0806, SHA-512",
        "EC, 0203, SHA1withECDSA",
        "EC, 0403, SHA256withECDSA",
        "EC, 0503, SHA384withECDSA",
        "EC, 0603, SHA512withECDSA",
    })
    void everySchemeSignsWhatTheJdkVerifies(String keyType, String schemeHex, String jdkAlgorithm) throws Exception {
        KeyMaterial material = keyType.equals("RSA") ? Fixtures.rsa() : Fixtures.ec();
        int scheme = Integer.parseInt(schemeHex, 16);
        byte[] message = new byte[200];
        new Random(scheme).nextBytes(message);
        long key = operations.load(material.key().getEncoded());
        try {
            byte[] signature = operations.sign(key, scheme, message);
            Signature verifier;
            if (jdkAlgorithm.startsWith("SHA-")) { // RSA-PSS, salt as long as the hash (RFC 8446 §4.2.3)
                verifier = Signature.getInstance("RSASSA-PSS");
                int saltLength = Integer.parseInt(jdkAlgorithm.substring(4)) / 8;
                verifier.setParameter(new PSSParameterSpec(jdkAlgorithm, "MGF1",
                        new MGF1ParameterSpec(jdkAlgorithm), saltLength, 1));
            } else {
                verifier = Signature.getInstance(jdkAlgorithm);
            }
            verifier.initVerify(material.leaf().getPublicKey());
            verifier.update(message);
            assertThat(verifier.verify(signature)).as("signature verifies").isTrue();
            message[0] ^= 1;
            verifier.update(message);
            assertThat(verifier.verify(signature)).as("a changed message does not").isFalse();
        } finally {
            operations.free(key);
        }
    }

    @Test
    void rawRsaDecryptionUndoesTheJdksRawEncryption() throws Exception {
        KeyMaterial material = Fixtures.rsa();
        RSAPublicKey publicKey = (RSAPublicKey) material.leaf().getPublicKey();
        byte[] block = new byte[publicKey.getModulus().bitLength() / 8];
        new Random(7).nextBytes(block);
        block[0] = 0; // below the modulus
        Cipher raw = Cipher.getInstance("RSA/ECB/NoPadding");
        raw.init(Cipher.ENCRYPT_MODE, publicKey);
        byte[] encrypted = raw.doFinal(block);
        long key = operations.load(material.key().getEncoded());
        try {
            assertThat(new BigInteger(1, operations.decryptRaw(key, encrypted))).isEqualTo(new BigInteger(1, block));
        } finally {
            operations.free(key);
        }
    }

    @Test
    void failuresNameTheReasonAndTheNextCallStillWorks() throws Exception {
        assertThatThrownBy(() -> operations.load(new byte[] {0x30, 0x03, 0x02, 0x01, 0x00}))
                .isInstanceOf(SSLException.class).hasMessageContaining("cannot load the private key");
        long key = operations.load(Fixtures.ec().key().getEncoded());
        try {
            assertThatThrownBy(() -> operations.sign(key, 0x0807, new byte[32]))
                    .isInstanceOf(SSLException.class).hasMessageContaining("unsupported signature scheme 0x807");
            assertThatThrownBy(() -> operations.sign(key, 0x0804, new byte[32])) // PSS with an EC key
                    .isInstanceOf(SSLException.class).hasMessageContaining("OpenSSL");
            // A failure leaves the key and this thread usable.
            assertThat(operations.sign(key, 0x0403, new byte[32])).isNotEmpty();
        } finally {
            operations.free(key);
        }
    }

    /** With an RSA key configured, every key signs there (the hook is per context), EC ones too. */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"TLSv1.3, RSA", "TLSv1.2, RSA", "TLSv1.3, EC", "TLSv1.2, EC"})
    void handshakesSignWithTheSystemOpenSsl(String protocol, String keyType) throws Exception {
        TestProvider.NATIVE.assumeAvailable();
        KeyMaterial material = keyType.equals("RSA") ? Fixtures.rsa() : Fixtures.ec();
        List<KeyMaterial> configured = List.of(Fixtures.rsa(), Fixtures.ec());
        NativeServerTls tls = (NativeServerTls) TestProvider.NATIVE.create(configured, TlsSettings.defaults());
        try {
            assertThat(tls.provider().library()).contains("private keys: OpenSSL 3");
            for (int connection = 1; connection <= 3; connection++) {
                TlsPair pair = new TlsPair(tls, configured, protocol, keyType.equals("RSA") ? "rsa.test" : "ec.test", 1 << 20);
                pair.echoing = true;
                pair.client.send(REQUEST);
                pair.pump();
                assertThat(pair.serverError).isNull();
                assertThat(pair.engine.state()).isEqualTo(TlsEngine.State.OPEN);
                assertThat(pair.client.engine.getSession().getProtocol()).isEqualTo(protocol);
                assertThat(pair.client.engine.getSession().getPeerCertificates()[0].getPublicKey().getAlgorithm())
                        .isEqualTo(material.leaf().getPublicKey().getAlgorithm());
                assertThat(pair.client.received.toByteArray()).isEqualTo(REQUEST);
                assertThat(tls.systemKeyOperations()).as("signatures by OpenSSL").isEqualTo(connection);
                pair.transport.release();
            }
        } finally {
            tls.retire();
        }
        assertThat(tls.released()).isTrue();
    }

    /** EC keys alone stay with BoringSSL, whose ECDSA measured faster than the hook plus OpenSSL's. */
    @Test
    void ecKeysAloneSignInBoringSsl() throws Exception {
        TestProvider.NATIVE.assumeAvailable();
        List<KeyMaterial> configured = List.of(Fixtures.ec());
        NativeServerTls tls = (NativeServerTls) TestProvider.NATIVE.create(configured, TlsSettings.defaults());
        try {
            assertThat(tls.provider().library()).doesNotContain("OpenSSL");
            TlsPair pair = new TlsPair(tls, configured, "TLSv1.3", null, 1 << 20);
            pair.echoing = true;
            pair.client.send(REQUEST);
            pair.pump();
            assertThat(pair.client.received.toByteArray()).isEqualTo(REQUEST);
            assertThat(tls.systemKeyOperations()).isZero();
            pair.transport.release();
        } finally {
            tls.retire();
        }
    }
}
