package dev.moonbeam.observe;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moonbeam.balance.Routing;
import dev.moonbeam.loop.BufferPool;
import dev.moonbeam.loop.Clock;
import dev.moonbeam.loop.EventLoop;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class AdminEndpointTest {
    /** Larger than socket buffers, so the response needs OP_WRITE rounds. */
    private static final int BIG = 8 * 1024 * 1024;

    private EventLoop loop;
    private BufferPool buffers;
    private int port;
    private volatile boolean bigMetrics;

    @BeforeEach
    void start() throws Exception {
        buffers = BufferPool.withDefaults();
        loop = new EventLoop("admin-test", Clock.SYSTEM, buffers);
        ServerSocketChannel socket = ServerSocketChannel.open();
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        port = ((InetSocketAddress) socket.getLocalAddress()).getPort();
        MetricsRegistry registry = new MetricsRegistry(() -> Routing.EMPTY);
        AdminPages real = AdminPages.of(registry, "test");
        AdminEndpoint.register(loop, socket, new AdminPages() {
            @Override
            public byte[] metrics() {
                if (bigMetrics) {
                    byte[] body = new byte[BIG];
                    Arrays.fill(body, (byte) 'm');
                    return body;
                }
                return real.metrics();
            }

            @Override
            public byte[] status() {
                return real.status();
            }
        });
        loop.start();
    }

    @AfterEach
    void stop() throws Exception {
        loop.shutdown();
        assertThat(loop.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
    }

    static Stream<Arguments> routes() {
        return Stream.of(
                Arguments.of("GET /healthz HTTP/1.1", 200, "text/plain", "ok\n"),
                Arguments.of("GET /metrics HTTP/1.1", 200, "text/plain; version=0.0.4", "# HELP moonbeam_requests_total"),
                Arguments.of("GET /metrics?x=1 HTTP/1.1", 200, "text/plain; version=0.0.4", "# TYPE moonbeam_requests_total counter"),
                Arguments.of("GET /status HTTP/1.1", 200, "text/html", "<meta http-equiv=\"refresh\""),
                Arguments.of("GET / HTTP/1.1", 404, "text/plain", "not found"),
                Arguments.of("GET /metricsx HTTP/1.1", 404, "text/plain", "not found"),
                Arguments.of("POST /metrics HTTP/1.1", 405, "text/plain", "method not allowed"),
                Arguments.of("DELETE /status HTTP/1.1", 405, "text/plain", "method not allowed"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("routes")
    void routesAnswerAndKeepTheConnection(String requestLine, int status, String contentType, String bodyPart) throws Exception {
        try (Http client = new Http(port)) {
            for (int i = 0; i < 2; i++) { // the same connection serves a second request
                Http.Response response = client.send(requestLine + "\r\nHost: a\r\nContent-Length: 0\r\n\r\n").response(false);
                assertThat(response.status()).isEqualTo(status);
                assertThat(response.header("Content-Type")).startsWith(contentType);
                assertThat(response.body()).contains(bodyPart);
                assertThat(response.header("Connection")).isNull();
            }
            if (status == 405) {
                assertThat(client.send(requestLine + "\r\nHost: a\r\n\r\n").response(false).header("Allow")).isEqualTo("GET, HEAD");
            }
        }
    }

    @Test
    void metricsParseAsPrometheusText() throws Exception {
        try (Http client = new Http(port)) {
            PrometheusParser.parse(client.get("/metrics").body());
        }
    }

    @Test
    void headHasNoBodyAndPipelinedRequestsAnswerInOrder() throws Exception {
        try (Http client = new Http(port)) {
            client.send("HEAD /healthz HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\nGET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
            Http.Response head = client.response(true);
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("Content-Length")).isEqualTo("3");
            assertThat(client.response(false).status()).isEqualTo(404);
            assertThat(client.response(false).body()).isEqualTo("ok\n");
        }
    }

    @Test
    void connectionCloseAndHttp10AreHonoured() throws Exception {
        for (String request : List.of("GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", "GET /healthz HTTP/1.0\r\n\r\n")) {
            try (Http client = new Http(port)) {
                Http.Response response = client.send(request).response(false);
                assertThat(response.status()).isEqualTo(200);
                assertThat(response.header("Connection")).isEqualTo("close");
                assertThat(client.closedByPeer()).isTrue();
            }
        }
    }

    static Stream<String> badRequests() {
        return Stream.of(
                "GET /healthz HTTP/1.1\r\n\r\n", // no Host
                "GET /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                "GET /" + "x".repeat(3000) + " HTTP/1.1\r\nHost: a\r\n\r\n", // request line over the admin limit
                "GET /healthz HTTP/1.1\r\nHost: a\r\nX: " + "y".repeat(9000) + "\r\n\r\n"); // head over the limit
    }

    @ParameterizedTest
    @MethodSource("badRequests")
    void badRequestsGetAnErrorAndClose(String request) throws Exception {
        try (Http client = new Http(port)) {
            Http.Response response = client.send(request).response(false);
            assertThat(response.status()).isBetween(400, 431);
            assertThat(response.header("Connection")).isEqualTo("close");
            assertThat(client.closedByPeer()).isTrue();
        }
    }

    @Test
    void largeResponseIsWrittenWithoutBlockingTheLoop() throws Exception {
        bigMetrics = true;
        try (Http slow = new Http(port); Http other = new Http(port)) {
            slow.send("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
            // While the slow reader is not reading, the loop still serves another client.
            Thread.sleep(100);
            assertThat(other.get("/healthz").body()).isEqualTo("ok\n");
            Http.Response big = slow.response(false);
            assertThat(big.body()).hasSize(BIG);
            assertThat(slow.get("/healthz").status()).isEqualTo(200);
        }
    }

    @Test
    void buffersAreReturnedWhenConnectionsEnd() throws Exception {
        try (Http client = new Http(port)) {
            client.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nGET /hea"); // half a second request
            assertThat(client.response(false).status()).isEqualTo(200);
        }
        AccessLogTest.awaitTrue(() -> outstanding() == 0);
    }

    private int outstanding() throws Exception {
        int[] result = new int[1];
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        loop.execute(() -> {
            result[0] = buffers.outstanding();
            done.countDown();
        });
        assertThat(done.await(5, TimeUnit.SECONDS)).isTrue();
        return result[0];
    }
}
