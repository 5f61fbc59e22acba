package dev.moonbeam.proxy;

import static dev.moonbeam.proxy.ProxyProtocolTest.inet4;
import static dev.moonbeam.proxy.ProxyProtocolTest.inet6;
import static dev.moonbeam.proxy.ProxyProtocolTest.v2;
import static org.assertj.core.api.Assertions.assertThat;

import dev.moonbeam.observe.RequestListener;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * PROXY protocol on the listeners, over real sockets: required from the listed balancers, refused
 * from everyone else, the carried client address used for X-Forwarded-For and the access log, TLS
 * on top, and PROXY v2 sent on to backends that ask for it.
 */
class ProxyProtocolEndToEndTest {
    private static final String REQUEST = "GET /who HTTP/1.1\r\nHost: t\r\n\r\n";

    @TempDir
    Path dir;
    @RegisterExtension
    final Cleanup cleanup = new Cleanup();
    /** The client address of every finished request, as the access log would write it. */
    private final BlockingQueue<String> loggedClients = new LinkedBlockingQueue<>();
    private TestBackend backend;


    /** A proxy whose PROXY protocol section is {@code proxyProtocolJson}, in front of an echoing backend. */
    private ProxyHarness proxy(String proxyProtocolJson, String moreJson) throws Exception {
        backend = cleanup.track(new TestBackend("echo", (request, in, out, socket) ->
                TestBackend.respond(out, 200, "xff=" + request.header("X-Forwarded-For"))));
        RequestListener recorder = record -> loggedClients.add(new String(record.clientAddress, StandardCharsets.US_ASCII));
        return cleanup.track(ProxyHarness.start(dir, 1, "[\"" + backend.address() + "\"]",
                "\"proxy_protocol\": " + proxyProtocolJson + (moreJson.isEmpty() ? "" : ", " + moreJson), i -> recorder));
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void aV1HeaderFromAListedBalancerGivesTheClientAddressToTheBackendAndTheLog() throws Exception {
        ProxyHarness proxy = proxy("{\"from\": [\"127.0.0.0/8\"]}", "");
        RawClient client = cleanup.track(proxy.client()).send("PROXY TCP4 203.0.113.7 192.0.2.1 51000 443\r\n" + REQUEST);
        HttpMessage response = client.response();
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.bodyText()).isEqualTo("xff=203.0.113.7");
        assertThat(loggedClients.poll(5, TimeUnit.SECONDS)).isEqualTo("203.0.113.7");
        // Keep-alive: the next request on the connection is the same client, with no header of its own.
        assertThat(client.get("/again").bodyText()).isEqualTo("xff=203.0.113.7");
        assertThat(metric(proxy, "moonbeam_proxy_protocol_headers_total")).isEqualTo(1);
    }

    @Test
    void aV2HeaderSentOneByteAtATimeIsReadWithoutTakingTheRequestsBytes() throws Exception {
        ProxyHarness proxy = proxy("{\"from\": [\"127.0.0.1\"]}", "");
        byte[] header = v2(0x21, 0x21, inet6("2001:db8::7", 40000, "2001:db8::1", 443));
        RawClient client = cleanup.track(proxy.client());
        for (byte b : header) {
            client.send(new byte[] {b});
            Thread.sleep(2);
        }
        assertThat(client.send(REQUEST).response().bodyText()).isEqualTo("xff=2001:db8:0:0:0:0:0:7");
    }

    @Test
    void aV2LocalHeaderKeepsTheBalancersOwnAddress() throws Exception {
        ProxyHarness proxy = proxy("{\"from\": [\"127.0.0.0/8\"]}", "");
        byte[] local = v2(0x20, 0x00, new byte[0]);
        RawClient check = cleanup.track(proxy.client()).send(local).send(REQUEST);
        assertThat(check.response().bodyText()).isEqualTo("xff=127.0.0.1");
    }

    @Test
    void aListedBalancerWithoutAHeaderIsRefusedAndCounted() throws Exception {
        ProxyHarness proxy = proxy("{\"from\": [\"127.0.0.0/8\"]}", "");
        RawClient client = cleanup.track(proxy.client()).send(REQUEST);
        assertThat(client.isClosedByPeer()).isTrue();
        assertThat(backend.requests.get()).isZero();
        assertThat(metric(proxy, "moonbeam_proxy_protocol_refused_total{reason=\"missing\"}")).isEqualTo(1);
    }

    @Test
    void malformedTruncatedAndLyingHeadersAreRefusedAndCounted() throws Exception {
        ProxyHarness proxy = proxy("{\"from\": [\"127.0.0.0/8\"]}", "\"timeouts\": {\"client_head\": \"400ms\"}");
        // Malformed: closed at once.
        RawClient malformed = cleanup.track(proxy.client()).send("PROXY TCP4 203.0.113.7 192.0.2.1 99999 443\r\n" + REQUEST);
        assertThat(malformed.isClosedByPeer()).isTrue();
        // Truncated: the balancer closes mid-header.
        RawClient truncated = cleanup.track(proxy.client()).send("PROXY TCP4 203.0.1");
        truncated.socket.shutdownOutput();
        assertThat(truncated.isClosedByPeer()).isTrue();
        // Lying: announces more bytes than it sends, then waits.
        byte[] address = inet4("203.0.113.7", 1, "192.0.2.1", 443, new byte[0]);
        RawClient lying = cleanup.track(proxy.client()).send(v2(0x21, 0x11, 200, address));
        long started = System.nanoTime();
        assertThat(lying.isClosedByPeer()).isTrue();
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).as("closed after client_head").isLessThan(5000);
        // A TLV that claims to run past the header.
        byte[] tlv = inet4("203.0.113.7", 1, "192.0.2.1", 443, new byte[] {0x04, 0x00, 0x20, 'x'});
        RawClient overlong = cleanup.track(proxy.client()).send(v2(0x21, 0x11, tlv));
        assertThat(overlong.isClosedByPeer()).isTrue();

        assertThat(metric(proxy, "moonbeam_proxy_protocol_refused_total{reason=\"invalid\"}")).isEqualTo(3);
        assertThat(metric(proxy, "moonbeam_proxy_protocol_refused_total{reason=\"timeout\"}")).isEqualTo(1);
        assertThat(backend.requests.get()).isZero();
        // The loop is fine: a proper header still works.
        RawClient good = cleanup.track(proxy.client()).send("PROXY TCP4 203.0.113.9 192.0.2.1 1 443\r\n" + REQUEST);
        assertThat(good.response().bodyText()).isEqualTo("xff=203.0.113.9");
    }

    @Test
    void aHeaderFromAClientNotListedIsRefusedWhilePlainRequestsFromItAreServed() throws Exception {
        ProxyHarness proxy = proxy("{\"from\": [\"10.0.0.0/8\"]}", "");
        RawClient forger = cleanup.track(proxy.client()).send("PROXY TCP4 203.0.113.7 192.0.2.1 51000 443\r\n" + REQUEST);
        assertThat(forger.isClosedByPeer()).isTrue();
        assertThat(metric(proxy, "moonbeam_proxy_protocol_refused_total{reason=\"untrusted_source\"}")).isEqualTo(1);
        RawClient direct = cleanup.track(proxy.client()).send(REQUEST);
        assertThat(direct.response().bodyText()).isEqualTo("xff=127.0.0.1");
        assertThat(backend.requests.get()).isEqualTo(1);
    }

    @Test
    void tlsWorksOnTopOfTheHeader() throws Exception {
        String ssl = TlsEndToEndTest.pem(TlsEndToEndTest.fixture("ec.crt"), TlsEndToEndTest.fixture("ec-sec1.key"));
        ProxyHarness proxy = proxy("{\"from\": [\"127.0.0.0/8\"]}", "\"ssl\": " + ssl);
        byte[] header = v2(0x21, 0x11, inet4("198.51.100.20", 60000, "192.0.2.1", 443, new byte[0]));
        try (TlsClient client = new TlsClient(TlsClient.TRUST_ALL, proxy.port(), null, TlsClient.MODERN, List.of("http/1.1"),
                header)) {
            HttpMessage response = client.send(REQUEST).response();
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.bodyText()).isEqualTo("xff=198.51.100.20");
        }
        assertThat(loggedClients.poll(5, TimeUnit.SECONDS)).isEqualTo("198.51.100.20");
    }

    @Test
    void aBackendWithSendProxyProtocolGetsAV2HeaderNamingTheClientOnEveryConnection() throws Exception {
        BlockingQueue<String> seen = new LinkedBlockingQueue<>();
        ServerSocket origin = cleanup.track(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()));
        Thread server = new Thread(() -> serveProxiedOrigin(origin, seen), "proxied-origin");
        server.setDaemon(true);
        server.start();
        ProxyHarness proxy = cleanup.track(ProxyHarness.start(dir, 1,
                "[{\"address\": \"127.0.0.1:" + origin.getLocalPort() + "\", \"send_proxy_protocol\": true}]",
                "\"proxy_protocol\": {\"from\": [\"127.0.0.1\"]}"));
        RawClient client = cleanup.track(proxy.client()).send("PROXY TCP4 203.0.113.7 192.0.2.1 51000 443\r\n" + REQUEST);
        assertThat(client.response().status()).isEqualTo(200);
        assertThat(seen.poll(5, TimeUnit.SECONDS)).isEqualTo("/203.0.113.7:51000 -> /192.0.2.1:443 GET /who HTTP/1.1");
        // The next request gets a new connection with its own header: one carrying a client is never shared.
        assertThat(client.get("/second").status()).isEqualTo(200);
        assertThat(seen.poll(5, TimeUnit.SECONDS)).isEqualTo("/203.0.113.7:51000 -> /192.0.2.1:443 GET /second HTTP/1.1");
        assertThat(proxy.idleBackendConnections()).isZero();
    }

    /** Regression: FIN went missing on connections whose first bytes passed through the header reader. */
    @Test
    void aCloseDelimitedResponseEndsAtOnceForClientsThatCameThroughTheHeaderReader() throws Exception {
        TestBackend closing = cleanup.track(new TestBackend("close-delimited", (request, in, out, socket) -> {
            out.write("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            socket.close();
        }));
        ProxyHarness proxy = cleanup.track(ProxyHarness.start(dir, 1, "[\"" + closing.address() + "\"]",
                "\"proxy_protocol\": {\"from\": [\"10.0.0.0/8\", \"127.0.0.2\"]}"));
        for (String preamble : new String[] {"", null}) {
            RawClient client;
            if (preamble == null) {
                // A listed balancer, from 127.0.0.2, with a v1 header.
                client = cleanup.track(new RawClient(proxy.port(), "127.0.0.2"))
                        .send("PROXY TCP4 203.0.113.7 192.0.2.1 1 443\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n");
            } else {
                client = cleanup.track(proxy.client()).send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
            }
            long started = System.nanoTime();
            String received = new String(client.in.readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(received).endsWith("hello");
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).as("EOF came with the end, not after a grace timer")
                    .isLessThan(2000);
        }
    }

    /** Regression: silent connections waiting for their first bytes held client-limit slots that could not be reclaimed. */
    @Test
    void silentConnectionsAtTheClientLimitAreReclaimedForANewClient() throws Exception {
        ProxyHarness proxy = proxy("{\"from\": [\"10.0.0.0/8\"]}", "\"limits\": {\"max_client_connections\": 2}");
        cleanup.track(proxy.client());
        cleanup.track(proxy.client());
        Thread.sleep(300);
        RawClient third = cleanup.track(proxy.client());
        third.socket.setSoTimeout(5000);
        assertThat(third.get("/").status()).isEqualTo(200);
    }

    /** An origin that expects PROXY v2 first; reports "source -> destination request-line" per connection. */
    private static void serveProxiedOrigin(ServerSocket origin, BlockingQueue<String> seen) {
        for (int i = 0; i < 10; i++) {
            try (Socket socket = origin.accept()) {
                socket.setSoTimeout(5000);
                InputStream in = socket.getInputStream();
                byte[] fixed = in.readNBytes(16);
                int length = (fixed[14] & 0xFF) << 8 | (fixed[15] & 0xFF);
                ByteArrayOutputStream header = new ByteArrayOutputStream();
                header.writeBytes(fixed);
                header.writeBytes(in.readNBytes(length));
                ProxyProtocol.Result result = ProxyProtocol.parse(ByteBuffer.wrap(header.toByteArray()));
                String requestLine = readLine(in);
                while (!readLine(in).isEmpty()) {
                    // skip the header fields
                }
                if (result instanceof ProxyProtocol.Header h) {
                    seen.add(h.source() + " -> " + h.destination() + " " + requestLine);
                } else {
                    seen.add("no header: " + result);
                }
                OutputStream out = socket.getOutputStream();
                out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                // Keep-alive on our side: MoonBeam must close, since a connection that carried one
                // client's header must not carry another's request.
                String next = readLine(in);
                if (!next.isEmpty()) {
                    seen.add("reused for: " + next);
                }
            } catch (IOException e) {
                return;
            }
        }
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int b = in.read(); b >= 0 && b != '\n'; b = in.read()) {
            if (b != '\r') {
                line.append((char) b);
            }
        }
        return line.toString();
    }

    /** A sample's value, polled briefly (counters change on the loop, after the client saw the close). */
    private static long metric(ProxyHarness proxy, String sample) throws InterruptedException {
        long value = -1;
        for (int i = 0; i < 100; i++) {
            value = -1;
            for (String line : proxy.proxy.metrics().prometheus().split("\n")) {
                if (line.startsWith(sample + " ")) {
                    value = (long) Double.parseDouble(line.substring(sample.length() + 1).trim());
                }
            }
            if (value > 0) {
                return value;
            }
            Thread.sleep(20);
        }
        return value;
    }
}
