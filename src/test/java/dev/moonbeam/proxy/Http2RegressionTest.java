package dev.moonbeam.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moonbeam.h2.FrameFlags;
import dev.moonbeam.h2.FrameType;
import dev.moonbeam.h2.FrameWriter;
import dev.moonbeam.h2.Http2Settings;
import dev.moonbeam.tls.TestProvider;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP/2 defects found in review, each reproduced over real sockets before it was fixed: tiny
 * chunks, big heads, late trailers, short bodies, stalls, zero windows, blocked streams, TLS 1.2.
 */
class Http2RegressionTest {
    @TempDir
    Path dir;

    @RegisterExtension
    final Cleanup cleanup = new Cleanup();

    private ProxyHarness proxy(String backends, String extra) throws Exception {
        TestProvider.JDK.assumeAvailable();
        String ssl = "{\"provider\": \"" + TestProvider.JDK.configName() + "\", \"cert_file\": \""
                + TlsEndToEndTest.fixture("ec.crt") + "\", \"key_file\": \"" + TlsEndToEndTest.fixture("ec-sec1.key") + "\"}";
        return cleanup.track(ProxyHarness.start(dir, 1, backends,
                "\"ssl\": " + ssl + ", \"http2\": {\"enabled\": true}" + (extra.isEmpty() ? "" : ", " + extra)));
    }

    private ProxyHarness proxy(TestBackend backend, String extra) throws Exception {
        return proxy("[\"" + backend.address() + "\"]", extra);
    }

    @Test
    void tinyChunksOverflowTheOutputBuffer() throws Exception {
        StringBuilder chunks = new StringBuilder();
        for (int i = 0; i < 6000; i++) {
            chunks.append("1\r\nx\r\n");
        }
        chunks.append("0\r\n\r\n");
        TestBackend backend = cleanup.track(new TestBackend("a", (request, in, out, socket) -> {
            out.write(("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks).getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }));
        ProxyHarness proxy = proxy(backend, "");
        try (H2TestClient client = new H2TestClient(proxy.port())) {
            H2TestClient.Response r = client.get("/tiny");
            assertThat(r.resetCode()).isNull();
            assertThat(r.body().length).isEqualTo(6000);
            assertThat(client.received.stream().filter(f -> f.type() == FrameType.DATA).count())
                    .as("chunks are gathered into few DATA frames").isLessThan(1000);
        }
    }

    @Test
    void aLargeResponseHeadIsSentInHeadersAndContinuationFrames() throws Exception {
        String big = "{}~^|\\<>".repeat(2_070);
        TestBackend backend = cleanup.track(new TestBackend("a", (request, in, out, socket) -> {
            if (request.target().equals("/big")) {
                TestBackend.respond(out, 200, "big", "X-Big: " + big);
            } else {
                TestBackend.respond(out, 200, "ok");
            }
        }));
        ProxyHarness proxy = proxy(backend, "");
        try (H2TestClient client = new H2TestClient(proxy.port())) {
            int b = client.request("GET", "/big", null);
            H2TestClient.Response r = client.response(b);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.fields().get("x-big")).isEqualTo(big);
            assertThat(client.received.stream().anyMatch(f -> f.type() == FrameType.CONTINUATION)).isTrue();
            assertThat(client.get("/other").status()).isEqualTo(200);
        }
    }

    @Test
    void trailersAfterOurEarlyAnswerDoNotKillTheConnection() throws Exception {
        TestBackend backend = cleanup.track(new TestBackend("a", (request, in, out, socket) ->
                TestBackend.respond(out, 200, "ok")));
        ProxyHarness proxy = proxy("[\"127.0.0.1:1\", \"" + backend.address() + "\"]".replace("\"127.0.0.1:1\", ", ""), "");
        // The HTTP/1.1 parser rejects a control character the h2 builder lets through: 400 + RST(NO_ERROR).
        try (H2TestClient client = new H2TestClient(proxy.port())) {
            client.headers(1, false, ":method", "POST", ":scheme", "https", ":path", "/", ":authority", "h",
                    "x-bad", "a\u0001b");
            H2TestClient.Response first = client.response(1);
            assertThat(first.status()).isEqualTo(400);
            client.headers(1, true, "x-trailer", "t"); // trailers that were already in flight: ignored (§5.1)
            assertThat(client.get("/after").status()).isEqualTo(200);
        }
    }

    @Test
    void trailersWithShortBodyAreNotAcceptedAsComplete() throws Exception {
        TestBackend backend = cleanup.track(new TestBackend("a", (request, in, out, socket) ->
                TestBackend.respond(out, 200, "got " + request.body().length)));
        ProxyHarness proxy = proxy(backend, "\"timeouts\": {\"backend_response\": \"1s\"}");
        try (H2TestClient client = new H2TestClient(proxy.port())) {
            client.headers(1, false, ":method", "POST", ":scheme", "https", ":path", "/", ":authority", "h",
                    "content-length", "10");
            client.data(1, "abc".getBytes(StandardCharsets.US_ASCII), false);
            long t0 = System.nanoTime();
            client.headers(1, true, "x-trailer", "t");
            H2TestClient.Response r = client.response(1);
            assertThat(r.resetCode()).isEqualTo(1); // PROTOCOL_ERROR at once (§8.1.1), not a 408 later
            assertThat(System.nanoTime() - t0).isLessThan(900_000_000L);
        }
    }

    @Test
    void backendStallMidBodyResetsTheStream() throws Exception {
        TestBackend backend = cleanup.track(new TestBackend("a", (request, in, out, socket) -> {
            out.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            try {
                Thread.sleep(8000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        ProxyHarness proxy = proxy(backend, "\"timeouts\": {\"backend_response\": \"300ms\"}");
        try (H2TestClient client = new H2TestClient(proxy.port())) {
            int id = client.request("GET", "/stall", null);
            long t0 = System.nanoTime();
            H2TestClient.Response r = client.response(id);
            assertThat(r.resetCode()).as("a truncated response must not look complete").isNotNull();
            assertThat(System.nanoTime() - t0).isLessThan(3_000_000_000L);
        }
    }

    @Test
    void zeroInitialWindowStillGetsHeaders() throws Exception {
        TestBackend backend = cleanup.track(new TestBackend("a", (request, in, out, socket) ->
                TestBackend.respond(out, 200, "hello")));
        ProxyHarness proxy = proxy(backend, "\"timeouts\": {\"backend_response\": \"2s\"}");
        try (H2TestClient client = new H2TestClient(proxy.port(), false)) {
            ByteBuffer b = ByteBuffer.allocate(1024);
            b.put(dev.moonbeam.h2.FrameReader.PREFACE.getBytes(StandardCharsets.US_ASCII));
            Http2Settings s = new Http2Settings();
            s.set(Http2Settings.INITIAL_WINDOW_SIZE, 0);
            FrameWriter.settings(b, s);
            b.flip();
            byte[] bytes = new byte[b.remaining()];
            b.get(bytes);
            client.send(bytes);
            int id = client.request("GET", "/", null);
            long t0 = System.nanoTime();
            H2TestClient.Frame h = client.await(FrameType.HEADERS);
            java.util.Map<String, String> f = client.decode(h.payload());
            assertThat(f.get(":status")).isEqualTo("200"); // HEADERS are not flow-controlled (§6.9)
            assertThat(System.nanoTime() - t0).isLessThan(1_500_000_000L);
        }
    }

    @Test
    void flowControlBlockedStreamDoesNotSpin() throws Exception {
        byte[] big = new byte[2_000_000];
        TestBackend backend = cleanup.track(new TestBackend("a", (request, in, out, socket) ->
                TestBackend.respond(out, 200, big)));
        ProxyHarness proxy = proxy(backend, "\"timeouts\": {\"backend_response\": \"30s\"}");
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        try (H2TestClient client = new H2TestClient(proxy.port())) {
            client.autoWindowUpdate = false;
            int id = client.request("GET", "/big", null);
            int got = 0;
            while (got < 65_535) {
                H2TestClient.Frame f = client.next();
                if (f.type() == FrameType.DATA) {
                    got += f.payload().length;
                }
            }
            Thread.sleep(500);
            long c0 = os.getProcessCpuTime();
            Thread.sleep(2000);
            long c1 = os.getProcessCpuTime();
            // A spinning loop burns a whole core (2,000 ms); idle waiting costs next to nothing.
            assertThat((c1 - c0) / 1_000_000).as("process CPU ms while the stream waits for credit").isLessThan(700);
        }
    }

    @Test
    void trailersPassBothWaysOverAChunkedBody() throws Exception {
        TestBackend backend = cleanup.track(new TestBackend("a", (request, in, out, socket) -> {
            String seen = request.header("transfer-encoding") + "|" + request.bodyText();
            out.write(("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(seen.length()) + "\r\n"
                    + seen + "\r\n0\r\nGrpc-Status: 0\r\nConnection: x\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }));
        ProxyHarness proxy = proxy(backend, "");
        try (H2TestClient client = new H2TestClient(proxy.port())) {
            client.headers(1, false, ":method", "POST", ":scheme", "https", ":path", "/", ":authority", "h");
            client.data(1, "body".getBytes(StandardCharsets.US_ASCII), false);
            client.headers(1, true, "x-checksum", "abc");
            H2TestClient.Response r = client.response(1);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("chunked|body");
            assertThat(r.fields()).containsEntry("grpc-status", "0").doesNotContainKey("connection");
        }
        HttpMessage seen = backend.received.peek();
        assertThat(seen.header("x-checksum")).as("the request trailer reached the backend").isEqualTo("abc");
    }

    @Test
    void gracefulShutdownSendsGoawayAndLetsInFlightStreamsFinish() throws Exception {
        TestBackend backend = cleanup.track(new TestBackend("a", (request, in, out, socket) -> {
            if (request.target().equals("/slow")) {
                try {
                    Thread.sleep(700);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            TestBackend.respond(out, 200, "done " + request.target());
        }));
        ProxyHarness proxy = proxy(backend, "");
        Thread drainer;
        try (H2TestClient client = new H2TestClient(proxy.port())) {
            assertThat(client.get("/warm").status()).isEqualTo(200);
            int slow = client.request("GET", "/slow", null);
            Thread.sleep(200); // the request is at the backend
            drainer = new Thread(() -> proxy.proxy.drainAndClose(java.time.Duration.ofSeconds(5)));
            drainer.start();
            H2TestClient.Frame goAway = client.await(FrameType.GOAWAY);
            assertThat(goAway).isNotNull();
            assertThat(goAway.errorCode()).isZero(); // NO_ERROR: a graceful GOAWAY
            assertThat(java.nio.ByteBuffer.wrap(goAway.payload()).getInt() & 0x7FFF_FFFF)
                    .as("last stream id: the in-flight one is included").isEqualTo(slow);
            H2TestClient.Response response = client.response(slow);
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.bodyText()).isEqualTo("done /slow");
            assertThat(client.isClosedByPeer()).as("closed once its last stream finished").isTrue();
        } // our FIN ends the proxy's lingering close, so the drain ends at once
        drainer.join(10_000);
        assertThat(drainer.isAlive()).isFalse();
    }

    @Test
    void cleartextPriorKnowledgeIsHttp2OnlyWhenAskedFor() throws Exception {
        java.nio.file.Path curl = java.nio.file.Path.of("/usr/bin/curl");
        org.junit.jupiter.api.Assumptions.assumeTrue(curl.toFile().canExecute(), "curl not installed: skipped");
        TestBackend backend = cleanup.track(new TestBackend("a", (request, in, out, socket) ->
                TestBackend.respond(out, 200, "plain " + request.header("x-forwarded-proto"))));
        ProxyHarness h2c = cleanup.track(ProxyHarness.start(dir, 1, "[\"" + backend.address() + "\"]",
                "\"http2\": {\"cleartext\": true}"));
        String url = "http://127.0.0.1:" + h2c.port() + "/";
        assertThat(run(curl.toString(), "-s", "--http2-prior-knowledge", "-w", "|%{http_version}", url))
                .isEqualTo("plain http|2");
        assertThat(run(curl.toString(), "-s", "-w", "|%{http_version}", url)).as("HTTP/1.1 still works beside it")
                .isEqualTo("plain http|1.1");
        java.nio.file.Path other = dir.resolve("other");
        java.nio.file.Files.createDirectories(other);
        ProxyHarness plain = cleanup.track(ProxyHarness.start(other, 1, "[\"" + backend.address() + "\"]", ""));
        String refused = run(curl.toString(), "-s", "--http2-prior-knowledge", "-w", "|%{http_code}",
                "http://127.0.0.1:" + plain.port() + "/");
        assertThat(refused).as("off by default: the preface is not an HTTP/1.1 request").doesNotContain("plain http");
    }

    private static String run(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertThat(process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    @Test
    void tls12ClientGetsH2() throws Exception {
        TestBackend backend = cleanup.track(new TestBackend("a", (request, in, out, socket) ->
                TestBackend.respond(out, 200, "ok")));
        ProxyHarness proxy = proxy(backend, "");
        for (int i = 0; i < 5; i++) {
            try (H2TestClient client = new H2TestClient(proxy.port(), true, List.of("TLSv1.2"))) {
                assertThat(client.applicationProtocol()).isEqualTo("h2");
                assertThat(client.get("/").status()).isEqualTo(200);
            }
        }
    }
}
