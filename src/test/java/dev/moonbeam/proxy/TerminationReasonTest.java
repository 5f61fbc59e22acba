package dev.moonbeam.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moonbeam.observe.RequestListener;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every termination reason, produced over real sockets by the fault that causes it: what the
 * client receives, and the status and reason the access log and metrics are told.
 */
class TerminationReasonTest {
    @TempDir
    Path dir;
    @RegisterExtension
    final Cleanup cleanup = new Cleanup();
    /** "status reason" of every finished request, in the order the loops reported them. */
    private final BlockingQueue<String> finished = new LinkedBlockingQueue<>();


    private ProxyHarness proxy(String backendsJson, String extraJson) throws Exception {
        RequestListener recorder = record -> finished.add(record.status + " " + record.termination.label());
        return cleanup.track(ProxyHarness.start(dir, 1, backendsJson, extraJson, i -> recorder));
    }

    private ProxyHarness proxy(TestBackend backend, String extraJson) throws Exception {
        return proxy("[\"" + backend.address() + "\"]", extraJson);
    }

    private String nextTermination() throws InterruptedException {
        String next = finished.poll(10, TimeUnit.SECONDS);
        assertThat(next).as("a finished request was reported").isNotNull();
        return next;
    }

    @Test
    void aRelayedResponseIsCompleted() throws Exception {
        TestBackend backend = cleanup.track(new TestBackend("ok", (request, in, out, socket) -> TestBackend.respond(out, 404, "no")));
        ProxyHarness proxy = proxy(backend, "");
        assertThat(cleanup.track(proxy.client()).get("/x").status()).isEqualTo(404);
        assertThat(nextTermination()).isEqualTo("404 completed");
        assertReasonCount(proxy, "completed", 1);
    }

    @Test
    void malformedAndOversizedRequestsAreBadRequestAndLimitReached() throws Exception {
        TestBackend backend = cleanup.track(new TestBackend("ok", (request, in, out, socket) -> TestBackend.respond(out, 200, "ok")));
        ProxyHarness proxy = proxy(backend, "");
        RawClient noHost = cleanup.track(proxy.client()).send("GET / HTTP/1.1\r\n\r\n");
        assertThat(noHost.response().status()).isEqualTo(400);
        assertThat(nextTermination()).isEqualTo("400 bad_request");

        RawClient longLine = cleanup.track(proxy.client()).send("GET /" + "a".repeat(9000) + " HTTP/1.1\r\nHost: t\r\n\r\n");
        assertThat(longLine.response().status()).isEqualTo(414);
        assertThat(nextTermination()).isEqualTo("414 limit_reached");

        RawClient connect = cleanup.track(proxy.client()).send("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
        assertThat(connect.response().status()).isEqualTo(501);
        assertThat(nextTermination()).isEqualTo("501 bad_request");
        assertThat(backend.requests.get()).isZero();
        assertReasonCount(proxy, "bad_request", 2);
        assertReasonCount(proxy, "limit_reached", 1);
    }

    @Test
    void aStalledHeadIsAClientTimeout() throws Exception {
        TestBackend backend = cleanup.track(new TestBackend("ok", (request, in, out, socket) -> TestBackend.respond(out, 200, "ok")));
        ProxyHarness proxy = proxy(backend, "\"timeouts\": {\"client_head\": \"300ms\"}");
        RawClient slow = cleanup.track(proxy.client()).send("GET / HTTP/1.1\r\nHost: t\r\n");
        assertThat(slow.response().status()).isEqualTo(408);
        assertThat(nextTermination()).isEqualTo("408 client_timeout");
    }

    @Test
    void aClientThatResetsBeforeItsResponseIsClientClosed() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        TestBackend backend = cleanup.track(new TestBackend("slow", (request, in, out, socket) -> {
            await(release);
            TestBackend.respond(out, 200, "late");
        }));
        ProxyHarness proxy = proxy(backend, "");
        RawClient leaving = proxy.client().send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
        awaitCondition(() -> backend.inProgress.get() == 1);
        // A reset: a FIN alone could be a half-close, after which the response is still sent.
        leaving.socket.setSoLinger(true, 0);
        leaving.close();
        assertThat(nextTermination()).isEqualTo("499 client_closed");
        release.countDown();
    }

    @Test
    void aRefusedBackendIsConnectFailedAndThenNoBackendWhileItIsDown() throws Exception {
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0)) {
            closedPort = probe.getLocalPort();
        }
        ProxyHarness proxy = proxy("[\"127.0.0.1:" + closedPort + "\"]", "");
        assertThat(cleanup.track(proxy.client()).get("/").status()).isEqualTo(502);
        assertThat(nextTermination()).isEqualTo("502 backend_connect_failed");
        assertThat(cleanup.track(proxy.client()).get("/").status()).isEqualTo(503);
        assertThat(nextTermination()).isEqualTo("503 no_backend");
        assertBackendErrors(proxy, 1); // a connect failure counts against the backend
    }

    @Test
    void aBackendThatClosesIsBackendResetBeforeAndAfterTheResponseBegan() throws Exception {
        TestBackend backend = cleanup.track(new TestBackend("breaking", (request, in, out, socket) -> {
            if (request.target().equals("/cut")) {
                out.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
            socket.close();
        }));
        ProxyHarness proxy = proxy(backend, "");
        assertThat(cleanup.track(proxy.client()).get("/nothing").status()).isEqualTo(502);
        assertThat(nextTermination()).isEqualTo("502 backend_reset");

        RawClient cut = cleanup.track(proxy.client()).send("GET /cut HTTP/1.1\r\nHost: t\r\n\r\n");
        String received = new String(cut.in.readAllBytes(), StandardCharsets.US_ASCII);
        assertThat(received).startsWith("HTTP/1.1 200").endsWith("only part");
        assertThat(nextTermination()).as("the backend's status stays in the log").isEqualTo("200 backend_reset");
    }

    @Test
    void anInvalidResponseIsBackendInvalidResponse() throws Exception {
        TestBackend backend = cleanup.track(new TestBackend("garbage", (request, in, out, socket) -> {
            out.write("HTTP/1.1 2OO OK\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }));
        ProxyHarness proxy = proxy(backend, "");
        assertThat(cleanup.track(proxy.client()).get("/").status()).isEqualTo(502);
        assertThat(nextTermination()).isEqualTo("502 backend_invalid_response");
    }

    @Test
    void aSilentBackendIsBackendTimeout() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        TestBackend backend = cleanup.track(new TestBackend("silent", (request, in, out, socket) -> await(release)));
        ProxyHarness proxy = proxy(backend, "\"timeouts\": {\"backend_response\": \"300ms\"}");
        assertThat(cleanup.track(proxy.client()).get("/").status()).isEqualTo(504);
        assertThat(nextTermination()).isEqualTo("504 backend_timeout");
        assertBackendErrors(proxy, 1);
        release.countDown();
    }

    @Test
    void aFullQueueAndAnExpiredWaitAreQueueFullAndQueueTimeout() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        TestBackend backend = cleanup.track(new TestBackend("one-at-a-time", (request, in, out, socket) -> {
            await(release);
            TestBackend.respond(out, 200, "ok");
        }));
        ProxyHarness proxy = proxy("[{\"address\": \"" + backend.address() + "\", \"max_connections\": 1}]",
                "\"queue\": {\"max_waiting\": 1, \"timeout\": \"400ms\"}");
        RawClient holder = cleanup.track(proxy.client()).send("GET /holder HTTP/1.1\r\nHost: t\r\n\r\n");
        awaitCondition(() -> backend.inProgress.get() == 1);
        RawClient waiter = cleanup.track(proxy.client()).send("GET /waiter HTTP/1.1\r\nHost: t\r\n\r\n");
        awaitCondition(() -> proxy.proxy.metrics().prometheus().contains("\nmoonbeam_queue_length 1"));
        assertThat(cleanup.track(proxy.client()).get("/overflow").status()).isEqualTo(503);
        assertThat(nextTermination()).isEqualTo("503 queue_full");
        assertThat(waiter.response().status()).isEqualTo(503);
        assertThat(nextTermination()).isEqualTo("503 queue_timeout");
        release.countDown();
        assertThat(holder.response().status()).isEqualTo(200);
        assertThat(nextTermination()).isEqualTo("200 completed");
        assertBackendErrors(proxy, 0); // the queue's refusals are not the backend's fault
    }

    @Test
    void aRequestCutOffWhenTheDrainTimeRunsOutIsShutdown() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        TestBackend backend = cleanup.track(new TestBackend("endless", (request, in, out, socket) -> await(release)));
        ProxyHarness proxy = proxy(backend, "");
        RawClient stuck = cleanup.track(proxy.client()).send("GET /forever HTTP/1.1\r\nHost: t\r\n\r\n");
        awaitCondition(() -> backend.inProgress.get() == 1);
        proxy.proxy.drainAndClose(Duration.ofMillis(300));
        assertThat(nextTermination()).isEqualTo("503 shutdown");
        // Closed; a 503 may still get out first if the socket takes it before it closes.
        String received = new String(stuck.in.readAllBytes(), StandardCharsets.US_ASCII);
        assertThat(received).satisfiesAnyOf(r -> assertThat(r).isEmpty(), r -> assertThat(r).startsWith("HTTP/1.1 503 "));
        release.countDown();
    }

    private static void assertReasonCount(ProxyHarness proxy, String reason, long expected) {
        assertMetric(proxy, "moonbeam_request_terminations_total{reason=\"" + reason + "\"}", expected);
    }

    private static void assertBackendErrors(ProxyHarness proxy, long expected) {
        String backend = proxy.proxy.routing().current().backends().get(0).spec().hostPort();
        assertMetric(proxy, "moonbeam_backend_errors_total{backend=\"" + backend + "\"}", expected);
    }

    /** Polls briefly for the sample to reach {@code expected}: loops count after the response went out. */
    private static void assertMetric(ProxyHarness proxy, String sample, long expected) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        long value;
        do {
            value = -1;
            for (String line : proxy.proxy.metrics().prometheus().split("\n")) {
                if (line.startsWith(sample + " ")) {
                    value = (long) Double.parseDouble(line.substring(sample.length() + 1).trim());
                }
            }
            if (value == expected) {
                return;
            }
            sleep(20);
        } while (System.nanoTime() - deadline < 0);
        assertThat(value).as(sample).isEqualTo(expected);
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitCondition(BooleanSupplier condition) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("condition not met within 10 s");
            }
            sleep(10);
        }
    }
}
