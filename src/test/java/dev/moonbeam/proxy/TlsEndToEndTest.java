package dev.moonbeam.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.moonbeam.tls.KeyMaterial;
import dev.moonbeam.tls.TestProvider;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * TLS termination end to end: a real MoonBeam with an {@code ssl} section on a loopback port, JDK
 * (and, where installed, curl and openssl) clients, and in-test origins. Certificates are the
 * committed fixtures in src/test/resources/dev/moonbeam/tls (see its README.txt). Runs once per
 * provider ({@link JdkTlsEndToEndTest}, {@link NativeTlsEndToEndTest}).
 */
abstract class TlsEndToEndTest {
    abstract TestProvider provider();

    private static final Path CURL = Path.of("/usr/bin/curl");
    private static final Path OPENSSL = Path.of("/usr/bin/openssl");
    /** TLS record content types (RFC 8446 §5.1). */
    private static final int ALERT = 21;
    private static final int HANDSHAKE = 22;
    /** Alert description protocol_version (RFC 8446 §6.2). */
    private static final int PROTOCOL_VERSION = 70;
    private static final long STREAM_BYTES = 100L * 1024 * 1024;

    @TempDir
    Path dir;
    final List<AutoCloseable> resources = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    <T extends AutoCloseable> T track(T resource) {
        resources.add(resource);
        return resource;
    }

    // ---- handshakes, protocols, ALPN ----

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void modernHandshakeSucceedsAndAlpnPrefersH2ThenHttp11(String protocol) throws Exception {
        TestBackend backend = backend("a", TestBackend.named("a"));
        ProxyHarness proxy = tlsProxy(backend, "");
        try (TlsClient client = new TlsClient(proxy.port(), "ec.test", List.of(protocol), List.of("h2", "http/1.1"))) {
            assertThat(client.protocol()).isEqualTo(protocol);
            assertThat(client.applicationProtocol()).as("HTTP/2 is on by default with TLS").isEqualTo("h2");
        }
        try (TlsClient client = new TlsClient(proxy.port(), "ec.test", List.of(protocol), List.of("http/1.1"))) {
            assertThat(client.applicationProtocol()).isEqualTo("http/1.1");
            HttpMessage response = client.get("/hello");
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.bodyText()).isEqualTo("a");
            assertThat(response.header("X-Backend")).isEqualTo("a");
        }
    }

    @Test
    void withHttp2OffAlpnSelectsHttp11EvenWhenH2IsOffered() throws Exception {
        TestBackend backend = backend("a", TestBackend.named("a"));
        String ssl = pem(fixture("ec.crt"), fixture("ec-sec1.key"));
        ProxyHarness proxy = proxy(backend, "\"ssl\": " + ssl + ", \"http2\": {\"enabled\": false}");
        try (TlsClient client = new TlsClient(proxy.port(), "ec.test", TlsClient.MODERN, List.of("h2", "http/1.1"))) {
            assertThat(client.applicationProtocol()).isEqualTo("http/1.1");
            assertThat(client.get("/hello").status()).isEqualTo(200);
        }
    }

    @Test
    void clientWithoutAlpnIsServedToo() throws Exception {
        TestBackend backend = backend("a", TestBackend.named("a"));
        ProxyHarness proxy = tlsProxy(backend, "");
        try (TlsClient client = new TlsClient(proxy.port(), null, TlsClient.MODERN, List.of())) {
            assertThat(client.protocol()).isEqualTo("TLSv1.3");
            assertThat(client.applicationProtocol()).isEmpty();
            assertThat(client.get("/").bodyText()).isEqualTo("a");
        }
    }

    /**
     * The JDK client refuses to offer 1.0/1.1 at all (jdk.tls.disabledAlgorithms), so these hellos
     * are written by hand: a ClientHello whose highest version is the old one, without the 1.3
     * supported_versions extension.
     */
    @ParameterizedTest
    @CsvSource({"1, TLS 1.0", "2, TLS 1.1"})
    void legacyProtocolClientIsRefusedAndOthersAreStillServed(int minor, String name) throws Exception {
        TestBackend backend = backend("a", TestBackend.named("a"));
        ProxyHarness proxy = tlsProxy(backend, "");
        for (int attempt = 0; attempt < 3; attempt++) {
            try (Socket socket = rawSocket(proxy.port())) {
                socket.getOutputStream().write(legacyClientHello(minor));
                byte[] answer = readUntilClosed(socket);
                assertThat(answer).as(name + ": an alert, never a ServerHello").isNotEmpty();
                assertThat(answer[0] & 0xFF).as(name + ": record type").isEqualTo(ALERT);
                assertThat(answer[6] & 0xFF).as(name + ": alert description").isEqualTo(PROTOCOL_VERSION);
            }
        }
        try (TlsClient client = TlsClient.connect(proxy.port())) {
            assertThat(client.get("/").bodyText()).isEqualTo("a");
        }
        awaitNoLeaks(proxy);
    }

    @Test
    void serverRestrictedToTls12RefusesATls13OnlyClient() throws Exception {
        TestBackend backend = backend("a", TestBackend.named("a"));
        ProxyHarness proxy = tlsProxy(backend, ", \"protocols\": [\"TLSv1.2\"]");
        assertThatThrownBy(() -> new TlsClient(proxy.port(), null, List.of("TLSv1.3"), List.of()).close())
                .isInstanceOf(SSLHandshakeException.class);
        try (TlsClient client = TlsClient.connect(proxy.port())) {
            assertThat(client.protocol()).isEqualTo("TLSv1.2");
            assertThat(client.get("/").bodyText()).isEqualTo("a");
        }
        awaitNoLeaks(proxy);
    }

    // ---- SNI and key formats ----

    /** The first certificate in {@code ssl.certificates} is the default, whatever its key type. */
    @ParameterizedTest(name = "[{index}] {0} first, SNI {1}, {3} -> {2}")
    @CsvSource(nullValues = "none", value = {
            "ec,  ec.test,       ec.test,  TLSv1.3",
            "ec,  rsa.test,      rsa.test, TLSv1.3",
            "ec,  rsa.test,      rsa.test, TLSv1.2",
            "ec,  a.wild.test,   ec.test,  TLSv1.3",
            "ec,  none,          ec.test,  TLSv1.3",
            "ec,  unknown.test,  ec.test,  TLSv1.3",
            "rsa, ec.test,       ec.test,  TLSv1.3",
            "rsa, ec.test,       ec.test,  TLSv1.2",
            "rsa, rsa.test,      rsa.test, TLSv1.3",
    })
    void sniSelectsTheMatchingCertificateAndTheFirstIsTheDefault(String first, String sni, String expected,
                                                                 String protocol) throws Exception {
        assertServedCertificate(first, sni, expected, protocol);
    }

    @ParameterizedTest(name = "[{index}] {0} first, SNI {1}, {3} -> {2}")
    @CsvSource(nullValues = "none", value = {
            "rsa, none,          rsa.test, TLSv1.3",
            "rsa, none,          rsa.test, TLSv1.2",
            "rsa, unknown.test,  rsa.test, TLSv1.3",
    })
    void defaultCertificateIsTheFirstEvenWhenTheClientPrefersAnotherKeyType(String first, String sni, String expected,
                                                                           String protocol) throws Exception {
        assertServedCertificate(first, sni, expected, protocol);
    }

    private void assertServedCertificate(String first, String sni, String expected, String protocol) throws Exception {
        TestBackend backend = backend("a", TestBackend.named("a"));
        String ec = pem(fixture("ec.crt"), fixture("ec-sec1.key"));
        String rsa = pem(fixture("rsa.crt"), fixture("rsa-pkcs1.key"));
        String list = first.equals("ec") ? ec + ", " + rsa : rsa + ", " + ec;
        ProxyHarness proxy = proxy(backend, "\"ssl\": {\"certificates\": [" + list + "]}");
        TlsClient.forgetSessions();
        try (TlsClient client = new TlsClient(proxy.port(), sni, List.of(protocol), List.of("http/1.1"))) {
            X509Certificate peer = client.peerCertificate();
            assertThat(peer.getSubjectX500Principal().getName()).isEqualTo("CN=" + expected);
            assertThat(dnsNames(peer)).contains(expected);
            assertThat(client.get("/").bodyText()).isEqualTo("a");
        }
    }

    @ParameterizedTest(name = "[{index}] {0} over {1}")
    @CsvSource({
            "rsa-pkcs1,  TLSv1.3", "rsa-pkcs1,  TLSv1.2",
            "rsa-pkcs8,  TLSv1.3", "rsa-pkcs8,  TLSv1.2",
            "ec-sec1,    TLSv1.3", "ec-sec1,    TLSv1.2",
            "ec-pkcs8,   TLSv1.3", "ec-pkcs8,   TLSv1.2",
            "rsa-pkcs12, TLSv1.3", "rsa-pkcs12, TLSv1.2",
            "ec-pkcs12,  TLSv1.3", "ec-pkcs12,  TLSv1.2",
    })
    void rsaAndEcKeysWorkInEveryFormat(String form, String protocol) throws Exception {
        TestBackend backend = backend("a", TestBackend.named("a"));
        String ssl = switch (form) {
            case "rsa-pkcs1" -> pem(fixture("rsa.crt"), fixture("rsa-pkcs1.key"));
            case "rsa-pkcs8" -> pem(fixture("rsa.crt"), pkcs8(fixture("rsa.crt"), fixture("rsa-pkcs1.key")));
            case "ec-sec1" -> pem(fixture("ec.crt"), fixture("ec-sec1.key"));
            case "ec-pkcs8" -> pem(fixture("leaf-chain.crt"), fixture("leaf-pkcs8.key"));
            case "rsa-pkcs12" -> pkcs12(fixture("rsa.crt"), fixture("rsa-pkcs1.key"));
            case "ec-pkcs12" -> pkcs12(fixture("leaf-chain.crt"), fixture("leaf-pkcs8.key"));
            default -> throw new IllegalArgumentException(form);
        };
        ProxyHarness proxy = proxy(backend, "\"ssl\": " + ssl);
        try (TlsClient client = new TlsClient(proxy.port(), null, List.of(protocol), List.of("http/1.1"))) {
            assertThat(client.protocol()).isEqualTo(protocol);
            X509Certificate peer = client.peerCertificate();
            assertThat(peer.getPublicKey().getAlgorithm()).isEqualTo(form.startsWith("rsa") ? "RSA" : "EC");
            if (form.equals("ec-pkcs8") || form.equals("ec-pkcs12")) {
                // The full chain is served: leaf, then the test CA.
                assertThat(client.socket.getSession().getPeerCertificates()).hasSize(2);
            }
            assertThat(client.get("/").bodyText()).isEqualTo("a");
        }
    }

    // ---- HTTP over TLS ----

    @Test
    void keepAliveReusesOneBackendConnection() throws Exception {
        TestBackend backend = backend("a", (request, in, out, socket) -> TestBackend.respond(out, 200, request.target()));
        ProxyHarness proxy = tlsProxy(backend, "");
        for (int c = 0; c < 3; c++) {
            try (TlsClient client = TlsClient.connect(proxy.port())) {
                for (int r = 0; r < 10; r++) {
                    assertThat(client.get("/c" + c + "r" + r).bodyText()).isEqualTo("/c" + c + "r" + r);
                }
            }
        }
        assertThat(backend.requests.get()).isEqualTo(30);
        assertThat(backend.accepted.get()).isEqualTo(1);
    }

    @Test
    void pipelinedRequestsOverTlsAreAnsweredInOrder() throws Exception {
        TestBackend backend = backend("a", (request, in, out, socket) -> {
            if (request.target().equals("/slow")) {
                ProxyEndToEndTest.sleep(150);
            }
            TestBackend.respond(out, 200, request.target());
        });
        ProxyHarness proxy = tlsProxy(backend, "");
        try (TlsClient client = TlsClient.connect(proxy.port())) {
            StringBuilder batch = new StringBuilder();
            List<String> targets = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                targets.add(i % 7 == 0 ? "/slow" : "/" + i);
            }
            for (String target : targets) {
                batch.append("GET ").append(target).append(" HTTP/1.1\r\nHost: t\r\n\r\n");
            }
            client.send(batch.toString()); // one write: several requests in one TLS record
            for (String target : targets) {
                assertThat(client.response().bodyText()).isEqualTo(target);
            }
        }
        assertThat(backend.accepted.get()).isEqualTo(1);
    }

    @Test
    void forwardedProtoIsHttps() throws Exception {
        TestBackend backend = backend("a", TestBackend.named("a"));
        ProxyHarness proxy = tlsProxy(backend, "");
        try (TlsClient client = TlsClient.connect(proxy.port())) {
            client.send("GET / HTTP/1.1\r\nHost: example.com\r\nX-Forwarded-Proto: http\r\n\r\n");
            assertThat(client.response().status()).isEqualTo(200);
        }
        HttpMessage forwarded = backend.received.peek();
        assertThat(forwarded.headerValues("X-Forwarded-Proto")).containsExactly("https");
        assertThat(forwarded.header("X-Forwarded-For")).isEqualTo("127.0.0.1");
        assertThat(forwarded.header("X-Forwarded-Host")).isEqualTo("example.com");
    }

    @Test
    void hundredMebibytesEachWayWithChecksums() throws Exception {
        try (ServerSocket origin = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread server = new Thread(() -> StreamingTest.serve(origin, STREAM_BYTES), "tls-stream-origin");
            server.setDaemon(true);
            server.start();
            ProxyHarness proxy = track(start(1, "[\"127.0.0.1:" + origin.getLocalPort() + "\"]",
                    "\"ssl\": " + pem(fixture("ec.crt"), fixture("ec-sec1.key"))));
            String want = StreamingTest.patternDigest(STREAM_BYTES);
            long start = System.nanoTime();
            try (TlsClient client = TlsClient.connect(proxy.port())) {
                client.raw.setSoTimeout(60_000);
                client.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: " + STREAM_BYTES + "\r\n\r\n");
                StreamingTest.Pattern pattern = new StreamingTest.Pattern();
                for (long left = STREAM_BYTES; left > 0; left -= 65536) {
                    client.out.write(pattern.next(), 0, (int) Math.min(65536, left));
                }
                client.out.flush();
                assertThat(client.response().bodyText()).as("upload checksum").isEqualTo(want);

                client.send("GET /download HTTP/1.1\r\nHost: t\r\n\r\n");
                assertThat(HttpMessage.readLine(client.in, false)).startsWith("HTTP/1.1 200");
                while (!HttpMessage.readLine(client.in, false).isEmpty()) {
                    // headers
                }
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                byte[] buffer = new byte[65536];
                for (long left = STREAM_BYTES; left > 0; ) {
                    int n = client.in.read(buffer, 0, (int) Math.min(buffer.length, left));
                    assertThat(n).as("download truncated with %d bytes left", left).isPositive();
                    md.update(buffer, 0, n);
                    left -= n;
                }
                assertThat(StreamingTest.digest(md)).as("download checksum").isEqualTo(want);
            }
            Worker worker = proxy.proxy.workers().get(0);
            int peak = onLoop(proxy, () -> worker.loop().buffers().peakOutstanding() + worker.tlsBuffers(false).peakOutstanding() + worker.tlsBuffers(true).peakOutstanding()
                    + worker.tlsOutBuffers(false).peakOutstanding() + worker.tlsOutBuffers(true).peakOutstanding());
            System.out.printf("TLS: 100 MiB up and down in %d ms; proxy buffers peak %d%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), peak);
            assertThat(peak).as("buffers are bounded, never the body").isLessThanOrEqualTo(10);
            awaitNoLeaks(proxy);
        }
    }

    @Test
    void requestWrittenOneByteRecordAtATimeArrives() throws Exception {
        TestBackend backend = backend("a", ProxyEndToEndTest.ECHO);
        ProxyHarness proxy = tlsProxy(backend, "");
        try (TlsClient client = TlsClient.connect(proxy.port())) {
            byte[] request = "POST /bytes HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world"
                    .getBytes(StandardCharsets.US_ASCII);
            for (byte b : request) {
                client.out.write(b); // the JDK makes each write its own TLS record
                client.out.flush();
            }
            HttpMessage response = client.response();
            assertThat(response.header("X-Target")).isEqualTo("/bytes");
            assertThat(response.bodyText()).isEqualTo("hello world");
            assertThat(client.get("/after").status()).isEqualTo(200);
        }
        awaitNoLeaks(proxy);
    }

    @Test
    void tls13KeyUpdateFromTheClientIsAccepted() throws Exception {
        TestBackend backend = backend("a", TestBackend.named("a"));
        ProxyHarness proxy = tlsProxy(backend, "");
        try (TlsClient client = new TlsClient(proxy.port(), null, List.of("TLSv1.3"), List.of("http/1.1"))) {
            assertThat(client.get("/1").bodyText()).isEqualTo("a");
            for (int i = 0; i < 3; i++) {
                client.socket.startHandshake(); // on TLS 1.3 the JDK sends a KeyUpdate (RFC 8446 §4.6.3)
                assertThat(client.get("/k" + i).bodyText()).isEqualTo("a");
            }
        }
        awaitNoLeaks(proxy);
    }

    @Test
    void tls12RenegotiationIsRefusedAndLeaksNothing() throws Exception {
        TestBackend backend = backend("a", TestBackend.named("a"));
        ProxyHarness proxy = tlsProxy(backend, "");
        try (TlsClient client = new TlsClient(proxy.port(), null, List.of("TLSv1.2"), List.of("http/1.1"))) {
            assertThat(client.get("/1").bodyText()).isEqualTo("a");
            boolean refused;
            try {
                client.socket.startHandshake();
                client.get("/2");
                refused = false;
            } catch (IOException e) {
                refused = true;
            }
            assertThat(refused).as("renegotiation refused").isTrue();
        }
        awaitNoLeaks(proxy);
        try (TlsClient client = TlsClient.connect(proxy.port())) {
            assertThat(client.get("/").bodyText()).isEqualTo("a");
        }
    }

    @Test
    void tls12SessionIsResumed() throws Exception {
        TestBackend backend = backend("a", TestBackend.named("a"));
        ProxyHarness proxy = tlsProxy(backend, "");
        javax.net.ssl.SSLSession first;
        try (TlsClient client = new TlsClient(proxy.port(), null, List.of("TLSv1.2"), List.of("http/1.1"))) {
            assertThat(client.get("/1").bodyText()).isEqualTo("a");
            first = client.socket.getSession();
        }
        try (TlsClient client = new TlsClient(proxy.port(), null, List.of("TLSv1.2"), List.of("http/1.1"))) {
            assertThat(client.get("/2").bodyText()).isEqualTo("a");
            assertThat(client.socket.getSession().getCreationTime()).as("resumed session").isEqualTo(first.getCreationTime());
        }
    }

    /** Resumption must work whichever loop the next connection lands on: tickets and cache are process-wide. */
    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void sessionsResumeAcrossLoops(String protocol) throws Exception {
        TestBackend backend = backend("a", TestBackend.named("a"));
        ProxyHarness proxy = track(start(2, "[\"" + backend.address() + "\"]",
                "\"ssl\": " + pem(fixture("ec.crt"), fixture("ec-sec1.key"))));
        javax.net.ssl.SSLContext context = TlsClient.newTrustAllContext(); // one client-side session cache
        long firstCreated;
        try (TlsClient client = new TlsClient(context, proxy.port(), null, List.of(protocol), List.of("http/1.1"))) {
            assertThat(client.get("/").bodyText()).isEqualTo("a");
            firstCreated = client.socket.getSession().getCreationTime();
        }
        int resumed = 0;
        int connections = 0;
        // SO_REUSEPORT spreads these over both loops by a hash of the client port: at least 8, and
        // on until both loops have had some (8 alone all land on one loop once in 128 runs).
        while (connections < 8 || loopsUsed(proxy) < 2 && connections < 64) {
            try (TlsClient client = new TlsClient(context, proxy.port(), null, List.of(protocol), List.of("http/1.1"))) {
                assertThat(client.get("/").bodyText()).isEqualTo("a");
                resumed += client.socket.getSession().getCreationTime() == firstCreated ? 1 : 0;
            }
            connections++;
        }
        assertThat(loopsUsed(proxy)).as("handshakes landed on both loops").isEqualTo(2);
        assertThat(resumed).as("later connections resumed the first session").isEqualTo(connections);
        awaitNoLeaks(proxy);
    }

    private static int loopsUsed(ProxyHarness proxy) {
        int loopsUsed = 0;
        for (Worker worker : proxy.proxy.workers()) {
            loopsUsed += worker.tlsHandshakes() > 0 ? 1 : 0;
        }
        return loopsUsed;
    }

    /** A reload's new certificate serves new connections; the old context is freed when its last connection closes. */
    @Test
    void reloadRetiresTheOldTlsContextOnceItsConnectionsClose() throws Exception {
        TestBackend backend = backend("a", TestBackend.named("a"));
        ProxyHarness proxy = tlsProxy(backend, "");
        dev.moonbeam.tls.ServerTls before = proxy.proxy.settings().tls();
        try (TlsClient old = TlsClient.connect(proxy.port())) {
            assertThat(old.get("/").bodyText()).isEqualTo("a");
            Path file = dir.resolve("proxy_config.json");
            Files.writeString(file, Files.readString(file).replace(fixture("ec.crt").toString(), fixture("rsa.crt").toString())
                    .replace(fixture("ec-sec1.key").toString(), fixture("rsa-pkcs1.key").toString()));
            assertThat(proxy.proxy.reload(new dev.moonbeam.config.ConfigLoader(dir, null).load(file))).isEmpty();
            try (TlsClient fresh = TlsClient.connect(proxy.port())) {
                assertThat(fresh.get("/").bodyText()).isEqualTo("a");
                assertThat(fresh.socket.getSession().getPeerCertificates()[0].getPublicKey().getAlgorithm()).isEqualTo("RSA");
            }
            assertThat(old.get("/again").bodyText()).as("the old connection is untouched").isEqualTo("a");
            assertThat(before.released()).as("still serving one connection").isFalse();
        }
        for (int i = 0; i < 250 && !before.released(); i++) {
            ProxyEndToEndTest.sleep(20);
        }
        assertThat(before.released()).as("old context freed after its last connection").isTrue();
        awaitNoLeaks(proxy);
    }

    /** Stopping the proxy frees every session and then the context, open keep-alive connections included. */
    @Test
    void shutdownFreesEverySessionAndTheContext() throws Exception {
        TestBackend backend = backend("a", TestBackend.named("a"));
        ProxyHarness proxy = tlsProxy(backend, "");
        dev.moonbeam.tls.ServerTls tls = proxy.proxy.settings().tls();
        try (TlsClient idle = TlsClient.connect(proxy.port());
             Socket midHandshake = rawSocket(proxy.port())) {
            assertThat(idle.get("/").bodyText()).isEqualTo("a");
            byte[] hello = modernClientHello(proxy.port());
            midHandshake.getOutputStream().write(hello, 0, hello.length / 2);
            for (int i = 0; i < 250 && tls.liveSessions() < 2; i++) {
                ProxyEndToEndTest.sleep(20);
            }
            assertThat(tls.liveSessions()).isEqualTo(2);
            proxy.proxy.close();
            assertThat(tls.liveSessions()).isZero();
            assertThat(tls.released()).isTrue();
        }
    }

    @Test
    void expectContinueOverTls() throws Exception {
        TestBackend backend = backend("a", (request, in, out, socket) -> TestBackend.respond(out, 200, "got " + request.bodyText()));
        ProxyHarness proxy = tlsProxy(backend, "");
        try (TlsClient client = TlsClient.connect(proxy.port())) {
            client.send("POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n").send("hello");
            HttpMessage response = client.response();
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.bodyText()).isEqualTo("got hello");
        }
    }

    @Test
    void manyConcurrentTlsClientsOnTwoLoops() throws Exception {
        TestBackend backend = backend("a", ProxyEndToEndTest.ECHO);
        ProxyHarness proxy = track(start(2, "[\"" + backend.address() + "\"]",
                "\"ssl\": " + pem(fixture("ec.crt"), fixture("ec-sec1.key"))));
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(16);
        try {
            List<java.util.concurrent.Future<Boolean>> results = new ArrayList<>();
            for (int c = 0; c < 200; c++) {
                int id = c;
                results.add(pool.submit(() -> {
                    try (TlsClient client = TlsClient.connect(proxy.port())) {
                        for (int r = 0; r < 3; r++) {
                            String body = id + "-" + r;
                            client.send("POST /c HTTP/1.1\r\nHost: t\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
                            if (!client.response().bodyText().equals(body)) {
                                return false;
                            }
                        }
                        return true;
                    }
                }));
            }
            for (java.util.concurrent.Future<Boolean> result : results) {
                assertThat(result.get(30, TimeUnit.SECONDS)).isTrue();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(backend.requests.get()).isEqualTo(600);
    }

    // ---- hostile and broken clients ----

    @Test
    void plainHttpToTheTlsPortGets400AndOthersAreStillServed() throws Exception {
        TestBackend backend = backend("a", TestBackend.named("a"));
        ProxyHarness proxy = tlsProxy(backend, "");
        for (int i = 0; i < 3; i++) {
            try (Socket socket = rawSocket(proxy.port())) {
                socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: t\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                String answer = new String(readUntilClosed(socket), StandardCharsets.US_ASCII);
                assertThat(answer).startsWith("HTTP/1.1 400 ");
                assertThat(answer).contains("Connection: close");
            }
        }
        try (TlsClient client = TlsClient.connect(proxy.port())) {
            assertThat(client.get("/").bodyText()).isEqualTo("a");
        }
        assertThat(backend.requests.get()).isEqualTo(1);
        awaitNoLeaks(proxy);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f",            // binary, not a record
            "ff ff ff ff ff ff ff ff",                                      // binary, not a record
            "16 03 01 00 05 ff ff ff ff ff",                                // a handshake record of garbage
            "16 03 01 ff ff 01",                                            // oversized record header
            "16 03 03 00 04 01 00 00 00",                                   // empty ClientHello body
            "17 03 03 00 05 01 02 03 04 05",                                // application data before a handshake
            "15 03 03 00 02 02 28",                                         // a fatal alert first
    })
    void garbageClosesTheConnectionAndOthersAreStillServed(String hex) throws Exception {
        TestBackend backend = backend("a", TestBackend.named("a"));
        ProxyHarness proxy = tlsProxy(backend, "");
        try (Socket socket = rawSocket(proxy.port())) {
            socket.getOutputStream().write(hex(hex));
            byte[] answer = readUntilClosed(socket);
            if (answer.length > 0) {
                assertThat(answer[0] & 0xFF).as("only an alert may come back").isEqualTo(ALERT);
            }
        }
        try (TlsClient client = TlsClient.connect(proxy.port())) {
            assertThat(client.get("/").bodyText()).isEqualTo("a");
        }
        assertThat(backend.requests.get()).isEqualTo(1);
        awaitNoLeaks(proxy);
    }

    @ParameterizedTest
    @ValueSource(strings = {"nothing", "half-hello", "whole-hello", "whole-hello-rst"})
    void clientVanishingMidHandshakeLeaksNothing(String how) throws Exception {
        TestBackend backend = backend("a", TestBackend.named("a"));
        ProxyHarness proxy = tlsProxy(backend, "");
        byte[] hello = modernClientHello(proxy.port());
        for (int i = 0; i < 5; i++) {
            Socket socket = rawSocket(proxy.port());
            switch (how) {
                case "nothing" -> { }
                case "half-hello" -> socket.getOutputStream().write(hello, 0, hello.length / 2);
                case "whole-hello", "whole-hello-rst" -> socket.getOutputStream().write(hello);
                default -> throw new IllegalArgumentException(how);
            }
            if (how.endsWith("rst")) {
                ProxyEndToEndTest.sleep(50); // the server flight is on its way
                socket.setSoLinger(true, 0);
            }
            socket.close();
        }
        awaitNoLeaks(proxy);
        try (TlsClient client = TlsClient.connect(proxy.port())) {
            assertThat(client.get("/").bodyText()).isEqualTo("a");
        }
        awaitNoLeaks(proxy);
    }

    @ParameterizedTest
    @ValueSource(strings = {"idle", "half-request", "mid-response", "after-request-fin"})
    void clientClosingWithoutCloseNotifyLeaksNothing(String when) throws Exception {
        TestBackend backend = backend("a", (request, in, out, socket) -> {
            if (request.target().equals("/big")) {
                TestBackend.respond(out, 200, new byte[8 << 20]);
            } else {
                TestBackend.respond(out, 200, "a");
            }
        });
        ProxyHarness proxy = tlsProxy(backend, "");
        for (int i = 0; i < 3; i++) {
            TlsClient client = TlsClient.connect(proxy.port());
            assertThat(client.get("/").bodyText()).isEqualTo("a");
            switch (when) {
                case "idle" -> client.vanish();
                case "half-request" -> {
                    client.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc");
                    ProxyEndToEndTest.sleep(50);
                    client.vanish();
                }
                case "mid-response" -> {
                    client.send("GET /big HTTP/1.1\r\nHost: t\r\n\r\n");
                    client.in.readNBytes(100_000);
                    client.vanish();
                }
                case "after-request-fin" -> {
                    client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
                    client.raw.close(); // FIN, no close_notify
                }
                default -> throw new IllegalArgumentException(when);
            }
        }
        awaitNoLeaks(proxy);
        try (TlsClient client = TlsClient.connect(proxy.port())) {
            assertThat(client.get("/").bodyText()).isEqualTo("a");
        }
    }

    /** TLS 1.3 allows half-close (RFC 8446 §6.1): close_notify after the request still gets the answer. */
    @Test
    void tls13HalfCloseAfterTheRequestStillGetsTheResponse() throws Exception {
        TestBackend backend = backend("a", TestBackend.named("a"));
        ProxyHarness proxy = tlsProxy(backend, "");
        try (TlsClient client = new TlsClient(proxy.port(), null, List.of("TLSv1.3"), List.of("http/1.1"))) {
            client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
            client.socket.shutdownOutput(); // close_notify; reading goes on
            HttpMessage response = client.response();
            assertThat(response).isNotNull();
            assertThat(response.bodyText()).isEqualTo("a");
            assertThat(client.isClosedByPeer()).isTrue();
        }
        awaitNoLeaks(proxy);
    }

    @Test
    void orderlyCloseWithCloseNotifyLeaksNothing() throws Exception {
        TestBackend backend = backend("a", TestBackend.named("a"));
        ProxyHarness proxy = tlsProxy(backend, "");
        for (int i = 0; i < 5; i++) {
            try (TlsClient client = TlsClient.connect(proxy.port())) {
                assertThat(client.get("/").bodyText()).isEqualTo("a");
            }
        }
        awaitNoLeaks(proxy);
    }

    @ParameterizedTest
    @ValueSource(strings = {"nothing", "half-hello"})
    void stalledHandshakeIsClosedByTheDeadline(String sends) throws Exception {
        TestBackend backend = backend("a", TestBackend.named("a"));
        ProxyHarness proxy = proxy(backend, "\"timeouts\": {\"tls_handshake\": \"300ms\"}, \"ssl\": "
                + pem(fixture("ec.crt"), fixture("ec-sec1.key")));
        try (Socket socket = rawSocket(proxy.port())) {
            long start = System.nanoTime();
            if (sends.equals("half-hello")) {
                byte[] hello = modernClientHello(proxy.port());
                socket.getOutputStream().write(hello, 0, hello.length / 2);
            }
            byte[] answer = readUntilClosed(socket);
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(millis).as("closed after the 300 ms deadline, within ~1 s").isBetween(250L, 1200L);
            if (answer.length > 0) {
                assertThat(answer[0] & 0xFF).isEqualTo(ALERT);
            }
        }
        awaitNoLeaks(proxy);
        // A prompt client is not affected by the short deadline.
        try (TlsClient client = TlsClient.connect(proxy.port())) {
            ProxyEndToEndTest.sleep(500);
            assertThat(client.get("/").bodyText()).isEqualTo("a");
        }
    }

    // ---- real-world clients ----

    @Test
    void curlGetsTheBackendsAnswer() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(CURL), "curl not installed: skipped");
        TestBackend backend = backend("a", TestBackend.named("curl-ok"));
        ProxyHarness proxy = tlsProxy(backend, "");
        Run run = run(CURL.toString(), "-sk", "--max-time", "10", "-w", "\\n%{http_code} %{http_version}",
                "https://127.0.0.1:" + proxy.port() + "/");
        assertThat(run.exitCode).as(run.output).isZero();
        assertThat(run.output).as("curl picks HTTP/2 when the proxy offers it").isEqualTo("curl-ok\n200 2");
        Run http11 = run(CURL.toString(), "-sk", "--http1.1", "--max-time", "10", "-w", "\\n%{http_code} %{http_version}",
                "https://127.0.0.1:" + proxy.port() + "/");
        assertThat(http11.output).isEqualTo("curl-ok\n200 1.1");
        assertThat(backend.received.peek().header("X-Forwarded-Proto")).isEqualTo("https");
    }

    @Test
    void opensslSClientTls13AndTls12SucceedTls11AndTls10AreRefused() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(OPENSSL), "openssl not installed: skipped");
        TestBackend backend = backend("a", TestBackend.named("a"));
        ProxyHarness proxy = tlsProxy(backend, "");
        String connect = "127.0.0.1:" + proxy.port();
        Run tls13 = run(OPENSSL.toString(), "s_client", "-connect", connect, "-tls1_3", "-servername", "ec.test");
        assertThat(tls13.exitCode).as(tls13.output).isZero();
        assertThat(tls13.output).contains("New, TLSv1.3, Cipher is").contains("ALPN").doesNotContain("alert");
        Run tls12 = run(OPENSSL.toString(), "s_client", "-connect", connect, "-tls1_2", "-alpn", "http/1.1");
        assertThat(tls12.exitCode).as(tls12.output).isZero();
        assertThat(tls12.output).contains("Protocol  : TLSv1.2").contains("ALPN protocol: http/1.1");
        // SECLEVEL=0 lets OpenSSL 3 offer 1.0/1.1 at all, so the refusal is the proxy's.
        for (String old : new String[] {"-tls1_1", "-tls1"}) {
            Run refused = run(OPENSSL.toString(), "s_client", "-connect", connect, old, "-cipher", "DEFAULT@SECLEVEL=0");
            assertThat(refused.exitCode).as(refused.output).isNotZero();
            assertThat(refused.output).as(old).contains("alert protocol version");
        }
        try (TlsClient client = TlsClient.connect(proxy.port())) {
            assertThat(client.get("/").bodyText()).isEqualTo("a");
        }
        awaitNoLeaks(proxy);
    }

    // ---- helpers ----

    TestBackend backend(String name, TestBackend.Handler handler) throws IOException {
        return track(new TestBackend(name, handler));
    }

    ProxyHarness proxy(TestBackend backend, String extraJson) throws Exception {
        return track(start(1, "[\"" + backend.address() + "\"]", extraJson));
    }

    /** Starts the proxy with {@code ssl.provider} set to this run's provider, and checks it is the one serving. */
    ProxyHarness start(int threads, String backendsJson, String extraJson) throws Exception {
        provider().assumeAvailable();
        String json = extraJson.replaceFirst("\"ssl\": \\{",
                "\"ssl\": {\"provider\": \"" + provider().configName() + "\", ");
        ProxyHarness harness = ProxyHarness.start(dir, threads, backendsJson, json);
        if (harness.proxy.settings().tls() != null) {
            assertThat(harness.proxy.settings().tls().provider().name()).isEqualTo(provider().configName());
        }
        return harness;
    }

    /** One EC certificate (ec.test); {@code moreSsl} adds members to the ssl object, e.g. {@code , "protocols": [...]}. */
    ProxyHarness tlsProxy(TestBackend backend, String moreSsl) throws Exception {
        String ssl = pem(fixture("ec.crt"), fixture("ec-sec1.key"));
        return proxy(backend, "\"ssl\": " + ssl.substring(0, ssl.length() - 1) + moreSsl + "}");
    }

    static Path fixture(String name) {
        try {
            return Path.of(TlsEndToEndTest.class.getResource("/dev/moonbeam/tls/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("missing test resource " + name, e);
        }
    }

    static String pem(Path cert, Path key) {
        return "{\"cert_file\": \"" + cert + "\", \"key_file\": \"" + key + "\"}";
    }

    /** The key re-encoded as unencrypted PKCS#8 PEM (BEGIN PRIVATE KEY). */
    Path pkcs8(Path cert, Path key) throws Exception {
        byte[] der = KeyMaterial.fromPem(cert, key).key().getEncoded();
        Path file = dir.resolve(key.getFileName() + ".pkcs8.key");
        Files.writeString(file, "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END PRIVATE KEY-----\n");
        return file;
    }

    /** A PKCS#12 keystore holding the key and chain; returns the ssl object naming it. */
    String pkcs12(Path cert, Path key) throws Exception {
        KeyMaterial material = KeyMaterial.fromPem(cert, key);
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        char[] password = "s3cret".toCharArray();
        store.setKeyEntry("server", material.key(), password, material.chain().toArray(new X509Certificate[0]));
        Path file = dir.resolve(key.getFileName() + ".p12");
        try (OutputStream out = Files.newOutputStream(file)) {
            store.store(out, password);
        }
        return "{\"keystore_file\": \"" + file + "\", \"keystore_password\": \"s3cret\"}";
    }

    static List<String> dnsNames(X509Certificate certificate) throws Exception {
        List<String> names = new ArrayList<>();
        if (certificate.getSubjectAlternativeNames() != null) {
            for (List<?> entry : certificate.getSubjectAlternativeNames()) {
                if (Integer.valueOf(2).equals(entry.get(0))) {
                    names.add((String) entry.get(1));
                }
            }
        }
        return names;
    }

    static Socket rawSocket(int port) throws IOException {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout(5_000);
        socket.setTcpNoDelay(true);
        return socket;
    }

    /** Everything the proxy sends until it closes (EOF or reset); fails if it is still open after 5 s. */
    static byte[] readUntilClosed(Socket socket) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[4096];
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        try {
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                all.write(buffer, 0, n);
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("connection still open after 5 s");
                }
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the proxy did not close the connection within 5 s", e);
        } catch (IOException reset) {
            // a reset is a close too
        }
        return all.toByteArray();
    }

    static byte[] hex(String text) {
        String[] parts = text.trim().split("\\s+");
        byte[] bytes = new byte[parts.length];
        for (int i = 0; i < parts.length; i++) {
            bytes[i] = (byte) Integer.parseInt(parts[i], 16);
        }
        return bytes;
    }

    /**
     * A ClientHello offering only TLS 1.{minor - 1} (RFC 2246 / RFC 4346 layout): legacy CBC and
     * ECDHE suites, the P-256 group, uncompressed points; no supported_versions extension.
     */
    static byte[] legacyClientHello(int minor) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(3);
        body.write(minor);
        body.writeBytes(new byte[32]); // random
        body.write(0); // session id
        byte[] suites = hex("c0 13 c0 14 c0 09 c0 0a 00 2f 00 35");
        body.write(0);
        body.write(suites.length);
        body.writeBytes(suites);
        body.writeBytes(hex("01 00")); // compression: null
        byte[] extensions = hex("00 0a 00 04 00 02 00 17  00 0b 00 02 01 00");
        body.write(0);
        body.write(extensions.length);
        body.writeBytes(extensions);
        byte[] hello = body.toByteArray();
        ByteArrayOutputStream record = new ByteArrayOutputStream();
        record.writeBytes(new byte[] {HANDSHAKE, 3, 1, 0, (byte) (hello.length + 4)});
        record.writeBytes(new byte[] {1, 0, 0, (byte) hello.length});
        record.writeBytes(hello);
        return record.toByteArray();
    }

    /** A genuine JDK ClientHello (TLS 1.3 and 1.2), taken from a client engine's first flight. */
    static byte[] modernClientHello(int port) throws Exception {
        javax.net.ssl.SSLEngine engine = TlsClient.TRUST_ALL.createSSLEngine("127.0.0.1", port);
        engine.setUseClientMode(true);
        java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        engine.wrap(java.nio.ByteBuffer.allocate(0), out);
        out.flip();
        byte[] hello = new byte[out.remaining()];
        out.get(hello);
        return hello;
    }

    /** Reads a value on the loop's own thread (the loop's fields are not safe to read from here). */
    static int onLoop(ProxyHarness proxy, IntSupplier query) throws Exception {
        CompletableFuture<Integer> result = new CompletableFuture<>();
        proxy.proxy.workers().get(0).loop().execute(() -> result.complete(query.getAsInt()));
        return result.get(5, TimeUnit.SECONDS);
    }

    /**
     * Pooled buffers all returned, no client connection left open and every TLS session freed
     * (native {@code SSL} objects included), within a bounded wait.
     */
    static void awaitNoLeaks(ProxyHarness proxy) throws Exception {
        Worker worker = proxy.proxy.workers().get(0);
        dev.moonbeam.tls.ServerTls tls = proxy.proxy.settings().tls();
        int buffers = -1;
        int clients = -1;
        int sessions = -1;
        for (int i = 0; i < 250; i++) { // 5 s
            buffers = onLoop(proxy, () -> worker.loop().buffers().outstanding() + worker.tlsBuffers(false).outstanding() + worker.tlsBuffers(true).outstanding()
                    + worker.tlsOutBuffers(false).outstanding() + worker.tlsOutBuffers(true).outstanding());
            clients = onLoop(proxy, worker::openClients);
            sessions = tls == null ? 0 : tls.liveSessions();
            if (buffers == 0 && clients == 0 && sessions == 0) {
                return;
            }
            ProxyEndToEndTest.sleep(20);
        }
        assertThat(buffers).as("pool buffers outstanding").isZero();
        assertThat(clients).as("open client connections").isZero();
        assertThat(sessions).as("TLS sessions not freed").isZero();
    }

    record Run(int exitCode, String output) {
    }

    /** Runs a process with stdin closed, bounded to 15 s; kills it by its handle if it overruns. */
    static Run run(String... command) throws Exception {
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        CompletableFuture<byte[]> output = CompletableFuture.supplyAsync(() -> {
            try {
                return process.getInputStream().readAllBytes();
            } catch (IOException e) {
                return new byte[0];
            }
        });
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
            throw new AssertionError(String.join(" ", command) + " did not finish within 15 s");
        }
        return new Run(process.exitValue(), new String(output.get(5, TimeUnit.SECONDS), StandardCharsets.UTF_8));
    }
}
