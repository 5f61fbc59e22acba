package dev.moonbeam.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moonbeam.observe.RequestListener;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Misbehaving clients, one fault per test (issue 16, point 2). Each asserts what the faulty client
 * gets and how soon, that a client served at the same time on the same event loop is unaffected
 * (a {@link Bystander}), the termination reason recorded, and that nothing is left behind: no
 * buffer, client connection or in-flight request held ({@link LeakCheck}), the JVM's descriptors
 * back, no request running on the backend, and every backend connection still open an idle pooled
 * one (a connection the fault dirtied is closed, not pooled). Timeouts are configured short so the
 * class runs in seconds; every wait is bounded.
 */
class ChaosClientTest extends ChaosTestBase {
    @Override
    boolean tls() {
        return false;
    }

    // ---- slow clients ----

    /** One byte every 50 ms keeps a per-read timeout happy forever; client_head bounds the whole head. */
    @Test
    void slowlorisHeadIsCutWith408ByTheHeadTimeoutWhileBytesKeepComing() throws Exception {
        start("\"timeouts\": {\"client_head\": \"600ms\"}");
        Bystander bystander = new Bystander();
        try (RawClient slow = proxy.client()) {
            long start = System.nanoTime();
            byte[] head = ("GET / HTTP/1.1\r\nHost: t\r\nX-Drip: " + "a".repeat(200)).getBytes(StandardCharsets.US_ASCII);
            int sent = 0;
            while (sent < head.length && slow.in.available() == 0 && millisSince(start) < 5000) {
                try {
                    slow.send(new byte[] {head[sent]});
                } catch (IOException closed) {
                    break;
                }
                sent++;
                sleep(50);
            }
            HttpMessage response = slow.response();
            long millis = millisSince(start);
            assertThat(response.status()).isEqualTo(408);
            assertThat(millis).as("answered at the 600 ms head timeout").isBetween(550L, 2500L);
            assertThat(sent).as("bytes kept coming until the answer").isGreaterThan(8);
            assertThat(slow.isClosedByPeer()).isTrue();
        }
        bystander.assertUnaffected();
        assertThat(nextTermination()).isEqualTo("408 client_timeout");
        assertThat(backend.received).as("the backend never saw it").noneMatch(request -> request.target().equals("/"));
        assertNothingLeft();
    }

    /**
     * A body that stops: no body-specific timeout exists; the exchange's inactivity timeout
     * (timeouts.backend_response, re-armed whenever bytes move) ends it with 408, and the backend
     * connection holding half a body is closed, not pooled.
     */
    @Test
    void aStalledBodyGets408AfterTheInactivityTimeoutAndItsBackendConnectionIsClosed() throws Exception {
        start("\"timeouts\": {\"client_head\": \"10s\", \"backend_response\": \"500ms\"}");
        Bystander bystander = new Bystander();
        try (RawClient stalled = proxy.client()) {
            long start = System.nanoTime();
            stalled.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n" + "x".repeat(100));
            HttpMessage response = stalled.response();
            long millis = millisSince(start);
            assertThat(response.status()).isEqualTo(408);
            assertThat(millis).isBetween(450L, 2500L);
            assertThat(stalled.isClosedByPeer()).isTrue();
        }
        bystander.assertUnaffected();
        assertThat(nextTermination()).isEqualTo("408 client_timeout");
        assertNothingLeft();
        assertUploadsStillWork();
    }

    /**
     * A body that drips (one byte every 100 ms) moves bytes more often than any inactivity timeout
     * fires: timeouts.client_body bounds the whole body, so it is cut with 408 at that deadline,
     * and its backend connection (half a body sent) is closed, not pooled.
     */
    @Test
    void aDrippingBodyIsCutWith408ByTheBodyTimeout() throws Exception {
        start("\"timeouts\": {\"backend_response\": \"300ms\", \"client_body\": \"800ms\"}");
        Bystander bystander = new Bystander();
        try (RawClient dripping = proxy.client()) {
            dripping.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n");
            long start = System.nanoTime();
            int sent = drip(dripping, 100, 100);
            HttpMessage response = dripping.response();
            long millis = millisSince(start);
            assertThat(response.status()).isEqualTo(408);
            assertThat(millis).as("answered at the 800 ms body deadline").isBetween(700L, 2500L);
            assertThat(sent).as("bytes kept coming until the answer").isGreaterThan(4);
            assertThat(dripping.isClosedByPeer()).isTrue();
        }
        bystander.assertUnaffected();
        assertThat(nextTermination()).isEqualTo("408 client_timeout");
        assertNothingLeft();
        assertUploadsStillWork();
    }

    /**
     * Time spent waiting for a backend slot is not the client's: the body deadline does not run out
     * in the queue (it is extended by whole periods there), but still bounds the body afterwards.
     */
    @Test
    void theBodyTimeoutDoesNotCountTheWaitForABackendSlot() throws Exception {
        start("\"timeouts\": {\"client_body\": \"300ms\"}, \"queue\": {\"timeout\": \"5s\"}",
                ", \"max_connections\": 1");
        RawClient holder = cleanup.track(proxy.client()).send("GET /hold HTTP/1.1\r\nHost: t\r\n\r\n");
        awaitCondition("the slot is taken", () -> backend.inProgress.get() == 1, 5000);
        try (RawClient waiting = proxy.client()) {
            waiting.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhe");
            sleep(800); // queued for well over the 300 ms body deadline
            assertThat(waiting.in.available()).as("no answer while queued").isZero();
            long released = System.nanoTime();
            release.countDown();
            assertThat(holder.response().bodyText()).isEqualTo("/hold");
            assertThat(waiting.response().status()).as("the rest of the body never came").isEqualTo(408);
            assertThat(millisSince(released)).as("within one more period").isLessThan(2500L);
        }
        holder.close();
        assertThat(nextTermination()).isEqualTo("200 completed");
        assertThat(nextTermination()).isEqualTo("408 client_timeout");
        assertNothingLeft();
    }

    /**
     * Without timeouts.client_body (the default) nothing bounds a dripping body: each byte re-arms
     * the inactivity timeout, as nginx's client_body_timeout and HAProxy's timeout client (both
     * between reads) would, and the request holds its backend connection throughout. Here a body
     * of 12 bytes dripped over 1.2 s outlives a 300 ms inactivity timeout four times over.
     */
    @Test
    void withoutABodyTimeoutADrippingBodyOutlivesTheInactivityTimeout() throws Exception {
        start("\"timeouts\": {\"backend_response\": \"300ms\"}");
        try (RawClient dripping = proxy.client()) {
            dripping.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 12\r\n\r\n");
            assertThat(drip(dripping, 12, 100)).isEqualTo(12);
            assertThat(dripping.response().bodyText()).isEqualTo("len=12");
        }
        assertThat(nextTermination()).isEqualTo("200 completed");
        assertNothingLeft();
    }

    /**
     * A client that stops reading a large response (zero window): the proxy holds a bounded number
     * of buffers, stops reading the backend (which then blocks), and the inactivity timeout closes
     * both connections after the configured time; meanwhile another client is served.
     */
    @Test
    void aClientThatStopsReadingHoldsBoundedMemoryAndIsClosedByTheInactivityTimeout() throws Exception {
        start("\"timeouts\": {\"backend_response\": \"700ms\"}");
        Bystander bystander = new Bystander();
        try (Socket reader = socketWithSmallReceiveBuffer()) {
            reader.getOutputStream().write("GET /endless HTTP/1.1\r\nHost: t\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = reader.getInputStream();
            in.readNBytes(16 * 1024); // the head and a little body; then it reads no more
            long stalledAt = System.nanoTime();
            // The backend is throttled to what the sockets on the way hold, not the 1 GiB it offers.
            awaitCondition("the origin blocked", () -> {
                long before = endlessWritten.get();
                sleep(150);
                return endlessWritten.get() == before;
            }, 5000);
            long written = endlessWritten.get();
            LeakCheck.Held held = LeakCheck.held(proxy);
            assertThat(held.buffers()).as("buffers the proxy holds for a stalled response (one client, one backend)")
                    .isLessThanOrEqualTo(4);
            assertThat(written).as("bytes the origin wrote").isLessThan(64L << 20);

            // Still not reading: the inactivity timeout ends the exchange and closes the connection.
            assertThat(finished.poll(5, TimeUnit.SECONDS)).isEqualTo("200 client_timeout");
            assertThat(millisSince(stalledAt)).as("ended after the 700 ms inactivity timeout").isBetween(600L, 3000L);
            long drained = drainUntilClosed(in, 5000);
            assertThat(drained).as("what the sockets still held").isLessThan(written);
        }
        bystander.assertUnaffected();
        assertNothingLeft();
    }

    // ---- resets ----

    @Test
    void aResetMidUploadAbortsTheBackendSideAndLeavesNoDirtyPooledConnection() throws Exception {
        start("");
        Bystander bystander = new Bystander();
        RawClient uploader = proxy.client();
        uploader.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 10000000\r\n\r\n").send(new byte[200_000]);
        awaitCondition("the upload is on its way to the backend", () -> heldInflight() == 1, 5000);
        sleep(100);
        reset(uploader);
        bystander.assertUnaffected();
        assertThat(nextTermination()).isEqualTo("499 client_closed");
        assertNothingLeft();
        assertUploadsStillWork();
    }

    @Test
    void aResetMidDownloadAbortsTheBackendSideAndLeavesNothing() throws Exception {
        start("");
        Bystander bystander = new Bystander();
        RawClient downloader = proxy.client();
        downloader.send("GET /endless HTTP/1.1\r\nHost: t\r\n\r\n");
        assertThat(downloader.in.readNBytes(1 << 20)).hasSize(1 << 20);
        reset(downloader);
        bystander.assertUnaffected();
        assertThat(nextTermination()).isEqualTo("499 client_closed");
        assertNothingLeft();
        assertUploadsStillWork();
    }

    // ---- half-close ----

    /** FIN right after a complete request: the response still arrives whole (as nginx and HAProxy do), then the close. */
    @Test
    void aHalfCloseAfterTheRequestStillGetsTheWholeResponse() throws Exception {
        start("");
        Bystander bystander = new Bystander();
        int size = 2 << 20;
        try (RawClient client = proxy.client()) {
            // Two pipelined requests, then FIN: both are answered, in order, then the connection closes.
            client.send("GET /bytes/" + size + " HTTP/1.1\r\nHost: t\r\n\r\nGET /second HTTP/1.1\r\nHost: t\r\n\r\n");
            client.socket.shutdownOutput();
            HttpMessage response = client.response();
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.body()).hasSize(size);
            assertThat(client.response().bodyText()).isEqualTo("/second");
            assertThat(client.in.read()).as("then the connection closes (FIN, not a reset)").isEqualTo(-1);
        }
        bystander.assertUnaffected();
        assertThat(nextTermination()).isEqualTo("200 completed");
        assertThat(nextTermination()).isEqualTo("200 completed");
        assertNothingLeft();
    }

    // ---- pipelining ----

    /**
     * Thousands of requests in one write are answered in order, while the proxy holds no more than
     * a connection's buffers: it reads the next request only when the previous one is done.
     */
    @Test
    void aPipelinedFloodIsAnsweredInOrderWithBoundedMemory() throws Exception {
        start("");
        Bystander bystander = new Bystander();
        int count = 3000;
        StringBuilder flood = new StringBuilder();
        for (int i = 0; i < count; i++) {
            flood.append("GET /p").append(i).append(" HTTP/1.1\r\nHost: t\r\n\r\n");
        }
        byte[] bytes = flood.toString().getBytes(StandardCharsets.US_ASCII);
        try (RawClient client = proxy.client()) {
            Thread writer = new Thread(() -> {
                try {
                    client.send(bytes); // one write of ~100 KB; blocks while the proxy pushes back
                } catch (IOException e) {
                    // the reader below reports what went wrong
                }
            }, "pipeline-writer");
            writer.setDaemon(true);
            writer.start();
            int maxBuffers = 0;
            for (int i = 0; i < count; i++) {
                HttpMessage response = client.response();
                assertThat(response.bodyText()).as("response " + i).isEqualTo("/p" + i);
                if (i % 500 == 0) {
                    maxBuffers = Math.max(maxBuffers, LeakCheck.held(proxy).buffers());
                }
            }
            writer.join(5000);
            assertThat(maxBuffers).as("buffers held during the flood").isLessThanOrEqualTo(4);
        }
        bystander.assertUnaffected();
        for (int i = 0; i < count; i++) {
            assertThat(nextTermination()).isEqualTo("200 completed");
        }
        assertNothingLeft();
    }

    // ---- connection churn at the limit ----

    /**
     * Eight clients churn connections against a cap of six (open, request, close; the same with a
     * reset; open and close at once; half a head then a reset) while a keep-alive bystander works.
     * Past the cap new connections wait in the backlog, and idle keep-alive connections (the
     * bystander's too, between requests) are closed to make room: a client whose connection closed
     * before any answer byte retries on a new one, as HTTP clients do for a keep-alive connection
     * the server closed. Every request gets its 200, the proxy never holds more than the cap, and
     * the counts go back to zero.
     */
    @Test
    void connectionChurnAtTheConnectionLimitKeepsServingAndGivesEverySlotBack() throws Exception {
        int cap = 6;
        start("\"limits\": {\"max_client_connections\": " + cap + "}");
        AtomicInteger served = new AtomicInteger();
        AtomicInteger retries = new AtomicInteger();
        AtomicLong slowestMillis = new AtomicLong();
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
        for (int t = 0; t < 9; t++) {
            int worker = t;
            Thread thread = new Thread(() -> {
                for (int i = 0; i < 300 && System.nanoTime() < until && failures.isEmpty(); i++) {
                    // Worker 0 is a keep-alive bystander; the others churn, each way in turn.
                    int kind = worker == 0 ? 4 : (worker + i) % 4;
                    try {
                        long start = System.nanoTime();
                        churnOnce(kind, served, retries);
                        slowestMillis.accumulateAndGet(millisSince(start), Math::max);
                    } catch (IOException | RuntimeException e) {
                        failures.add("worker " + worker + " kind " + kind + ": " + e);
                    }
                }
            }, "churn-" + t);
            thread.setDaemon(true);
            thread.start();
            threads.add(thread);
        }
        int mostOpen = 0;
        while (threads.stream().anyMatch(Thread::isAlive) && millisSince(until) < 10_000) {
            mostOpen = Math.max(mostOpen, proxy.proxy.workers().stream().mapToInt(Worker::openClients).sum());
            sleep(5);
        }
        for (Thread thread : threads) {
            thread.join(5000);
            assertThat(thread.isAlive()).as(thread.getName() + " finished").isFalse();
        }
        if (keepAlive != null) {
            keepAlive.close();
        }
        System.out.println("churn: " + served + " requests served, " + retries + " retried after an idle close, slowest "
                + slowestMillis + " ms, most connections open " + mostOpen);
        assertThat(failures).isEmpty();
        assertThat(served.get()).as("requests served").isGreaterThan(50);
        assertThat(slowestMillis.get()).as("slowest request, retries included, ms").isLessThan(3000L);
        assertThat(mostOpen).as("client connections open at once").isLessThanOrEqualTo(cap);
        assertThat(proxy.proxy.metrics().prometheus()).containsPattern("moonbeam_client_connection_limit_reached_total\\S* [1-9]");
        for (int i = 0; i < served.get(); i++) {
            assertThat(nextTermination()).isEqualTo("200 completed");
        }
        assertNothingLeft();
        try (RawClient after = proxy.client()) {
            assertThat(after.get("/after").status()).isEqualTo(200);
        }
        assertThat(nextTermination()).isEqualTo("200 completed");
    }

    /** One round of a churning client; kind 4 is a keep-alive client making one request per 20 ms. */
    private void churnOnce(int kind, AtomicInteger served, AtomicInteger retries) throws IOException {
        switch (kind) {
            case 0, 1 -> {
                RawClient client = requestWithRetry(served, retries);
                if (kind == 1) {
                    reset(client);
                } else {
                    client.close();
                }
            }
            case 2 -> proxy.client().close();
            case 3 -> {
                RawClient client = proxy.client().send("GET /half HTTP/1.1\r\nHo");
                reset(client);
            }
            case 4 -> {
                if (keepAlive == null) {
                    keepAlive = requestWithRetry(served, retries);
                } else if (!getOrClosed(keepAlive, served)) {
                    keepAlive.close();
                    retries.incrementAndGet();
                    keepAlive = requestWithRetry(served, retries);
                }
                sleep(20);
            }
            default -> throw new IllegalArgumentException("kind " + kind);
        }
    }

    /** The churn bystander's connection; used by its thread only. */
    private RawClient keepAlive;

    /** A GET /churn on new connections until one is answered (at most 10); returns that connection. */
    private RawClient requestWithRetry(AtomicInteger served, AtomicInteger retries) throws IOException {
        for (int attempt = 0; attempt < 10; attempt++) {
            RawClient client = proxy.client();
            if (getOrClosed(client, served)) {
                return client;
            }
            client.close();
            retries.incrementAndGet();
        }
        throw new IOException("no answer on 10 connections");
    }

    /** True when answered 200; false when the connection was closed before any answer byte. */
    private static boolean getOrClosed(RawClient client, AtomicInteger served) throws IOException {
        try {
            client.send("GET /churn HTTP/1.1\r\nHost: t\r\n\r\n");
            client.in.mark(1);
            if (client.in.read() < 0) {
                return false;
            }
            client.in.reset();
        } catch (java.net.SocketException closed) {
            return false; // reset, or the write found the connection closed
        }
        HttpMessage response = client.response();
        if (response.status() != 200 || !response.bodyText().equals("/churn")) {
            throw new IOException("unexpected answer " + response.startLine());
        }
        served.incrementAndGet();
        return true;
    }

    // ---- malformed requests ----

    /**
     * Malformed request lines and heads, each answered at once with its status and a clean close
     * (FIN after the answer), never after the head timeout (10 s here). Rows marked "alone" send
     * only the bad line and then wait, as a client that expects an answer does: the proxy must
     * not wait for the end of a head that cannot become valid.
     */
    static Stream<Arguments> malformed() {
        return Stream.of(
                // the start line alone, then the client waits
                Arguments.of("bad method token, alone", "G@T / HTTP/1.1\r\n", 400),
                Arguments.of("bad version, alone", "GET / HTTX/1.1\r\n", 400),
                Arguments.of("HTTP/2.0 text line, alone", "GET / HTTP/2.0\r\n", 400),
                Arguments.of("HTTP/1.2, alone", "GET / HTTP/1.2\r\n", 400),
                Arguments.of("missing target, alone", "GET HTTP/1.1\r\n", 400),
                Arguments.of("missing version (HTTP/0.9), alone", "GET /\r\n", 400),
                Arguments.of("two spaces, alone", "GET  / HTTP/1.1\r\n", 400),
                Arguments.of("trailing space, alone", "GET / HTTP/1.1 \r\n", 400),
                Arguments.of("leading space, alone", " GET / HTTP/1.1\r\n", 400),
                Arguments.of("fragment in target, alone", "GET /a#b HTTP/1.1\r\n", 400),
                Arguments.of("target without slash, alone", "GET example.com HTTP/1.1\r\n", 400),
                Arguments.of("an SSH banner, alone", "SSH-2.0-OpenSSH_9.6\r\n", 400),
                Arguments.of("CONNECT, alone", "CONNECT example.com:443 HTTP/1.1\r\n", 501),
                // refused at the offending byte, before the line ends
                Arguments.of("control byte in target", "GET /\u0001", 400),
                Arguments.of("NUL first", "\u0000\u0000\u0000\u0000", 400),
                Arguments.of("bare CR", "GET / HTTP/1.1\rX", 400),
                Arguments.of("bare LF", "GET / HTTP/1.1\n", 400),
                Arguments.of("a TLS ClientHello on the plain port", "\u0016\u0003\u0001\u0000\u00a5\u0001\u0000", 400),
                Arguments.of("request line over 8k", "GET /" + "a".repeat(9000), 414),
                // a header line alone, then the client waits
                Arguments.of("obs-fold, alone", "GET / HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n folded\r\n", 400),
                Arguments.of("whitespace after the start line, alone", "GET / HTTP/1.1\r\n Host: t\r\n", 400),
                Arguments.of("header line without colon, alone", "GET / HTTP/1.1\r\nHost: t\r\nNo colon here\r\n", 400),
                Arguments.of("whitespace before colon, alone", "GET / HTTP/1.1\r\nHost : t\r\n", 400),
                Arguments.of("NUL in a value", "GET / HTTP/1.1\r\nHost: t\r\nX-A: a\u0000b", 400),
                // whole heads
                Arguments.of("HTTP/2 preface without h2c", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400),
                Arguments.of("Content-Length with Transfer-Encoding",
                        "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
                Arguments.of("differing Content-Lengths",
                        "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400),
                Arguments.of("bad Content-Length", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1x\r\n\r\n", 400),
                Arguments.of("unknown transfer coding",
                        "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 400),
                Arguments.of("no Host", "GET / HTTP/1.1\r\n\r\n", 400),
                Arguments.of("two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
                Arguments.of("too many fields", "GET / HTTP/1.1\r\nHost: t\r\n" + "X-A: 1\r\n".repeat(120) + "\r\n", 431));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void aMalformedRequestIsAnsweredAtOnceAndClosedCleanly(String name, String request, int status) throws Exception {
        start("\"timeouts\": {\"client_head\": \"10s\"}");
        try (RawClient client = proxy.client()) {
            long start = System.nanoTime();
            client.send(request);
            HttpMessage response = client.response();
            long millis = millisSince(start);
            assertThat(response.status()).isEqualTo(status);
            assertThat(millis).as("answered at once, not at the 10 s head timeout").isLessThan(2000L);
            assertThat(response.header("Connection")).isEqualToIgnoringCase("close");
            assertThat(client.in.read()).as("then FIN (a reset could destroy the answer)").isEqualTo(-1);
        }
        assertThat(nextTermination()).isEqualTo(status + " " + (status == 414 || status == 431 ? "limit_reached" : "bad_request"));
        assertThat(backend.received).as("nothing reached the backend").allMatch(r -> r.target().equals("/warm"));
        assertNothingLeft();
    }
}
