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
class ChaosClientTest {
    private static final String BYSTANDER = "/bystander";
    /** Larger than any socket buffers hold: the response stalls as soon as the client stops reading. */
    private static final long ENDLESS = 1L << 30;

    @TempDir
    Path dir;
    @RegisterExtension
    final Cleanup cleanup = new Cleanup();
    /** "status reason" of every finished request but the bystander's, in the order the loop reported them. */
    private final BlockingQueue<String> finished = new LinkedBlockingQueue<>();
    /** Bytes of /endless the origin managed to write (it blocks once the proxy stops reading it). */
    private final AtomicLong endlessWritten = new AtomicLong();
    /** Lets /hold answer. */
    private final java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    private TestBackend backend;
    private ProxyHarness proxy;
    private long descriptorsBefore;
    private int pooledBefore;

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

    // ---- helpers ----

    private void start(String extraJson) throws Exception {
        start(extraJson, "");
    }

    /** @param backendJson more members of the backend's object, e.g. {@code , "max_connections": 1} */
    private void start(String extraJson, String backendJson) throws Exception {
        backend = cleanup.track(new TestBackend("chaos", this::origin));
        RequestListener recorder = record -> {
            String target = record.request == null ? "" : record.request.text(record.request.targetStart(), record.request.targetEnd());
            if (!target.equals(BYSTANDER)) {
                finished.add(record.status + " " + record.termination.label());
            }
        };
        proxy = cleanup.track(ProxyHarness.start(dir, 1, "[{\"address\": \"" + backend.address() + "\"" + backendJson + "}]",
                extraJson, i -> recorder));
        // One request first, so the first pooled connection and whatever the JVM opens lazily exist
        // before the descriptor baseline.
        try (RawClient warm = proxy.client()) {
            assertThat(warm.get("/warm").status()).isEqualTo(200);
        }
        assertThat(nextTermination()).isEqualTo("200 completed");
        LeakCheck.assertNothingHeld(proxy, Duration.ofSeconds(5));
        pooledBefore = proxy.idleBackendConnections();
        descriptorsBefore = LeakCheck.openDescriptors();
    }

    /** /endless: 1 GiB, written until the proxy stops taking it; /bytes/N: N bytes; /hold: waits for {@link #release}; /upload: the body's length; else the target. */
    private void origin(HttpMessage request, InputStream in, OutputStream out, Socket socket) throws IOException {
        String target = request.target();
        if (target.equals("/endless") || target.startsWith("/bytes/")) {
            long length = target.equals("/endless") ? ENDLESS : Long.parseLong(target.substring("/bytes/".length()));
            out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            byte[] block = new byte[64 * 1024];
            for (long sent = 0; sent < length; sent += block.length) {
                int n = (int) Math.min(block.length, length - sent);
                out.write(block, 0, n); // blocks while the proxy does not read; fails once it closed
                if (target.equals("/endless")) {
                    endlessWritten.addAndGet(n);
                }
            }
            out.flush();
        } else if (target.equals("/hold")) {
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            TestBackend.respond(out, 200, target);
        } else if (target.equals("/upload")) {
            TestBackend.respond(out, 200, "len=" + request.body().length);
        } else {
            TestBackend.respond(out, 200, target);
        }
    }

    private int heldInflight() {
        try {
            return LeakCheck.held(proxy).inflight();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private String nextTermination() throws InterruptedException {
        String next = finished.poll(10, TimeUnit.SECONDS);
        assertThat(next).as("a finished request was reported").isNotNull();
        return next;
    }

    /**
     * Nothing left behind: no buffer, client connection or in-flight request in the proxy, no
     * request running on the backend, every backend connection still open an idle pooled one, and
     * the JVM's descriptors back to the baseline (plus two per pooled connection added since).
     */
    private void assertNothingLeft() throws Exception {
        LeakCheck.assertNothingHeld(proxy, Duration.ofSeconds(5));
        awaitCondition("no request running on the backend", () -> backend.inProgress.get() == 0, 5000);
        awaitCondition("every open backend connection is an idle pooled one",
                () -> backend.openConnections() == proxy.idleBackendConnections(), 5000);
        int addedPooled = Math.max(0, proxy.idleBackendConnections() - pooledBefore);
        LeakCheck.assertDescriptorsBackTo(descriptorsBefore, 2 * addedPooled, Duration.ofSeconds(5));
        assertThat(finished).as("no unexpected request records").isEmpty();
    }

    /** Pooled connections the fault left are clean: uploads over them arrive whole. */
    private void assertUploadsStillWork() throws Exception {
        for (int i = 0; i < 3; i++) {
            try (RawClient client = proxy.client()) {
                client.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n").send(new byte[5000]);
                assertThat(client.response().bodyText()).isEqualTo("len=5000");
            }
            assertThat(nextTermination()).isEqualTo("200 completed");
        }
    }

    private Socket socketWithSmallReceiveBuffer() throws IOException {
        Socket socket = new Socket();
        socket.setReceiveBufferSize(16 * 1024); // before connect, so the window is small from the start
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), proxy.port()), 5000);
        socket.setSoTimeout(10_000);
        return socket;
    }

    /** Reads and discards until EOF or reset; fails if neither comes within {@code millis}. */
    private static long drainUntilClosed(InputStream in, long millis) throws IOException {
        long start = System.nanoTime();
        long total = 0;
        byte[] buffer = new byte[64 * 1024];
        while (millisSince(start) < millis) {
            int n;
            try {
                n = in.read(buffer);
            } catch (SocketTimeoutException e) {
                break;
            } catch (IOException reset) {
                return total;
            }
            if (n < 0) {
                return total;
            }
            total += n;
        }
        throw new AssertionError("not closed within " + millis + " ms (" + total + " bytes drained)");
    }

    /**
     * Sends up to {@code count} body bytes, one every {@code everyMillis}, until the proxy answers or
     * closes (bounded to 5 s); returns how many went out.
     */
    private static int drip(RawClient client, int count, long everyMillis) throws IOException {
        long start = System.nanoTime();
        int sent = 0;
        while (sent < count && client.in.available() == 0 && millisSince(start) < 5000) {
            try {
                client.send(new byte[] {'x'});
            } catch (IOException closed) {
                break;
            }
            sent++;
            sleep(everyMillis);
        }
        return sent;
    }

    /** RST instead of FIN: SO_LINGER 0, then close. */
    private static void reset(RawClient client) throws IOException {
        client.socket.setSoLinger(true, 0);
        client.close();
    }

    private static long millisSince(long startNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitCondition(String what, BooleanSupplier condition, long millis) {
        long start = System.nanoTime();
        while (!condition.getAsBoolean()) {
            if (millisSince(start) > millis) {
                throw new AssertionError(what + ": not within " + millis + " ms");
            }
            sleep(10);
        }
    }

    /**
     * A well-behaved keep-alive client on the same loop (the proxies here have one) asking for
     * {@code /bystander} every 20 ms while a fault runs: every answer must be right and prompt.
     */
    private final class Bystander {
        private static final long MAX_LATENCY_MILLIS = 1000;
        private final Thread thread;
        private final AtomicInteger served = new AtomicInteger();
        private final AtomicLong maxNanos = new AtomicLong();
        private final List<String> failures = Collections.synchronizedList(new ArrayList<>());
        private volatile boolean stop;

        Bystander() throws IOException {
            RawClient client = cleanup.track(proxy.client());
            thread = new Thread(() -> run(client), "bystander");
            thread.setDaemon(true);
            thread.start();
            awaitCondition("the bystander's first answer", () -> served.get() > 0 || !failures.isEmpty(), 5000);
        }

        private void run(RawClient client) {
            try (client) {
                for (int i = 0; i < 10_000 && !stop; i++) {
                    long start = System.nanoTime();
                    HttpMessage response = client.get(BYSTANDER);
                    maxNanos.accumulateAndGet(System.nanoTime() - start, Math::max);
                    if (response.status() != 200 || !response.bodyText().equals(BYSTANDER)) {
                        failures.add(response.startLine() + " " + response.bodyText());
                        return;
                    }
                    served.incrementAndGet();
                    sleep(20);
                }
            } catch (IOException e) {
                failures.add(e.toString());
            }
        }

        /** Waits for two more answers, stops it (its connection closes) and asserts it was served throughout. */
        void assertUnaffected() throws InterruptedException {
            int before = served.get();
            awaitCondition("two more bystander answers", () -> served.get() >= before + 2 || !failures.isEmpty(), 5000);
            stop = true;
            thread.join(10_000);
            assertThat(thread.isAlive()).as("the bystander finished").isFalse();
            assertThat(failures).as("bystander failures").isEmpty();
            assertThat(served.get()).as("bystander requests served").isGreaterThanOrEqualTo(3);
            assertThat(TimeUnit.NANOSECONDS.toMillis(maxNanos.get())).as("bystander's slowest answer, ms")
                    .isLessThan(MAX_LATENCY_MILLIS);
        }
    }
}
