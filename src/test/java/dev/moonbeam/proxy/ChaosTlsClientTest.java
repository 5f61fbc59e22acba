package dev.moonbeam.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Misbehaving clients on the TLS listener (issue 16, point 2), where TLS changes the picture: the
 * handshake (stalled, garbage, reset), and faults whose bytes arrive as records (slowloris one
 * record per byte, a bad start line, a slow reader with TLS buffers on top, a reset mid-download).
 * Same checks as {@link ChaosClientTest}: what the faulty client gets and how soon, a TLS bystander
 * on the same loop served throughout, the termination reason, nothing left (TLS sessions freed too).
 */
class ChaosTlsClientTest extends ChaosTestBase {
    @Override
    boolean tls() {
        return true;
    }

    // ---- the handshake ----

    /** Half a ClientHello, then nothing: closed at the handshake deadline; the bystander is not held up. */
    @Test
    void aClientThatStopsMidHandshakeIsClosedAtTheHandshakeDeadline() throws Exception {
        start("\"timeouts\": {\"tls_handshake\": \"500ms\"}");
        Bystander bystander = new Bystander();
        long failuresBefore = handshakeFailures();
        byte[] hello = TlsEndToEndTest.modernClientHello(proxy.port());
        try (Socket socket = TlsEndToEndTest.rawSocket(proxy.port())) {
            long start = System.nanoTime();
            socket.getOutputStream().write(hello, 0, hello.length / 2);
            byte[] answer = TlsEndToEndTest.readUntilClosed(socket);
            assertThat(millisSince(start)).as("closed at the 500 ms handshake deadline").isBetween(450L, 2500L);
            assertOnlyAnAlert(answer);
        }
        bystander.assertUnaffected();
        awaitCondition("the timed-out handshake is counted as failed", () -> handshakeFailures() > failuresBefore, 5000);
        assertNothingLeft();
    }

    /**
     * Not a ClientHello: closed at once (an alert at most), not at the handshake deadline (10 s
     * here), and counted as a failed handshake.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
        "47 45 54 20 2f 20 48 54 54 50 2f 31 2e 31 0d 0a 0d 0a", // "GET / HTTP/1.1" in the clear
        "16 03 01 00 05 ff ff ff ff ff",                         // a handshake record of garbage
        "00 00 00 00 00 00 00 00",                               // zeros
    })
    void garbageInsteadOfAClientHelloIsClosedAtOnce(String hex) throws Exception {
        start("\"timeouts\": {\"tls_handshake\": \"10s\"}");
        Bystander bystander = new Bystander();
        long failuresBefore = handshakeFailures();
        try (Socket socket = TlsEndToEndTest.rawSocket(proxy.port())) {
            long start = System.nanoTime();
            socket.getOutputStream().write(TlsEndToEndTest.hex(hex));
            byte[] answer = TlsEndToEndTest.readUntilClosed(socket);
            assertThat(millisSince(start)).as("closed at once").isLessThan(2000L);
            if (!hex.startsWith("47 45 54")) {
                assertOnlyAnAlert(answer); // plain HTTP gets a plain 400 (TlsEndToEndTest)
            }
        }
        bystander.assertUnaffected();
        awaitCondition("a failed handshake is counted", () -> handshakeFailures() > failuresBefore, 5000);
        assertNothingLeft();
    }

    /** A reset right after the ClientHello, while the server's flight is on its way. */
    @Test
    void aResetMidHandshakeLeavesNothing() throws Exception {
        start("");
        Bystander bystander = new Bystander();
        byte[] hello = TlsEndToEndTest.modernClientHello(proxy.port());
        for (int i = 0; i < 5; i++) {
            Socket socket = TlsEndToEndTest.rawSocket(proxy.port());
            socket.getOutputStream().write(hello);
            socket.getInputStream().read(); // the first byte of the server's flight: it is mid-handshake
            socket.setSoLinger(true, 0);
            socket.close();
        }
        bystander.assertUnaffected();
        assertNothingLeft();
    }

    // ---- requests over TLS ----

    /** One byte per TLS record every 50 ms: the head timeout still counts the whole head. */
    @Test
    void slowlorisOverTlsIsCutWith408ByTheHeadTimeout() throws Exception {
        start("\"timeouts\": {\"client_head\": \"600ms\"}");
        Bystander bystander = new Bystander();
        try (TlsClient slow = TlsClient.connect(proxy.port())) {
            long start = System.nanoTime();
            byte[] head = ("GET / HTTP/1.1\r\nHost: t\r\nX-Drip: " + "a".repeat(200)).getBytes(StandardCharsets.US_ASCII);
            int sent = 0;
            // The raw socket: an SSLSocket's available() counts only what it already decrypted.
            while (sent < head.length && slow.raw.getInputStream().available() == 0 && millisSince(start) < 5000) {
                try {
                    slow.send(new byte[] {head[sent]}); // a record of its own
                } catch (IOException closed) {
                    break;
                }
                sent++;
                sleep(50);
            }
            HttpMessage response = slow.response();
            assertThat(response.status()).isEqualTo(408);
            assertThat(millisSince(start)).isBetween(550L, 2500L);
            assertThat(sent).as("records kept coming until the answer").isGreaterThan(8);
            assertThat(slow.isClosedByPeer()).isTrue();
        }
        bystander.assertUnaffected();
        assertThat(nextTermination()).isEqualTo("408 client_timeout");
        assertNothingLeft();
    }

    /** A bad start line alone in a record, then the client waits: answered at once, not at the 10 s head timeout. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "G@T / HTTP/1.1 | 400",
        "GET / HTTP/2.0 | 400",
        "SSH-2.0-OpenSSH_9.6 | 400",
    })
    void aBadStartLineOverTlsIsAnsweredAtOnce(String line, int status) throws Exception {
        start("\"timeouts\": {\"client_head\": \"10s\"}");
        try (TlsClient client = TlsClient.connect(proxy.port())) {
            long start = System.nanoTime();
            client.send(line + "\r\n");
            HttpMessage response = client.response();
            assertThat(response.status()).isEqualTo(status);
            assertThat(millisSince(start)).isLessThan(2000L);
            assertThat(client.in.read()).as("then the connection ends").isEqualTo(-1);
        }
        assertThat(nextTermination()).isEqualTo(status + " bad_request");
        assertNothingLeft();
    }

    /**
     * A TLS client that stops reading a large response: the proxy's buffers stay bounded (the TLS
     * engine's on top of the plain ones), the origin is throttled, and the inactivity timeout ends it.
     */
    @Test
    void aTlsClientThatStopsReadingHoldsBoundedMemoryAndIsClosedByTheInactivityTimeout() throws Exception {
        start("\"timeouts\": {\"backend_response\": \"700ms\"}");
        Bystander bystander = new Bystander();
        try (TlsClient reader = TlsClient.connect(proxy.port())) {
            reader.send("GET /endless HTTP/1.1\r\nHost: t\r\n\r\n");
            reader.in.readNBytes(16 * 1024);
            long stalledAt = System.nanoTime();
            awaitCondition("the origin blocked", () -> {
                long before = endlessWritten.get();
                sleep(150);
                return endlessWritten.get() == before;
            }, 5000);
            assertThat(LeakCheck.held(proxy).buffers()).as("buffers held for a stalled TLS response")
                    .isLessThanOrEqualTo(6);
            assertThat(endlessWritten.get()).as("bytes the origin wrote").isLessThan(64L << 20);
            assertThat(finished.poll(5, TimeUnit.SECONDS)).isEqualTo("200 client_timeout");
            assertThat(millisSince(stalledAt)).isBetween(600L, 3000L);
            drainUntilClosed(reader.in, 5000);
        }
        bystander.assertUnaffected();
        assertNothingLeft();
    }

    /** RST mid-download over TLS (no close_notify): the backend side is aborted, the session freed. */
    @Test
    void aResetMidDownloadOverTlsLeavesNothing() throws Exception {
        start("");
        Bystander bystander = new Bystander();
        TlsClient downloader = TlsClient.connect(proxy.port());
        downloader.send("GET /endless HTTP/1.1\r\nHost: t\r\n\r\n");
        assertThat(downloader.in.readNBytes(1 << 20)).hasSize(1 << 20);
        downloader.vanish();
        bystander.assertUnaffected();
        assertThat(nextTermination()).isEqualTo("499 client_closed");
        assertNothingLeft();
        assertUploadsStillWork();
    }

    // ---- helpers ----

    private long handshakeFailures() {
        return proxy.proxy.workers().stream().mapToLong(Worker::tlsHandshakeFailures).sum();
    }

    /** Whatever came back before the close is at most TLS alert records (content type 21). */
    private static void assertOnlyAnAlert(byte[] answer) {
        if (answer.length > 0) {
            assertThat(answer[0] & 0xFF).as("only an alert may come back").isEqualTo(21);
        }
    }
}
