package dev.moonbeam.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moonbeam.h2.FrameFlags;
import dev.moonbeam.h2.FrameType;
import dev.moonbeam.h2.FrameWriter;
import dev.moonbeam.h2.ErrorCode;
import dev.moonbeam.h2.Http2Settings;
import dev.moonbeam.tls.TestProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Attacks on the HTTP/2 listener, each with the bound that stops it: the attacker's connection is
 * closed or its stream refused, and a well-behaved client on another connection is still served.
 */
class Http2AbuseTest {
    @TempDir
    Path dir;

    @RegisterExtension
    final Cleanup cleanup = new Cleanup();

    private final AtomicInteger backendRequests = new AtomicInteger();

    @Test
    void rapidResetClosesTheConnectionWithEnhanceYourCalm() throws Exception {
        ProxyHarness proxy = proxy();
        try (H2TestClient attacker = new H2TestClient(proxy.port())) {
            // CVE-2023-44487: open a stream and reset it at once, over and over.
            ByteBuffer frames = ByteBuffer.allocate(1 << 20);
            byte[] block = requestBlock();
            int sent = 0;
            for (int id = 1; sent < 1000; id += 2, sent++) {
                FrameWriter.headersHeader(frames, id, block.length, FrameFlags.END_HEADERS | FrameFlags.END_STREAM);
                frames.put(block);
                FrameWriter.rstStream(frames, id, ErrorCode.CANCEL);
            }
            attacker.send(toArray(frames));
            H2TestClient.Frame goAway = attacker.await(FrameType.GOAWAY);
            assertThat(goAway).as("GOAWAY after the flood").isNotNull();
            assertThat(goAway.errorCode()).isEqualTo(ErrorCode.ENHANCE_YOUR_CALM.code());
            assertThat(attacker.isClosedByPeer()).isTrue();
        }
        assertThat(backendRequests.get()).as("reset streams barely reach the backend").isLessThan(400);
        assertWellBehavedClientServed(proxy);
    }

    @Test
    void pingFloodIsCutOff() throws Exception {
        ProxyHarness proxy = proxy();
        try (H2TestClient attacker = new H2TestClient(proxy.port())) {
            ByteBuffer frames = ByteBuffer.allocate(1 << 20);
            for (int i = 0; i < 5000; i++) {
                FrameWriter.ping(frames, i);
            }
            attacker.send(toArray(frames));
            H2TestClient.Frame goAway = attacker.await(FrameType.GOAWAY);
            assertThat(goAway).isNotNull();
            assertThat(goAway.errorCode()).isEqualTo(ErrorCode.ENHANCE_YOUR_CALM.code());
            long pongs = attacker.received.stream().filter(f -> f.type() == FrameType.PING).count();
            assertThat(pongs).as("answers stop at the bound").isLessThanOrEqualTo(Http2Connection.MAX_GLITCHES_PER_SECOND + 1);
        }
        assertWellBehavedClientServed(proxy);
    }

    @Test
    void settingsFloodIsCutOff() throws Exception {
        ProxyHarness proxy = proxy();
        try (H2TestClient attacker = new H2TestClient(proxy.port())) {
            ByteBuffer frames = ByteBuffer.allocate(1 << 20);
            for (int i = 0; i < 5000; i++) {
                FrameWriter.frameHeader(frames, 0, FrameType.SETTINGS, 0, 0); // empty SETTINGS, each wants an ACK
            }
            attacker.send(toArray(frames));
            H2TestClient.Frame goAway = attacker.await(FrameType.GOAWAY);
            assertThat(goAway).isNotNull();
            assertThat(goAway.errorCode()).isEqualTo(ErrorCode.ENHANCE_YOUR_CALM.code());
            long acks = attacker.received.stream().filter(f -> f.type() == FrameType.SETTINGS && f.has(FrameFlags.ACK)).count();
            assertThat(acks).as("acknowledgements stop at the bound").isLessThanOrEqualTo(Http2Connection.MAX_GLITCHES_PER_SECOND + 1);
        }
        assertWellBehavedClientServed(proxy);
    }

    @Test
    void emptyDataFloodIsCutOff() throws Exception {
        ProxyHarness proxy = proxy();
        try (H2TestClient attacker = new H2TestClient(proxy.port())) {
            attacker.headers(1, false, ":method", "POST", ":scheme", "https", ":path", "/", ":authority", "h");
            ByteBuffer frames = ByteBuffer.allocate(1 << 20);
            for (int i = 0; i < 5000; i++) {
                FrameWriter.dataHeader(frames, 1, 0, 0); // CVE-2019-9518: zero-length DATA, no END_STREAM
            }
            attacker.send(toArray(frames));
            H2TestClient.Frame goAway = attacker.await(FrameType.GOAWAY);
            assertThat(goAway).isNotNull();
            assertThat(goAway.errorCode()).isEqualTo(ErrorCode.ENHANCE_YOUR_CALM.code());
        }
        assertWellBehavedClientServed(proxy);
    }

    @Test
    void continuationFloodIsBoundedAcrossFrames() throws Exception {
        ProxyHarness proxy = proxy();
        try (H2TestClient attacker = new H2TestClient(proxy.port())) {
            // CVE-2024-27316: a header block that never ends, 16 KiB at a time.
            byte[] block = requestBlock();
            ByteBuffer frames = ByteBuffer.allocate(1 << 20);
            FrameWriter.headersHeader(frames, 1, block.length, 0);
            frames.put(block);
            byte[] filler = new byte[16_000];
            for (int i = 0; i < 40; i++) {
                FrameWriter.continuationHeader(frames, 1, filler.length, 0);
                frames.put(filler);
            }
            try {
                attacker.send(toArray(frames));
            } catch (java.io.IOException closedWhileSending) {
                // The proxy may stop reading before it has everything: that is the point.
            }
            H2TestClient.Frame goAway = attacker.await(FrameType.GOAWAY);
            assertThat(goAway).isNotNull();
            assertThat(goAway.errorCode()).isIn(ErrorCode.ENHANCE_YOUR_CALM.code(), ErrorCode.COMPRESSION_ERROR.code());
        }
        assertThat(backendRequests.get()).isZero();
        assertWellBehavedClientServed(proxy);
    }

    @Test
    void anHpackBombGets431OnItsStreamAndTheConnectionGoesOn() throws Exception {
        ProxyHarness proxy = proxy();
        try (H2TestClient client = new H2TestClient(proxy.port())) {
            // One large field indexed once, then referenced many times: tiny on the wire, huge decoded.
            String big = "b".repeat(3000);
            String[] fields = new String[8 + 2 * 40];
            String[] pseudo = {":method", "GET", ":scheme", "https", ":path", "/", ":authority", "h"};
            System.arraycopy(pseudo, 0, fields, 0, pseudo.length);
            for (int i = 0; i < 40; i++) {
                fields[8 + 2 * i] = "x-bomb";
                fields[9 + 2 * i] = big;
            }
            client.headers(1, true, fields);
            H2TestClient.Response response = client.response(1);
            assertThat(response.status()).isEqualTo(431);
            assertThat(client.get("/after").status()).isEqualTo(200);
        }
        assertThat(backendRequests.get()).isEqualTo(1);
    }

    @Test
    void streamsBeyondTheLimitAreRefused() throws Exception {
        TestBackend slow = cleanup.track(new TestBackend("slow", (request, in, out, socket) -> {
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            TestBackend.respond(out, 200, "ok");
        }));
        ProxyHarness proxy = cleanup.track(ProxyHarness.start(dir, 1, "[\"" + slow.address() + "\"]", tlsJson(4)));
        try (H2TestClient client = new H2TestClient(proxy.port())) {
            int[] ids = new int[6];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = client.request("GET", "/" + i, null);
            }
            int refused = 0;
            int served = 0;
            for (int id : ids) {
                H2TestClient.Response response = client.response(id);
                if (response.resetCode() != null) {
                    assertThat(response.resetCode()).isEqualTo(ErrorCode.REFUSED_STREAM.code());
                    refused++;
                } else {
                    assertThat(response.status()).isEqualTo(200);
                    served++;
                }
            }
            assertThat(served).isEqualTo(4);
            assertThat(refused).isEqualTo(2);
        }
    }

    @Test
    void aReusedOrDecreasingStreamIdIsAConnectionError() throws Exception {
        ProxyHarness proxy = proxy();
        try (H2TestClient client = new H2TestClient(proxy.port())) {
            assertThat(client.response(client.request("GET", "/", null)).status()).isEqualTo(200);
            client.headers(1, true, ":method", "GET", ":scheme", "https", ":path", "/", ":authority", "h");
            H2TestClient.Frame goAway = client.await(FrameType.GOAWAY);
            assertThat(goAway).isNotNull();
            assertThat(goAway.errorCode()).isEqualTo(ErrorCode.STREAM_CLOSED.code());
        }
    }

    @Test
    void bodyLongerOrShorterThanContentLengthResetsTheStream() throws Exception {
        ProxyHarness proxy = proxy();
        try (H2TestClient client = new H2TestClient(proxy.port())) {
            int longer = client.request("POST", "/", "123456".getBytes(StandardCharsets.US_ASCII), "content-length", "3");
            assertThat(client.response(longer).resetCode()).isEqualTo(ErrorCode.PROTOCOL_ERROR.code());
            int shorter = client.request("POST", "/", "12".getBytes(StandardCharsets.US_ASCII), "content-length", "3");
            assertThat(client.response(shorter).resetCode()).isEqualTo(ErrorCode.PROTOCOL_ERROR.code());
            assertThat(client.get("/fine").status()).isEqualTo(200);
        }
    }

    /**
     * A client that sets its initial window to 0 and never opens it stalls its responses forever
     * (CVE-2019-9517's cousin, the "zero-window" hold): the connection must still be closed once
     * nothing moved for the inactivity timeouts, whether the response fits the stream's buffer
     * (the exchange is over; only the stream holds it) or not (the exchange waits on the client).
     */
    @ParameterizedTest(name = "response of {0} bytes")
    @ValueSource(ints = {1_000, 1_000_000})
    void zeroWindowStallIsClosedByTheInactivityTimeout(int responseBytes) throws Exception {
        byte[] body = new byte[responseBytes];
        TestBackend backend = cleanup.track(new TestBackend("big", (request, in, out, socket) -> {
            out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
        }));
        ProxyHarness proxy = cleanup.track(ProxyHarness.start(dir, 1, "[\"" + backend.address() + "\"]",
                tlsJson(128) + ", \"timeouts\": {\"client_idle\": \"400ms\", \"backend_response\": \"400ms\"}"));
        long started = System.nanoTime();
        try (H2TestClient staller = new H2TestClient(proxy.port(), false)) {
            ByteBuffer preface = ByteBuffer.allocate(256);
            preface.put(dev.moonbeam.h2.FrameReader.PREFACE.getBytes(StandardCharsets.US_ASCII));
            FrameWriter.settings(preface, new Http2Settings().set(Http2Settings.INITIAL_WINDOW_SIZE, 0));
            staller.send(toArray(preface));
            staller.autoWindowUpdate = false;
            staller.request("GET", "/stall", null);
            // No WINDOW_UPDATE ever: read whatever comes until the proxy ends the connection.
            assertThat(readsUntilClosed(staller)).as("the stalled connection is closed").isTrue();
            long dataBytes = staller.received.stream().filter(f -> f.type() == FrameType.DATA).mapToLong(f -> f.payload().length).sum();
            assertThat(dataBytes).as("nothing sent beyond the window").isZero();
        }
        assertThat(Duration.ofNanos(System.nanoTime() - started)).as("closed by the 400 ms timeouts, GOAWAY then FIN at once (it waited out a 5 s grace before)")
                .isLessThan(Duration.ofSeconds(4));
        assertWellBehavedClientServed(proxy);
        LeakCheck.assertNothingHeld(proxy, Duration.ofSeconds(5));
    }

    /**
     * timeouts.client_body on HTTP/2: a stream whose body trickles past the deadline gets 408 and
     * is ended, while a body that arrives in time and the connection's other streams are served.
     */
    @Test
    void aBodyThatDoesNotArriveWithinClientBodyGets408OnItsStreamOnly() throws Exception {
        TestBackend backend = cleanup.track(new TestBackend("echo", (request, in, out, socket) -> {
            backendRequests.incrementAndGet();
            TestBackend.respond(out, 200, "got " + request.body().length);
        }));
        ProxyHarness proxy = cleanup.track(ProxyHarness.start(dir, 1, "[\"" + backend.address() + "\"]",
                tlsJson(128) + ", \"timeouts\": {\"client_body\": \"300ms\", \"backend_response\": \"10s\"}"));
        try (H2TestClient client = new H2TestClient(proxy.port())) {
            long started = System.nanoTime();
            int slow = 1;
            client.headers(slow, false, ":method", "POST", ":scheme", "https", ":path", "/slow", ":authority", "h2.test",
                    "content-length", "100");
            client.data(slow, new byte[10], false); // 90 bytes never come

            H2TestClient.Response inTime = client.response(client.request("POST", "/in-time", new byte[100]));
            assertThat(inTime.status()).as("a whole body in time").isEqualTo(200);
            assertThat(inTime.bodyText()).isEqualTo("got 100");

            H2TestClient.Response cut = client.response(slow);
            assertThat(cut.status()).as("the trickling stream").isEqualTo(408);
            assertThat(Duration.ofNanos(System.nanoTime() - started)).as("at the 300 ms deadline, not the 10 s backend timeout")
                    .isLessThan(Duration.ofSeconds(5));
            assertThat(client.get("/after").status()).as("the same connection serves on").isEqualTo(200);
        }
        LeakCheck.assertNothingHeld(proxy, Duration.ofSeconds(5));
    }

    /** Reads frames (at most 1,000) until the proxy ends the connection: true, or the socket timeout: false. */
    private static boolean readsUntilClosed(H2TestClient client) throws IOException {
        try {
            for (int i = 0; i < 1_000; i++) {
                client.next();
            }
            return false;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // EOF, or a reset after the GOAWAY
        }
    }

    private void assertWellBehavedClientServed(ProxyHarness proxy) throws Exception {
        try (H2TestClient other = new H2TestClient(proxy.port())) {
            assertThat(other.get("/other").status()).isEqualTo(200);
        }
    }

    private ProxyHarness proxy() throws Exception {
        TestBackend backend = cleanup.track(new TestBackend("a", (request, in, out, socket) -> {
            backendRequests.incrementAndGet();
            TestBackend.respond(out, 200, "ok");
        }));
        return cleanup.track(ProxyHarness.start(dir, 1, "[\"" + backend.address() + "\"]", tlsJson(128)));
    }

    private static String tlsJson(int maxStreams) {
        TestProvider.JDK.assumeAvailable();
        return "\"ssl\": {\"provider\": \"jdk\", \"cert_file\": \"" + TlsEndToEndTest.fixture("ec.crt") + "\", \"key_file\": \""
                + TlsEndToEndTest.fixture("ec-sec1.key") + "\"}, \"http2\": {\"enabled\": true, \"max_concurrent_streams\": "
                + maxStreams + "}";
    }

    /** A complete GET request's header block, encoded without dynamic-table state so it can be repeated. */
    private static byte[] requestBlock() {
        // Static-table indexes only (RFC 7541 Appendix A): :method GET (2), :scheme https (7), :path / (4);
        // :authority (1) as a literal without indexing.
        ByteArrayOutputStream block = new ByteArrayOutputStream();
        block.write(0x82);
        block.write(0x87);
        block.write(0x84);
        block.write(0x01); // literal without indexing, name index 1
        block.write(1);
        block.write('h');
        return block.toByteArray();
    }

    private static byte[] toArray(ByteBuffer buffer) {
        buffer.flip();
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return bytes;
    }
}
