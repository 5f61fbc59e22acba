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
 * What the misbehaving-client suites share (issue 16, point 2): a proxy with one event loop in
 * front of an origin with endpoints for every fault, a recorder of each finished request's status
 * and termination reason, a {@link Bystander} served on the same loop while a fault runs, and the
 * check that nothing is left behind afterwards. {@link #tls()} chooses a TLS or plain listener.
 */
abstract class ChaosTestBase {
    static final String BYSTANDER = "/bystander";
    /** Larger than any socket buffers hold: the response stalls as soon as the client stops reading. */
    static final long ENDLESS = 1L << 30;

    @TempDir
    Path dir;
    @RegisterExtension
    final Cleanup cleanup = new Cleanup();
    /** "status reason" of every finished request but the bystander's, in the order the loop reported them. */
    final BlockingQueue<String> finished = new LinkedBlockingQueue<>();
    /** Bytes of /endless the origin managed to write (it blocks once the proxy stops reading it). */
    final AtomicLong endlessWritten = new AtomicLong();
    /** Lets /hold answer. */
    final java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    TestBackend backend;
    ProxyHarness proxy;
    long descriptorsBefore;
    int pooledBefore;

    /** Whether the listener is TLS; the shared checks (bystander, uploads, leaks) follow it. */
    abstract boolean tls();

    /**
     * A keep-alive client of the listener's kind, for the shared checks: a {@link RawClient} or a
     * {@link TlsClient} (HTTP/1.1 over ALPN).
     */
    interface Client extends AutoCloseable {
        Client send(byte[] bytes) throws IOException;

        HttpMessage response() throws IOException;

        default Client send(String text) throws IOException {
            return send(text.getBytes(StandardCharsets.ISO_8859_1));
        }

        default HttpMessage get(String target) throws IOException {
            send("GET " + target + " HTTP/1.1\r\nHost: test\r\n\r\n");
            return response();
        }

        @Override
        void close() throws IOException;
    }

    Client connect() throws IOException {
        if (tls()) {
            TlsClient client = TlsClient.connect(proxy.port());
            return new Client() {
                @Override
                public Client send(byte[] bytes) throws IOException {
                    client.send(bytes);
                    return this;
                }

                @Override
                public HttpMessage response() throws IOException {
                    return client.response();
                }

                @Override
                public void close() throws IOException {
                    client.close();
                }
            };
        }
        RawClient client = proxy.client();
        return new Client() {
            @Override
            public Client send(byte[] bytes) throws IOException {
                client.send(bytes);
                return this;
            }

            @Override
            public HttpMessage response() throws IOException {
                return client.response();
            }

            @Override
            public void close() throws IOException {
                client.close();
            }
        };
    }

    // ---- helpers ----

    void start(String extraJson) throws Exception {
        start(extraJson, "");
    }

    /** @param backendJson more members of the backend's object, e.g. {@code , "max_connections": 1} */
    void start(String extraJson, String backendJson) throws Exception {
        backend = cleanup.track(new TestBackend("chaos", this::origin));
        RequestListener recorder = record -> {
            String target = record.request == null ? "" : record.request.text(record.request.targetStart(), record.request.targetEnd());
            if (!target.equals(BYSTANDER)) {
                finished.add(record.status + " " + record.termination.label());
            }
        };
        String ssl = tls() ? "\"ssl\": " + TlsEndToEndTest.pem(TlsEndToEndTest.fixture("ec.crt"),
                TlsEndToEndTest.fixture("ec-sec1.key")) : "";
        String extra = extraJson.isEmpty() || ssl.isEmpty() ? extraJson + ssl : extraJson + ", " + ssl;
        proxy = cleanup.track(ProxyHarness.start(dir, 1, "[{\"address\": \"" + backend.address() + "\"" + backendJson + "}]",
                extra, i -> recorder));
        // One request first, so the first pooled connection and whatever the JVM opens lazily exist
        // before the descriptor baseline.
        try (Client warm = connect()) {
            assertThat(warm.get("/warm").status()).isEqualTo(200);
        }
        assertThat(nextTermination()).isEqualTo("200 completed");
        LeakCheck.assertNothingHeld(proxy, Duration.ofSeconds(5));
        pooledBefore = proxy.idleBackendConnections();
        descriptorsBefore = LeakCheck.openDescriptors();
    }

    /** /endless: 1 GiB, written until the proxy stops taking it; /bytes/N: N bytes; /hold: waits for {@link #release}; /upload: the body's length; else the target. */
    void origin(HttpMessage request, InputStream in, OutputStream out, Socket socket) throws IOException {
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

    int heldInflight() {
        try {
            return LeakCheck.held(proxy).inflight();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    String nextTermination() throws InterruptedException {
        String next = finished.poll(10, TimeUnit.SECONDS);
        assertThat(next).as("a finished request was reported").isNotNull();
        return next;
    }

    /**
     * Nothing left behind: no buffer, client connection or in-flight request in the proxy, no
     * TLS session alive, no request running on the backend, every backend connection still open an
     * idle pooled one, and the JVM's descriptors back to the baseline (plus two per pooled
     * connection added since).
     */
    void assertNothingLeft() throws Exception {
        LeakCheck.assertNothingHeld(proxy, Duration.ofSeconds(5));
        if (tls()) {
            awaitCondition("every TLS session freed", () -> proxy.proxy.settings().tls().liveSessions() == 0, 5000);
        }
        awaitCondition("no request running on the backend", () -> backend.inProgress.get() == 0, 5000);
        awaitCondition("every open backend connection is an idle pooled one",
                () -> backend.openConnections() == proxy.idleBackendConnections(), 5000);
        int addedPooled = Math.max(0, proxy.idleBackendConnections() - pooledBefore);
        LeakCheck.assertDescriptorsBackTo(descriptorsBefore, 2 * addedPooled, Duration.ofSeconds(5));
        assertThat(finished).as("no unexpected request records").isEmpty();
    }

    /** Pooled connections the fault left are clean: uploads over them arrive whole. */
    void assertUploadsStillWork() throws Exception {
        for (int i = 0; i < 3; i++) {
            try (Client client = connect()) {
                client.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n").send(new byte[5000]);
                assertThat(client.response().bodyText()).isEqualTo("len=5000");
            }
            assertThat(nextTermination()).isEqualTo("200 completed");
        }
    }

    Socket socketWithSmallReceiveBuffer() throws IOException {
        Socket socket = new Socket();
        socket.setReceiveBufferSize(16 * 1024); // before connect, so the window is small from the start
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), proxy.port()), 5000);
        socket.setSoTimeout(10_000);
        return socket;
    }

    /** Reads and discards until EOF or reset; fails if neither comes within {@code millis}. */
    static long drainUntilClosed(InputStream in, long millis) throws IOException {
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
    static int drip(RawClient client, int count, long everyMillis) throws IOException {
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
    static void reset(RawClient client) throws IOException {
        client.socket.setSoLinger(true, 0);
        client.close();
    }

    static long millisSince(long startNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void awaitCondition(String what, BooleanSupplier condition, long millis) {
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
    final class Bystander {
        private static final long MAX_LATENCY_MILLIS = 1000;
        private final Thread thread;
        private final AtomicInteger served = new AtomicInteger();
        private final AtomicLong maxNanos = new AtomicLong();
        private final List<String> failures = Collections.synchronizedList(new ArrayList<>());
        private volatile boolean stop;

        Bystander() throws IOException {
            Client client = cleanup.track(connect());
            thread = new Thread(() -> run(client), "bystander");
            thread.setDaemon(true);
            thread.start();
            awaitCondition("the bystander's first answer", () -> served.get() > 0 || !failures.isEmpty(), 5000);
        }

        private void run(Client client) {
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
