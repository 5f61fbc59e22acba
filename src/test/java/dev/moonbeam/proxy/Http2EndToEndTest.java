package dev.moonbeam.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moonbeam.h2.FrameType;
import dev.moonbeam.h2.FrameWriter;
import dev.moonbeam.h2.Http2Settings;
import dev.moonbeam.tls.TestProvider;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP/2 to clients end to end: a real MoonBeam with {@code "http2": {"enabled": true}}, our
 * frame-level test client (and curl where installed) over TLS with ALPN h2, and in-test HTTP/1.1
 * origins. Runs once per TLS provider ({@link JdkHttp2EndToEndTest}, {@link NativeHttp2EndToEndTest}).
 */
abstract class Http2EndToEndTest {
    abstract TestProvider provider();

    private static final Path CURL = Path.of("/usr/bin/curl");

    @TempDir
    Path dir;

    @RegisterExtension
    final Cleanup cleanup = new Cleanup();
    /** "protocol status reason" of every finished request. */
    private final java.util.concurrent.BlockingQueue<String> finished = new java.util.concurrent.LinkedBlockingQueue<>();

    @Test
    void alpnChoosesH2AndAGetIsProxiedToTheHttp11Backend() throws Exception {
        TestBackend backend = cleanup.track(new TestBackend("a", (request, in, out, socket) ->
                TestBackend.respond(out, 200, "hello " + request.target() + " via " + request.header("host"),
                        "Content-Type: text/plain", "X-Backend: a", "Connection: keep-alive", "Keep-Alive: timeout=5")));
        ProxyHarness proxy = http2Proxy(backend);
        try (H2TestClient client = new H2TestClient(proxy.port())) {
            assertThat(client.applicationProtocol()).isEqualTo("h2");
            H2TestClient.Response response = client.get("/path?q=1");
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.bodyText()).isEqualTo("hello /path?q=1 via h2.test");
            assertThat(response.fields()).containsEntry("x-backend", "a").containsEntry("content-type", "text/plain")
                    .doesNotContainKeys("connection", "keep-alive");
            HttpMessage seen = backend.received.peek();
            assertThat(seen.header("x-forwarded-proto")).isEqualTo("https");
            assertThat(seen.header("x-forwarded-for")).isEqualTo("127.0.0.1");
            assertThat(finished.poll(10, TimeUnit.SECONDS)).isEqualTo("h2 200 completed");
            assertThat(proxy.proxy.metrics().prometheus()).contains("moonbeam_requests_by_protocol_total{protocol=\"h2\"} 1");
        }
    }

    @Test
    void manyStreamsOnOneConnectionAreAnsweredEachWithItsOwnResponse() throws Exception {
        TestBackend backend = cleanup.track(new TestBackend("a", (request, in, out, socket) ->
                TestBackend.respond(out, 200, "for " + request.target())));
        ProxyHarness proxy = http2Proxy(backend);
        try (H2TestClient client = new H2TestClient(proxy.port())) {
            List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                ids.add(client.request("GET", "/r" + i, null));
            }
            for (int i = 0; i < ids.size(); i++) {
                H2TestClient.Response response = responseOf(client, ids.get(i));
                assertThat(response.status()).isEqualTo(200);
                assertThat(response.bodyText()).isEqualTo("for /r" + i);
            }
        }
    }

    @Test
    void chunkedResponsesArriveWithoutTheirFramingAndLargeBodiesFlowUnderFlowControl() throws Exception {
        byte[] big = new byte[300_000];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) ('a' + i % 26);
        }
        TestBackend backend = cleanup.track(new TestBackend("a", (request, in, out, socket) -> {
            if (request.target().equals("/chunked")) {
                out.write(("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nx-trailer: t\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            } else {
                TestBackend.respond(out, 200, big);
            }
        }));
        ProxyHarness proxy = http2Proxy(backend);
        try (H2TestClient client = new H2TestClient(proxy.port())) {
            H2TestClient.Response chunked = client.get("/chunked");
            assertThat(chunked.status()).isEqualTo(200);
            assertThat(chunked.bodyText()).isEqualTo("hello, world");
            assertThat(chunked.fields()).doesNotContainKey("transfer-encoding");
            H2TestClient.Response large = client.get("/big");
            assertThat(large.resetCode()).isNull();
            assertThat(large.body()).isEqualTo(big);
        }
    }

    /**
     * Streams that ran out of connection window wait, and one WINDOW_UPDATE on stream 0 must wake
     * every one of them, including those that never sent a byte (no stream-level update comes for
     * those). Then the same for a larger window the client announces in SETTINGS.
     */
    @Test
    void streamsWaitingForTheConnectionWindowAllResumeWhenItGrows() throws Exception {
        byte[] big = pattern(200_000);
        TestBackend backend = cleanup.track(new TestBackend("a", (request, in, out, socket) -> TestBackend.respond(out, 200, big)));
        ProxyHarness proxy = http2Proxy(backend);
        try (H2TestClient client = new H2TestClient(proxy.port())) {
            client.autoWindowUpdate = false;
            List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                ids.add(client.request("GET", "/big" + i, null));
            }
            // The proxy sends until the connection window (65,535 bytes) is spent; then every stream waits.
            Map<Integer, Integer> received = new HashMap<>();
            int total = 0;
            for (int frames = 0; frames < 1_000 && total < 65_535; frames++) {
                H2TestClient.Frame frame = client.next();
                if (frame.type() == FrameType.DATA) {
                    total += frame.payload().length;
                    received.merge(frame.streamId(), frame.payload().length, Integer::sum);
                }
            }
            assertThat(total).isEqualTo(65_535);
            assertThat(received.size()).as("streams that sent anything").isLessThan(ids.size());

            // Credit what arrived, and raise every stream's window by SETTINGS: from here on the
            // client credits each DATA frame as it reads it.
            raiseWindows(client, 1 << 20, total);
            client.autoWindowUpdate = true;
            for (int id : ids) {
                H2TestClient.Response response = client.response(id);
                assertThat(response.resetCode()).as("stream %d", id).isNull();
                assertThat(response.body()).as("stream %d", id).isEqualTo(big);
            }
        }
    }

    /**
     * A client that stops reading fills the proxy's output for the connection; every stream then
     * waits for room, and all must go on once the client reads again.
     */
    @Test
    void streamsWaitingForOutputRoomAllResumeWhenTheClientReadsAgain() throws Exception {
        byte[] big = pattern(2_000_000);
        TestBackend backend = cleanup.track(new TestBackend("a", (request, in, out, socket) -> TestBackend.respond(out, 200, big)));
        ProxyHarness proxy = http2Proxy(backend);
        try (H2TestClient client = new H2TestClient(proxy.port())) {
            // Windows far larger than the responses: only the socket and the proxy's buffers hold them back.
            raiseWindows(client, 64 << 20, 64 << 20);
            List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                ids.add(client.request("GET", "/big" + i, null));
            }
            Thread.sleep(500); // not reading: 16 MB cannot all fit in the socket buffers
            for (int id : ids) {
                H2TestClient.Response response = client.response(id);
                assertThat(response.resetCode()).as("stream %d", id).isNull();
                assertThat(response.body()).as("stream %d", id).isEqualTo(big);
            }
        }
    }

    /** SETTINGS_INITIAL_WINDOW_SIZE for every stream, and a WINDOW_UPDATE on the connection. */
    private static void raiseWindows(H2TestClient client, int initialWindow, int connectionIncrement) throws IOException {
        ByteBuffer frames = ByteBuffer.allocate(1024);
        FrameWriter.settings(frames, new Http2Settings().set(Http2Settings.INITIAL_WINDOW_SIZE, initialWindow));
        FrameWriter.windowUpdate(frames, 0, connectionIncrement);
        client.send(Arrays.copyOf(frames.array(), frames.position()));
    }

    private static byte[] pattern(int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) ('a' + i % 26);
        }
        return bytes;
    }

    @Test
    void requestBodiesReachTheBackendWithAndWithoutContentLength() throws Exception {
        TestBackend backend = cleanup.track(new TestBackend("a", (request, in, out, socket) ->
                TestBackend.respond(out, 200, request.header("transfer-encoding") + "|" + request.header("content-length")
                        + "|" + request.body().length + "|" + Arrays.hashCode(request.body()))));
        ProxyHarness proxy = http2Proxy(backend);
        byte[] body = new byte[100_000];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) (i * 31);
        }
        try (H2TestClient client = new H2TestClient(proxy.port())) {
            H2TestClient.Response unsized = client.response(client.request("POST", "/up", body));
            assertThat(unsized.bodyText()).isEqualTo("chunked|null|100000|" + Arrays.hashCode(body));
            H2TestClient.Response sized = client.response(client.request("PUT", "/up", body,
                    "content-length", String.valueOf(body.length)));
            assertThat(sized.bodyText()).isEqualTo("null|100000|100000|" + Arrays.hashCode(body));
        }
    }

    /** Uploads far larger than the windows, on streams open at once: each arrives whole, credit flowing back as it goes. */
    @Test
    void largeUploadsOnConcurrentStreamsAllArriveWhole() throws Exception {
        TestBackend backend = cleanup.track(new TestBackend("a", (request, in, out, socket) ->
                TestBackend.respond(out, 200, request.body().length + "|" + Arrays.hashCode(request.body()))));
        ProxyHarness proxy = http2Proxy(backend);
        byte[] body = new byte[1_000_000];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) (i * 7);
        }
        try (H2TestClient client = new H2TestClient(proxy.port())) {
            List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                int id = 1 + 2 * i;
                client.headers(id, false, ":method", "POST", ":scheme", "https", ":path", "/up" + i, ":authority", "h2.test");
                ids.add(id);
            }
            for (int id : ids) {
                client.data(id, body, true);
            }
            for (int id : ids) {
                assertThat(client.response(id).bodyText()).as("stream %d", id).isEqualTo(body.length + "|" + Arrays.hashCode(body));
            }
        }
    }

    @Test
    void aMalformedRequestResetsItsStreamAndTheConnectionGoesOn() throws Exception {
        TestBackend backend = cleanup.track(new TestBackend("a", (request, in, out, socket) ->
                TestBackend.respond(out, 200, "ok")));
        ProxyHarness proxy = http2Proxy(backend);
        try (H2TestClient client = new H2TestClient(proxy.port())) {
            client.headers(1, true, ":method", "GET", ":scheme", "https", ":path", "/", "Upper", "x");
            H2TestClient.Response refused = client.response(1);
            assertThat(refused.resetCode()).isEqualTo(1); // PROTOCOL_ERROR, RFC 9113 §8.1.1
            client.headers(3, true, ":method", "GET", ":scheme", "https", ":path", "/", ":authority", "h",
                    "connection", "close");
            assertThat(client.response(3).resetCode()).isEqualTo(1);
            H2TestClient.Response fine = client.response(client.request("GET", "/", null));
            assertThat(fine.status()).isEqualTo(200);
            assertThat(backend.requests.get()).isEqualTo(1);
        }
    }

    @Test
    void aBackendThatIsDownGivesA502OnThatStreamOnly() throws Exception {
        TestBackend backend = cleanup.track(new TestBackend("a", (request, in, out, socket) -> {
            if (request.target().equals("/broken")) {
                socket.close();
            } else {
                TestBackend.respond(out, 200, "ok");
            }
        }));
        ProxyHarness proxy = http2Proxy(backend);
        try (H2TestClient client = new H2TestClient(proxy.port())) {
            int broken = client.request("POST", "/broken", "x".getBytes(StandardCharsets.US_ASCII));
            assertThat(client.response(broken).status()).isEqualTo(502);
            assertThat(client.get("/fine").status()).isEqualTo(200);
        }
    }

    @Test
    void pingIsAnsweredAndGoawayFollowsAGarbageFrame() throws Exception {
        TestBackend backend = cleanup.track(new TestBackend("a", (request, in, out, socket) ->
                TestBackend.respond(out, 200, "ok")));
        ProxyHarness proxy = http2Proxy(backend);
        try (H2TestClient client = new H2TestClient(proxy.port())) {
            client.send(new byte[] {0, 0, 8, FrameType.PING, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8});
            H2TestClient.Frame pong = client.await(FrameType.PING);
            assertThat(pong.has(dev.moonbeam.h2.FrameFlags.ACK)).isTrue();
            assertThat(pong.payload()).containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
            // PING on a stream is a connection error (RFC 9113 §6.7): GOAWAY PROTOCOL_ERROR, then close.
            client.send(new byte[] {0, 0, 8, FrameType.PING, 0, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8});
            H2TestClient.Frame goAway = client.await(FrameType.GOAWAY);
            assertThat(goAway).isNotNull();
            assertThat(goAway.errorCode()).isEqualTo(1);
            assertThat(client.isClosedByPeer()).isTrue();
        }
    }

    @Test
    void http11ClientsStillGetHttp11WhenH2IsOffered() throws Exception {
        TestBackend backend = cleanup.track(new TestBackend("a", (request, in, out, socket) ->
                TestBackend.respond(out, 200, "one-one")));
        ProxyHarness proxy = http2Proxy(backend);
        try (TlsClient client = new TlsClient(proxy.port(), null, TlsClient.MODERN, List.of("http/1.1"))) {
            assertThat(client.applicationProtocol()).isEqualTo("http/1.1");
            assertThat(client.get("/").bodyText()).isEqualTo("one-one");
        }
    }

    @Test
    void curlSpeaksHttp2ThroughTheProxy() throws Exception {
        Assumptions.assumeTrue(CURL.toFile().canExecute(), "curl not installed (Debian package curl): skipped");
        TestBackend backend = cleanup.track(new TestBackend("a", (request, in, out, socket) ->
                TestBackend.respond(out, 200, "curl ok " + request.method())));
        ProxyHarness proxy = http2Proxy(backend);
        for (String method : List.of("GET", "POST")) {
            Process curl = new ProcessBuilder(CURL.toString(), "-sk", "--http2", "-o", "-", "-w", "|%{http_version}",
                    "-X", method, "--data-binary", method.equals("POST") ? "payload" : "",
                    "https://127.0.0.1:" + proxy.port() + "/")
                    .redirectErrorStream(true).start();
            assertThat(curl.waitFor(20, TimeUnit.SECONDS)).isTrue();
            String output = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(output).isEqualTo("curl ok " + method + "|2");
        }
    }

    @Test
    void nghttpAndH2loadInteroperate() throws Exception {
        Path nghttp = Path.of("/usr/bin/nghttp");
        Path h2load = Path.of("/usr/bin/h2load");
        Assumptions.assumeTrue(nghttp.toFile().canExecute() && h2load.toFile().canExecute(),
                "nghttp/h2load not installed (Debian package nghttp2-client): skipped");
        TestBackend backend = cleanup.track(new TestBackend("a", (request, in, out, socket) ->
                TestBackend.respond(out, 200, "n".repeat(1000))));
        ProxyHarness proxy = http2Proxy(backend);
        String url = "https://127.0.0.1:" + proxy.port() + "/";
        // nghttp: several requests on one connection, with its PRIORITY frames and dependency tree.
        String nghttpOut = run(nghttp.toString(), "-n", "-s", "-m", "5", url);
        assertThat(nghttpOut.lines().filter(line -> line.matches(".*\\s200 1000 /$")).count()).as(nghttpOut).isEqualTo(5);
        assertThat(nghttpOut).doesNotContainIgnoringCase("error");
        // h2load: 200 requests over 2 connections, 10 streams each, all must succeed.
        String h2loadOut = run(h2load.toString(), "-n", "200", "-c", "2", "-m", "10", url);
        assertThat(h2loadOut).contains("200 succeeded, 0 failed, 0 errored").contains("200 2xx");
    }

    private static String run(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("%s finished", command[0]).isTrue();
        return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    private static H2TestClient.Response responseOf(H2TestClient client, int streamId) throws IOException {
        return client.response(streamId);
    }

    private ProxyHarness http2Proxy(TestBackend backend) throws Exception {
        provider().assumeAvailable();
        String ssl = "{\"provider\": \"" + provider().configName() + "\", \"cert_file\": \""
                + TlsEndToEndTest.fixture("ec.crt") + "\", \"key_file\": \"" + TlsEndToEndTest.fixture("ec-sec1.key") + "\"}";
        dev.moonbeam.observe.RequestListener recorder = record -> finished.add(
                (record.http2 ? "h2 " : "http/1.1 ") + record.status + " " + record.termination.label());
        return cleanup.track(ProxyHarness.start(dir, 1, "[\"" + backend.address() + "\"]",
                "\"ssl\": " + ssl + ", \"http2\": {\"enabled\": true}", i -> recorder));
    }
}
