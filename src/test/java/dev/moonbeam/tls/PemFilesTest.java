package dev.moonbeam.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class PemFilesTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} + {1}")
    @CsvSource({
        "rsa.crt, rsa-pkcs1.key, RSA, rsa.test, 1",
        "ec.crt, ec-sec1.key, EC, ec.test|*.wild.test, 1",
        "leaf-chain.crt, leaf-pkcs8.key, EC, leaf.test, 2",
    })
    void opensslFixturesLoad(String cert, String key, String algorithm, String names, int chainLength) throws Exception {
        KeyMaterial material = KeyMaterial.fromPem(Fixtures.resource(cert), Fixtures.resource(key));

        assertThat(material.key().getAlgorithm()).isEqualTo(algorithm);
        assertThat(material.hostNames()).containsExactly(names.split("\\|"));
        assertThat(material.chain()).hasSize(chainLength);
        if (chainLength == 2) {
            assertThat(material.chain().get(1).getSubjectX500Principal().getName()).isEqualTo("CN=MoonBeam Test CA");
            assertThat(material.leaf().getIssuerX500Principal()).isEqualTo(material.chain().get(1).getSubjectX500Principal());
        }
    }

    /** keytool-made keys, rewritten by the test into each PEM form the reader accepts. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"EC, PKCS8", "EC, SEC1_WITH_PARAMETERS_BLOCK", "EC, SEC1_WITH_EMBEDDED_CURVE",
        "RSA, PKCS8", "RSA, PKCS1"})
    void keytoolKeysInEveryPemForm(String algorithm, String form) throws Exception {
        KeyMaterial generated = algorithm.equals("EC") ? GeneratedMaterial.ecLocalhost() : GeneratedMaterial.rsa();
        Path cert = algorithm.equals("EC") ? GeneratedMaterial.ecCert() : GeneratedMaterial.rsaCert();
        byte[] pkcs8 = generated.key().getEncoded();
        List<Der.Tlv> info = Der.readSingle(pkcs8).children();
        byte[] inner = info.get(2).value();
        String pem;
        switch (form) {
            case "PKCS8":
                pem = PemFiles.encode("PRIVATE KEY", pkcs8);
                break;
            case "PKCS1":
                pem = PemFiles.encode("RSA PRIVATE KEY", inner);
                break;
            case "SEC1_WITH_PARAMETERS_BLOCK": {
                byte[] curve = Der.encode(info.get(1).children().get(1));
                pem = PemFiles.encode("EC PARAMETERS", curve) + PemFiles.encode("EC PRIVATE KEY", inner);
                break;
            }
            case "SEC1_WITH_EMBEDDED_CURVE": {
                byte[] curve = Der.encode(info.get(1).children().get(1));
                List<Der.Tlv> fields = Der.readSingle(inner).children();
                byte[] sec1 = Der.encode(Der.SEQUENCE, Der.encode(fields.get(0)), Der.encode(fields.get(1)),
                        Der.encode(Der.CONTEXT_0, curve));
                pem = PemFiles.encode("EC PRIVATE KEY", sec1);
                break;
            }
            default:
                throw new IllegalArgumentException(form);
        }
        Path key = Files.writeString(dir.resolve("key.pem"), pem);

        KeyMaterial loaded = KeyMaterial.fromPem(cert, key);
        if (algorithm.equals("EC")) {
            // An embedded curve stays in the inner SEC1 bytes; the secret must be the same.
            assertThat(((java.security.interfaces.ECPrivateKey) loaded.key()).getS())
                    .isEqualTo(((java.security.interfaces.ECPrivateKey) generated.key()).getS());
        } else {
            assertThat(loaded.key().getEncoded()).isEqualTo(pkcs8);
        }
        assertThat(loaded.hostNames()).isEqualTo(generated.hostNames());
    }

    static Stream<Arguments> badFiles() {
        String junkBase64 = Base64.getEncoder().encodeToString("not a certificate".getBytes(StandardCharsets.US_ASCII));
        return Stream.of(
                Arguments.of("missing certificate", "missing", "fixture:ec-sec1.key", "cert", "file does not exist"),
                Arguments.of("missing key", "fixture:ec.crt", "missing", "key", "file does not exist"),
                Arguments.of("no PEM block", "text:hello world\n", "fixture:ec-sec1.key", "cert", "contains no PEM block"),
                Arguments.of("key where certificate expected", "fixture:leaf-pkcs8.key", "fixture:ec-sec1.key", "cert",
                        "'PRIVATE KEY' PEM block where only CERTIFICATE"),
                Arguments.of("bad base64", "text:-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
                        "fixture:ec-sec1.key", "cert", "not valid base64"),
                Arguments.of("bad DER", "text:-----BEGIN CERTIFICATE-----\n" + junkBase64 + "\n-----END CERTIFICATE-----\n",
                        "fixture:ec-sec1.key", "cert", "not a valid X.509"),
                Arguments.of("no END line", "text:-----BEGIN CERTIFICATE-----\nAAAA\n", "fixture:ec-sec1.key", "cert",
                        "has no END line"),
                Arguments.of("encrypted PKCS#8", "fixture:ec.crt", "fixture:ec-encrypted.key", "key",
                        "the private key is encrypted"),
                Arguments.of("encrypted traditional", "fixture:rsa.crt", "fixture:rsa-encrypted-legacy.key", "key",
                        "openssl pkey"),
                Arguments.of("certificate where key expected", "fixture:ec.crt", "fixture:ec.crt", "key",
                        "has no private key block"),
                Arguments.of("public key block", "fixture:ec.crt",
                        "text:-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "key", "'PUBLIC KEY' PEM block"),
                Arguments.of("junk PKCS#8", "fixture:ec.crt",
                        "text:-----BEGIN PRIVATE KEY-----\n" + junkBase64 + "\n-----END PRIVATE KEY-----\n", "key",
                        "not valid PKCS#8"),
                Arguments.of("SEC1 without curve", "fixture:ec.crt",
                        "text:-----BEGIN EC PRIVATE KEY-----\nMCUCAQEEIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB\n-----END EC PRIVATE KEY-----\n",
                        "key", "names no curve"),
                Arguments.of("key of another certificate", "fixture:ec.crt", "fixture:leaf-pkcs8.key", "key",
                        "does not match the certificate's public key"),
                Arguments.of("RSA certificate, EC key", "fixture:rsa.crt", "fixture:ec-sec1.key", "key",
                        "is a EC key but the certificate has a RSA public key"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badFiles")
    void badFilesGiveAMessageNamingTheFileAndTheProblem(String name, String cert, String key, String blamed,
            String problem) throws Exception {
        Path certFile = place("cert.pem", cert);
        Path keyFile = place("key.pem", key);
        Path named = blamed.equals("cert") ? certFile : keyFile;

        assertThatThrownBy(() -> KeyMaterial.fromPem(certFile, keyFile))
                .isInstanceOf(TlsMaterialException.class)
                .hasMessageStartingWith(named + ": ")
                .hasMessageContaining(problem);
    }

    @Test
    void pkcs12KeystoreLoads() throws Exception {
        Path store = writePkcs12("changeit".toCharArray(), true);
        KeyMaterial material = KeyMaterial.fromPkcs12(store, "changeit".toCharArray());
        assertThat(material.hostNames()).containsExactly("ec.test", "*.wild.test");
        assertThat(material.key().getAlgorithm()).isEqualTo("EC");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "wrong password, true, wrong, wrong keystore password",
        "no key entry, false, changeit, no private key entry",
    })
    void pkcs12ProblemsNameTheFile(String name, boolean withKey, String password, String problem) throws Exception {
        Path store = writePkcs12("changeit".toCharArray(), withKey);
        assertThatThrownBy(() -> KeyMaterial.fromPkcs12(store, password.toCharArray()))
                .isInstanceOf(TlsMaterialException.class)
                .hasMessageStartingWith(store + ": ")
                .hasMessageContaining(problem);
    }

    @Test
    void pkcs12MissingOrGarbage() throws Exception {
        Path missing = dir.resolve("none.p12");
        assertThatThrownBy(() -> KeyMaterial.fromPkcs12(missing, new char[0]))
                .hasMessage(missing + ": file does not exist");
        Path garbage = Files.writeString(dir.resolve("garbage.p12"), "garbage");
        assertThatThrownBy(() -> KeyMaterial.fromPkcs12(garbage, new char[0]))
                .hasMessageStartingWith(garbage + ": is not a readable PKCS#12 keystore");
    }

    @Test
    void pemEncodingRoundTrips() throws Exception {
        byte[] der = Fixtures.ec().leaf().getEncoded();
        Path file = Files.writeString(dir.resolve("round.crt"), PemFiles.encode("CERTIFICATE", der));
        assertThat(PemFiles.readCertificateChain(file).get(0).getEncoded()).isEqualTo(der);
        assertThat(Files.readAllLines(file)).allSatisfy(line -> assertThat(line.length()).isLessThanOrEqualTo(64));
    }

    private Path writePkcs12(char[] password, boolean withKey) throws Exception {
        KeyMaterial ec = Fixtures.ec();
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        if (withKey) {
            store.setKeyEntry("server", ec.key(), password, ec.chain().toArray(new java.security.cert.Certificate[0]));
        } else {
            store.setCertificateEntry("ca", ec.leaf());
        }
        Path file = dir.resolve("store.p12");
        try (OutputStream out = Files.newOutputStream(file)) {
            store.store(out, password);
        }
        return file;
    }

    /** The fast key check compares public halves where the key file carries one. */
    @ParameterizedTest(name = "{0} + {1} -> {2}")
    @CsvSource({
        "ec.crt,  ec-sec1.key,    true",
        "ec.crt,  leaf-pkcs8.key, false",
        "rsa.crt, rsa-pkcs1.key,  true",
    })
    void publicHalvesAreComparedWhenTheKeyCarriesThem(String cert, String key, boolean same) throws Exception {
        java.security.PublicKey certificateKey = PemFiles.readCertificateChain(Fixtures.resource(cert)).get(0).getPublicKey();
        assertThat(PemFiles.comparePublicHalves(PemFiles.readPrivateKey(Fixtures.resource(key)), certificateKey))
                .isEqualTo(same);
    }

    /** A SEC1 key written without its optional public point: the slow check decides, and still does. */
    @Test
    void anEcKeyWithoutItsPublicPointFallsBackToSigning() throws Exception {
        PrivateKeyBlock sec1 = PrivateKeyBlock.of(Fixtures.resource("ec-sec1.key"));
        List<Der.Tlv> fields = Der.readSingle(sec1.der()).children();
        byte[] withoutPoint = Der.encode(Der.SEQUENCE, Der.encode(fields.get(0)), Der.encode(fields.get(1)),
                Der.encode(fields.get(2)));
        Path keyFile = dir.resolve("no-point.key");
        Files.writeString(keyFile, PemFiles.encode("EC PRIVATE KEY", withoutPoint));
        java.security.PrivateKey key = PemFiles.readPrivateKey(keyFile);
        java.security.cert.X509Certificate leaf = PemFiles.readCertificateChain(Fixtures.resource("ec.crt")).get(0);

        assertThat(PemFiles.comparePublicHalves(key, leaf.getPublicKey())).isNull();
        PemFiles.checkKeyMatches(keyFile, key, leaf); // matches, by signing
        java.security.cert.X509Certificate other = PemFiles.readCertificateChain(Fixtures.resource("leaf-chain.crt")).get(0);
        assertThatThrownBy(() -> PemFiles.checkKeyMatches(keyFile, key, other))
                .hasMessageContaining("does not match the certificate's public key");
    }

    /** The DER of a file's EC PRIVATE KEY block (the fixture has an EC PARAMETERS block first). */
    private record PrivateKeyBlock(byte[] der) {
        static PrivateKeyBlock of(Path file) throws Exception {
            String text = Files.readString(file);
            String begin = "-----BEGIN EC PRIVATE KEY-----";
            int start = text.indexOf(begin) + begin.length();
            String base64 = text.substring(start, text.indexOf("-----END EC PRIVATE KEY-----")).replaceAll("\\s", "");
            return new PrivateKeyBlock(Base64.getDecoder().decode(base64));
        }
    }

    private Path place(String name, String source) throws Exception {
        Path target = dir.resolve(name);
        if (source.equals("missing")) {
            return target;
        }
        if (source.startsWith("fixture:")) {
            return Files.copy(Fixtures.resource(source.substring("fixture:".length())), target);
        }
        return Files.writeString(target, source.substring("text:".length()));
    }
}
