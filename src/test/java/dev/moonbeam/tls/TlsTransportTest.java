package dev.moonbeam.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

abstract class TlsTransportTest {
    abstract TestProvider provider();

    private static final byte[] REQUEST = "GET / HTTP/1.1\r\nHost: ec.test\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    @BeforeAll
    static void harden() {
        SslContexts.hardenJdkDefaults();
    }

    /** The configured TLS 1.2 suites, in the server's order, whichever name form the config used. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "ECDHE-ECDSA-CHACHA20-POLY1305, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    })
    void tls12UsesTheConfiguredSuite(String configured, String negotiated) throws Exception {
        List<KeyMaterial> certs = List.of(Fixtures.ec());
        TlsSettings settings = TlsSettings.defaults().withProtocols(List.of("TLSv1.2"))
                .withCipherSuites(List.of(configured, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"));
        TlsPair pair = new TlsPair(provider().create(certs, settings), certs, "TLSv1.2", "ec.test", 1 << 20);
        pair.pump();

        assertThat(pair.engine.state()).isEqualTo(TlsEngine.State.OPEN);
        assertThat(pair.engine.protocol()).isEqualTo("TLSv1.2");
        assertThat(pair.client.engine.getSession().getCipherSuite()).isEqualTo(negotiated);
        pair.transport.release();
    }

    @ParameterizedTest(name = "{0} with {1} key")
    @CsvSource({"TLSv1.3, ec.test, EC", "TLSv1.3, rsa.test, RSA", "TLSv1.2, ec.test, EC", "TLSv1.2, rsa.test, RSA"})
    void handshakeAndEchoForEachProtocolAndKeyType(String protocol, String sni, String keyAlgorithm) throws Exception {
        List<KeyMaterial> certs = List.of(Fixtures.ec(), Fixtures.rsa());
        TlsPair pair = new TlsPair(provider().create(certs, TlsSettings.defaults()), certs, protocol, sni, 1 << 20);
        pair.echoing = true;
        pair.client.send(REQUEST);
        pair.pump();

        assertThat(pair.serverError).isNull();
        assertThat(pair.engine.state()).isEqualTo(TlsEngine.State.OPEN);
        assertThat(pair.client.engine.getSession().getProtocol()).isEqualTo(protocol);
        assertThat(pair.client.engine.getApplicationProtocol()).isEqualTo("http/1.1");
        assertThat(pair.engine.applicationProtocol()).isEqualTo("http/1.1");
        assertThat(pair.client.engine.getSession().getPeerCertificates()[0].getPublicKey().getAlgorithm())
                .isEqualTo(keyAlgorithm);
        assertThat(pair.serverReceived.toByteArray()).isEqualTo(REQUEST);
        assertThat(pair.client.received.toByteArray()).isEqualTo(REQUEST);
        // Idle keep-alive: no bytes in flight, so no buffer held.
        assertThat(pair.pool.outstanding()).isZero();
        pair.transport.release();
        assertThat(pair.pool.outstanding()).isZero();
    }

    @ParameterizedTest(name = "{0} bytes per channel call")
    @ValueSource(ints = {1, 2, 3, 5, 7, 64, 1000, 4096, 16_384})
    void chunkingChannelPassesEveryChunkSize(int maxChunk) throws Exception {
        TlsPair pair = TlsPair.standard("TLSv1.3", maxChunk);
        pair.echoing = true;
        byte[] body = randomBytes(40_000, maxChunk);
        pair.client.send(body);
        pair.pump();

        assertThat(pair.serverError).isNull();
        assertThat(pair.client.received.size()).isEqualTo(body.length);
        assertThat(crc(pair.client.received.toByteArray())).isEqualTo(crc(body));
        assertThat(pair.pool.outstanding()).isZero();
        pair.transport.release();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void largeBodiesBothWaysKeepTheirChecksum(String protocol) throws Exception {
        TlsPair pair = TlsPair.standard(protocol, 64 * 1024);
        pair.echoing = true;
        byte[] body = randomBytes(4 << 20, 42);
        pair.client.send(body);
        pair.pump();

        assertThat(pair.serverError).isNull();
        assertThat(pair.serverReceived.size()).isEqualTo(body.length);
        assertThat(crc(pair.serverReceived.toByteArray())).isEqualTo(crc(body));
        assertThat(crc(pair.client.received.toByteArray())).isEqualTo(crc(body));
        assertThat(pair.pool.peakOutstanding()).isLessThanOrEqualTo(3);
        assertThat(pair.pool.outstanding()).isZero();
        pair.transport.release();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void clientCloseNotifyEndsTheStreamThenServerClosesToo(String protocol) throws Exception {
        TlsPair pair = TlsPair.standard(protocol, 1 << 20);
        pair.client.send(REQUEST);
        pair.pump();
        pair.client.closeOutbound();
        pair.pump();

        assertThat(pair.serverReceived.toByteArray()).isEqualTo(REQUEST);
        assertThat(pair.serverEof).as("read() returned -1 after close_notify").isTrue();
        assertThat(pair.serverError).isNull();
        pair.transport.shutdownOutput();
        pair.pump();
        assertThat(pair.engine.state()).isEqualTo(TlsEngine.State.CLOSED);
        assertThat(pair.client.engine.isInboundDone()).as("client saw our close_notify").isTrue();
        assertThat(pair.pool.outstanding()).isZero();
        pair.transport.release();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void serverCloseNotifyReachesTheClient(String protocol) throws Exception {
        TlsPair pair = TlsPair.standard(protocol, 1 << 20);
        pair.pump();
        assertThat(pair.engine.state()).isEqualTo(TlsEngine.State.OPEN);

        pair.transport.shutdownOutput();
        assertThat(pair.engine.state()).isEqualTo(TlsEngine.State.CLOSED);
        pair.pump();
        assertThat(pair.client.inboundClosed).isTrue();
        assertThat(pair.client.failure).isNull();
        pair.transport.release();
        assertThat(pair.pool.outstanding()).isZero();
    }

    @Test
    void writeAfterShutdownFails() throws Exception {
        TlsPair pair = TlsPair.standard("TLSv1.3", 1 << 20);
        pair.pump();
        pair.transport.shutdownOutput();
        org.assertj.core.api.Assertions.assertThatThrownBy(
                () -> pair.transport.write(java.nio.ByteBuffer.wrap(REQUEST))).isInstanceOf(SSLException.class);
        pair.transport.release();
        assertThat(pair.pool.outstanding()).isZero();
    }

    @Test
    void endOfStreamWithoutCloseNotifyIsEndOfInputAndLeaksNothing() throws Exception {
        TlsPair pair = TlsPair.standard("TLSv1.3", 1 << 20);
        pair.client.send(REQUEST);
        pair.pump();
        pair.channel.endOfInput();
        pair.pump();

        assertThat(pair.serverEof).isTrue();
        assertThat(pair.serverError).isNull();
        assertThat(pair.engine.inboundClosed()).isTrue();
        pair.transport.release();
        assertThat(pair.pool.outstanding()).isZero();
    }

    @Test
    void clientVanishingMidHandshakeFailsAndLeaksNothing() throws Exception {
        TlsPair pair = TlsPair.standard("TLSv1.3", 1 << 20);
        pair.client.step();
        byte[] hello = pair.client.takeOutput();
        pair.channel.offer(java.util.Arrays.copyOf(hello, hello.length / 2)); // half a ClientHello, then FIN
        pair.channel.endOfInput();
        pair.pump();

        assertThat(pair.serverError).isInstanceOf(SSLException.class).hasMessageContaining("TRUNCATED_HANDSHAKE");
        assertThat(pair.engine.failure()).isEqualTo(TlsEngine.Failure.TRUNCATED_HANDSHAKE);
        assertThat(pair.pool.outstanding()).isZero();
        pair.transport.release();
        assertThat(pair.pool.outstanding()).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "plain HTTP, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', NOT_TLS, true",
        "binary garbage, '\u0001\u0002garbage', NOT_TLS, false",
        "handshake type then garbage, '\u0016\u0003\u0001\u0000\u0005hello', HANDSHAKE, false",
    })
    void garbageInsteadOfClientHelloFailsCleanly(String name, String input, TlsEngine.Failure failure,
            boolean answers400) throws Exception {
        TlsPair pair = TlsPair.standard("TLSv1.3", 1 << 20);
        pair.channel.offer(input.getBytes(StandardCharsets.ISO_8859_1));
        pair.channel.endOfInput();
        java.nio.ByteBuffer dst = java.nio.ByteBuffer.allocate(1024);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> {
            for (int i = 0; i < 10; i++) {
                pair.transport.read(dst);
            }
        }).isInstanceOf(SSLException.class).hasMessageContaining(failure.name());

        assertThat(pair.engine.failure()).isEqualTo(failure);
        String written = new String(pair.channel.takeWritten(), StandardCharsets.ISO_8859_1);
        assertThat(written.startsWith("HTTP/1.1 400 ")).isEqualTo(answers400);
        assertThat(pair.transport.plainResponseSent()).isEqualTo(answers400);
        pair.transport.release();
        assertThat(pair.pool.outstanding()).isZero();
    }

    @ParameterizedTest(name = "SNI {0} -> {1}")
    @CsvSource({
        "ec.test, ec.test",
        "rsa.test, rsa.test",
        "RSA.TEST, rsa.test",
        "x.wild.test, ec.test",
        "unknown.test, localhost",
        ", localhost",
    })
    void sniSelectsTheCertificate(String sni, String expectedName) throws Exception {
        KeyMaterial localhost = GeneratedMaterial.ecLocalhost();
        List<KeyMaterial> certs = List.of(localhost, Fixtures.rsa(), Fixtures.ec());
        TlsPair pair = new TlsPair(provider().create(certs, TlsSettings.defaults()), certs, "TLSv1.3", sni, 1 << 20);
        pair.pump();

        assertThat(pair.client.failure).isNull();
        X509Certificate served = (X509Certificate) pair.client.engine.getSession().getPeerCertificates()[0];
        assertThat(KeyMaterial.hostNamesOf(null, served)).contains(expectedName);
        pair.transport.release();
        assertThat(pair.pool.outstanding()).isZero();
    }

    @Test
    void fullSocketKeepsHandshakeOutputAndAsksForWrite() throws Exception {
        TlsPair pair = TlsPair.standard("TLSv1.3", 1 << 20);
        pair.channel.full = true;
        pair.client.step();
        pair.channel.offer(pair.client.takeOutput());
        assertThat(pair.transport.read(java.nio.ByteBuffer.allocate(100))).isZero();
        assertThat(pair.transport.wantsWrite()).isTrue();
        assertThat(pair.transport.wantsRead()).isFalse();
        assertThat(pair.pool.outstanding()).isEqualTo(1);

        pair.channel.full = false;
        assertThat(pair.transport.flush()).isTrue();
        assertThat(pair.transport.wantsRead()).isTrue();
        pair.pump();
        assertThat(pair.engine.state()).isEqualTo(TlsEngine.State.OPEN);
        assertThat(pair.pool.outstanding()).isZero();
        pair.transport.release();
    }

    @Test
    void smallReadsDrainBufferedPlaintextWithoutTheSocket() throws Exception {
        TlsPair pair = TlsPair.standard("TLSv1.3", 1 << 20);
        pair.pump();
        byte[] first = randomBytes(5000, 1);
        byte[] second = randomBytes(5000, 2);
        pair.client.send(first);
        pair.client.step();
        pair.client.send(second);
        pair.client.step();
        pair.channel.offer(pair.client.takeOutput());

        java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
        java.nio.ByteBuffer small = java.nio.ByteBuffer.allocate(100);
        assertThat(pair.transport.hasBufferedInput()).isFalse();
        for (int i = 0; i < 1000; i++) {
            small.clear();
            int count = pair.transport.read(small);
            if (count == 0) {
                break;
            }
            got.write(small.array(), 0, count);
            assertThat(pair.channel.pending()).as("socket drained by the first read").isZero();
            assertThat(pair.transport.hasBufferedInput()).isEqualTo(got.size() < 10_000);
        }
        assertThat(got.size()).isEqualTo(10_000);
        assertThat(java.util.Arrays.copyOfRange(got.toByteArray(), 5000, 10_000)).isEqualTo(second);
        assertThat(pair.pool.outstanding()).isZero();
        pair.transport.release();
    }

    @Test
    void tls12SessionIsResumedOnTheNextConnection() throws Exception {
        List<KeyMaterial> certs = List.of(Fixtures.ec());
        ServerTls tls = provider().create(certs, TlsSettings.defaults());
        javax.net.ssl.SSLContext clientContext = Fixtures.clientTrusting(certs);
        TlsPair first = new TlsPair(tls, clientContext, "TLSv1.2", "ec.test", 1 << 20);
        first.pump();
        TlsPair second = new TlsPair(tls, clientContext, "TLSv1.2", "ec.test", 1 << 20);
        second.pump();

        assertThat(second.engine.state()).isEqualTo(TlsEngine.State.OPEN);
        byte[] firstId = first.client.engine.getSession().getId();
        assertThat(firstId).isNotEmpty();
        assertThat(second.client.engine.getSession().getId()).isEqualTo(firstId);
        first.transport.release();
        second.transport.release();
    }

    private static byte[] randomBytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static long crc(byte[] bytes) {
        CRC32 crc = new CRC32();
        crc.update(bytes);
        return crc.getValue();
    }
}
