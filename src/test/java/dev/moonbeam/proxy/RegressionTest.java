package dev.moonbeam.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Regressions for bugs a code review found; each test failed before its fix. */
class RegressionTest {
    @TempDir
    Path dir;
    final List<AutoCloseable> resources = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    <T extends AutoCloseable> T track(T resource) {
        resources.add(resource);
        return resource;
    }

    /** DESIGN: "an idle keep-alive connection holds none" (buffers). */
    @Test
    void idleKeepAliveClientHoldsNoBuffer() throws Exception {
        TestBackend backend = track(new TestBackend("a", TestBackend.named("a")));
        ProxyHarness proxy = track(ProxyHarness.start(dir, 1, "[\"" + backend.address() + "\"]", ""));
        try (RawClient client = proxy.client()) {
            assertThat(client.get("/").bodyText()).isEqualTo("a");
            Thread.sleep(300);
            int outstanding = TlsEndToEndTest.onLoop(proxy, () -> proxy.proxy.workers().get(0).loop().buffers().outstanding());
            System.out.println("idle client connected: outstanding=" + outstanding);
            int pooled = TlsEndToEndTest.onLoop(proxy, () -> proxy.proxy.workers().get(0).idleBackendConnections());
            System.out.println("idle pooled backend connections=" + pooled);
            client.close();
            Thread.sleep(300);
            assertThat(outstanding).as("buffers held by one idle keep-alive client + idle pooled backend").isZero();
        }
    }

    /**
     * Body bytes copied into the backend connection's out buffer while CONNECTING are dropped when the
     * connect times out and the exchange retries on another backend; the parser has already counted
     * them. With chunked framing the second backend sees chunk data as framing: a smuggled request.
     */
    @Test
    void bodyBytesAreNotLostWhenAConnectRetryGoesElsewhere() throws Exception {
        try (ServerSocket blackhole = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            List<Socket> fillers = new ArrayList<>();
            try {
                for (int i = 0; i < 8; i++) {
                    Socket filler = new Socket();
                    try {
                        filler.connect(blackhole.getLocalSocketAddress(), 200);
                        fillers.add(filler);
                    } catch (IOException full) {
                        filler.close();
                        break;
                    }
                }
                TestBackend alive = track(new TestBackend("alive", TestBackend.named("alive")));
                ProxyHarness proxy = track(ProxyHarness.start(dir, 1,
                        "[\"127.0.0.1:" + blackhole.getLocalPort() + "\", \"" + alive.address() + "\"]",
                        "\"timeouts\": {\"backend_connect\": \"300ms\", \"backend_response\": \"2s\"}"));
                String smuggled = "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n";
                String size = Integer.toHexString(smuggled.length());
                try (RawClient client = proxy.client()) {
                    client.send("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + size + "\r\n");
                    Thread.sleep(800); // the connect to the blackhole times out; retried on "alive"
                    client.send(smuggled + "\r\n0\r\n\r\n");
                    HttpMessage response = client.response();
                    System.out.println("client got: " + response.startLine());
                }
                Thread.sleep(300);
                List<String> seen = new ArrayList<>();
                for (HttpMessage m : alive.received) {
                    seen.add(m.startLine() + " xff=" + m.headerValues("X-Forwarded-For") + " bodyLen=" + m.body().length);
                }
                System.out.println("backend saw: " + seen);
                assertThat(seen).as("requests the backend parsed").noneMatch(s -> s.contains("/smuggled"));
            } finally {
                for (Socket filler : fillers) {
                    filler.close();
                }
            }
        }
    }

    /**
     * TLS upload: ClientConnection never consults Transport.hasBufferedInput(); when progress() stops
     * after MAX_ROUNDS with records held in the TlsEngine and the socket drained, nothing wakes it.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(ints = {16384, 1000, 200})
    void tlsUploadNeverStallsUntilTheBackendTimeout(int chunk) throws Exception {
        TestBackend backend = track(new TestBackend("a", (request, in, out, socket) ->
                TestBackend.respond(out, 200, "len=" + request.body().length)));
        ProxyHarness proxy = track(ProxyHarness.start(dir, 1, "[\"" + backend.address() + "\"]",
                "\"timeouts\": {\"backend_response\": \"3s\"}, \"ssl\": " + TlsEndToEndTest.pem(
                        TlsEndToEndTest.fixture("ec.crt"), TlsEndToEndTest.fixture("ec-sec1.key"))));
        List<String> stalls = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        for (int size = 64 * 1024; size <= 1024 * 1024 && System.nanoTime() < deadline; size += 7919) {
            try (TlsClient client = TlsClient.connect(proxy.port())) {
                byte[] body = new byte[size];
                byte[] head = ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + size + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
                byte[] all = new byte[head.length + size];
                System.arraycopy(head, 0, all, 0, head.length);
                System.arraycopy(body, 0, all, head.length, size);
                long start = System.nanoTime();
                for (int off = 0; off < all.length; off += chunk) {
                    client.out.write(all, off, Math.min(chunk, all.length - off));
                }
                client.out.flush();
                HttpMessage response = client.response();
                long ms = (System.nanoTime() - start) / 1_000_000;
                if (response.status() != 200 || ms > 1500) {
                    stalls.add(size + ": " + response.status() + " after " + ms + " ms");
                    if (stalls.size() >= 3) {
                        break;
                    }
                }
            }
        }
        System.out.println("stalls: " + stalls);
        assertThat(stalls).isEmpty();
    }

    /**
     * EventLoop.closeAll aborts a BackendConnection whose exchange is waiting on a reused connection:
     * Exchange.onBackendFailure -> backendBroke retries, opening a NEW backend connection while the loop
     * is shutting down (never closed: selector.close() only deregisters), then NPEs in client.progress().
     */
    @Test
    void shutdownDoesNotOpenNewBackendConnections() throws Exception {
        java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
        TestBackend backend = track(new TestBackend("a", (request, in, out, socket) -> {
            if (n.incrementAndGet() >= 2) {
                try { Thread.sleep(1500); } catch (InterruptedException e) { return; }
            }
            TestBackend.respond(out, 200, "ok");
        }));
        int opened = 0;
        for (int run = 0; run < 6; run++) {
            n.set(0);
            int before = backend.accepted.get();
            ProxyHarness proxy = ProxyHarness.start(dir, 1, "[\"" + backend.address() + "\"]", "");
            try (RawClient client = proxy.client()) {
                assertThat(client.get("/").bodyText()).isEqualTo("ok");
                client.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
                Thread.sleep(200);
                proxy.close();
                Thread.sleep(200);
            }
            opened += backend.accepted.get() - before - 1;
        }
        System.out.println("backend connections opened during shutdown over 6 runs: " + opened);
        assertThat(opened).isZero();
    }
    /**
     * A backend may answer before it has read the whole request body (nginx's "return" does, and
     * so does any origin that rejects an upload early), so the response can be complete while the
     * client is still sending. MoonBeam then closes the client connection (the unread body is not a
     * next request), but its response head had promised keep-alive: the client's next request on
     * that connection failed (wrk counted ~8% of 64 KiB TLS uploads as read errors in the soak).
     * Either the head says Connection: close or the connection serves the next request.
     */
    @Test
    void aResponseThatEndsBeforeTheRequestBodyDoesNotPromiseAConnectionThatThenCloses() throws Exception {
        ServerSocket early = track(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()));
        Thread origin = new Thread(() -> answerBeforeReadingTheBody(early), "early-origin");
        origin.setDaemon(true);
        origin.start();
        ProxyHarness proxy = track(ProxyHarness.start(dir, 1, "[\"127.0.0.1:" + early.getLocalPort() + "\"]", ""));
        byte[] part = new byte[50_000];
        java.util.Arrays.fill(part, (byte) 'u');
        try (RawClient client = proxy.client()) {
            client.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: " + 2 * part.length + "\r\n\r\n");
            client.send(part);
            HttpMessage first = client.response(); // arrives while half the body is still to come
            assertThat(first.status()).isEqualTo(200);
            client.send(part);
            String next;
            try {
                HttpMessage second = client.get("/next");
                next = second == null ? "closed" : String.valueOf(second.status());
            } catch (IOException e) {
                next = e.toString();
            }
            assertThat("Connection: " + first.header("Connection") + ", next request on it: " + next)
                    .matches("Connection: (?i:close), next request on it: .*|Connection: null, next request on it: 200");
        }
    }

    /** Answers each request as soon as its head is in, then reads and drops its body; keep-alive. */
    private static void answerBeforeReadingTheBody(ServerSocket server) {
        for (int connections = 0; connections < 100 && !server.isClosed(); connections++) {
            try (Socket socket = server.accept()) {
                socket.setSoTimeout(10_000);
                java.io.InputStream in = new java.io.BufferedInputStream(socket.getInputStream());
                for (int requests = 0; requests < 100; requests++) {
                    HttpMessage head = HttpMessage.read(in, false, true);
                    if (head == null) {
                        break;
                    }
                    socket.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nearly"
                            .getBytes(StandardCharsets.US_ASCII));
                    String length = head.header("Content-Length");
                    in.skipNBytes(length == null ? 0 : Long.parseLong(length));
                }
            } catch (IOException e) {
                // closed by the test or the proxy
            }
        }
    }
}
