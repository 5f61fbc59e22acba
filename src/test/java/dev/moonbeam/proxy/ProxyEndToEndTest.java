package dev.moonbeam.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The proxy over real loopback sockets with in-test origins: the exchange, framing and keep-alive. */
class ProxyEndToEndTest {
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

    TestBackend backend(String name, TestBackend.Handler handler) throws IOException {
        return track(new TestBackend(name, handler));
    }

    ProxyHarness proxy(int threads, String extra, TestBackend... backends) throws Exception {
        StringBuilder list = new StringBuilder("[");
        for (int i = 0; i < backends.length; i++) {
            list.append(i == 0 ? "" : ", ").append('"').append(backends[i].address()).append('"');
        }
        return track(ProxyHarness.start(dir, threads, list.append(']').toString(), extra));
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    /** Echoes method, target and a checksum of the body it received, plus the body itself. */
    static final TestBackend.Handler ECHO = (request, in, out, socket) -> {
        try {
            TestBackend.respond(out, 200, request.body(), "X-Method: " + request.method(), "X-Target: " + request.target(),
                    "X-Body-Sha256: " + sha256(request.body()), "X-Was-Chunked: " + request.chunked());
        } catch (Exception e) {
            throw new IOException(e);
        }
    };

    @ParameterizedTest
    @CsvSource({"GET,0", "POST,1", "POST,1000", "PUT,70000", "PATCH,300000", "DELETE,10", "OPTIONS,0"})
    void methodsAndBodiesArriveIntact(String method, int size) throws Exception {
        TestBackend backend = backend("a", ECHO);
        ProxyHarness proxy = proxy(1, "", backend);
        byte[] body = new byte[size];
        new Random(size).nextBytes(body);
        try (RawClient client = proxy.client()) {
            client.send(method + " /p?q=1 HTTP/1.1\r\nHost: test\r\nContent-Length: " + size + "\r\n\r\n").send(body);
            HttpMessage response = client.response();
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.header("X-Method")).isEqualTo(method);
            assertThat(response.header("X-Target")).isEqualTo("/p?q=1");
            assertThat(response.header("X-Body-Sha256")).isEqualTo(sha256(body));
            assertThat(sha256(response.body())).isEqualTo(sha256(body));
        }
    }

    @Test
    void chunkedBodiesFlowBothWaysAsChunked() throws Exception {
        TestBackend backend = backend("a", (request, in, out, socket) -> {
            out.write(("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Was-Chunked: " + request.chunked()
                    + "\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        });
        ProxyHarness proxy = proxy(1, "", backend);
        try (RawClient client = proxy.client()) {
            client.send("POST /up HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n");
            HttpMessage response = client.response();
            assertThat(response.chunked()).isTrue();
            assertThat(response.bodyText()).isEqualTo("hello, world");
            assertThat(response.header("X-Was-Chunked")).isEqualTo("true");
        }
        HttpMessage forwarded = backend.received.peek();
        assertThat(forwarded.bodyText()).isEqualTo("abcdefg");
        assertThat(forwarded.header("Transfer-Encoding")).isEqualTo("chunked");
    }

    @Test
    void forwardedHeadersAreSetAndHopByHopRemoved() throws Exception {
        TestBackend backend = backend("a", TestBackend.named("a"));
        ProxyHarness proxy = proxy(1, "", backend);
        try (RawClient client = proxy.client()) {
            client.send("GET / HTTP/1.1\r\nHost: example.com\r\nX-Forwarded-For: 6.6.6.6\r\nConnection: keep-alive, X-Secret\r\n"
                    + "X-Secret: s\r\nKeep-Alive: timeout=5\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n");
            assertThat(client.response().status()).isEqualTo(200);
        }
        HttpMessage forwarded = backend.received.peek();
        assertThat(forwarded.header("X-Forwarded-For")).isEqualTo("127.0.0.1");
        assertThat(forwarded.header("X-Forwarded-Proto")).isEqualTo("http");
        assertThat(forwarded.header("X-Forwarded-Host")).isEqualTo("example.com");
        assertThat(forwarded.header("X-Secret")).isNull();
        assertThat(forwarded.header("Keep-Alive")).isNull();
        assertThat(forwarded.headerValues("Cookie")).containsExactly("a=1", "b=2");
    }

    @Test
    void forwardedHeadersAreTrustedOnlyFromTheListedRanges() throws Exception {
        String request = "GET / HTTP/1.1\r\nHost: example.com\r\nX-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\n"
                + "X-Forwarded-Host: public.example\r\n\r\n";
        TestBackend trusting = backend("trusting", TestBackend.named("t"));
        ProxyHarness fromLoopback = proxy(1, "\"trust_forwarded_headers\": [\"10.0.0.0/8\", \"127.0.0.0/8\"]", trusting);
        try (RawClient client = fromLoopback.client()) {
            assertThat(client.send(request).response().status()).isEqualTo(200);
        }
        HttpMessage kept = trusting.received.peek();
        assertThat(kept.header("X-Forwarded-For")).isEqualTo("6.6.6.6, 127.0.0.1");
        assertThat(kept.header("X-Forwarded-Proto")).isEqualTo("https");
        assertThat(kept.header("X-Forwarded-Host")).isEqualTo("public.example");

        TestBackend strict = backend("strict", TestBackend.named("s"));
        ProxyHarness fromElsewhere = proxy(1, "\"trust_forwarded_headers\": [\"10.0.0.0/8\", \"::1\"]", strict);
        try (RawClient client = fromElsewhere.client()) {
            assertThat(client.send(request).response().status()).isEqualTo(200);
        }
        HttpMessage replaced = strict.received.peek();
        assertThat(replaced.headerValues("X-Forwarded-For")).containsExactly("127.0.0.1");
        assertThat(replaced.headerValues("X-Forwarded-Proto")).containsExactly("http");
        assertThat(replaced.headerValues("X-Forwarded-Host")).containsExactly("example.com");
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        TestBackend backend = backend("a", (request, in, out, socket) -> {
            if (request.target().equals("/slow")) {
                sleep(200);
            }
            TestBackend.respond(out, 200, request.target());
        });
        ProxyHarness proxy = proxy(1, "", backend);
        try (RawClient client = proxy.client()) {
            StringBuilder batch = new StringBuilder();
            String[] targets = {"/slow", "/1", "/2", "/slow", "/3"};
            for (String target : targets) {
                batch.append("GET ").append(target).append(" HTTP/1.1\r\nHost: t\r\n\r\n");
            }
            client.send(batch.toString());
            for (String target : targets) {
                assertThat(client.response().bodyText()).isEqualTo(target);
            }
        }
    }

    @Test
    void expectContinueIsForwardedAndAnEagerBodyStillArrives() throws Exception {
        TestBackend backend = backend("a", (request, in, out, socket) -> TestBackend.respond(out, 200, "body " + request.bodyText()));
        ProxyHarness proxy = proxy(1, "", backend);
        try (RawClient client = proxy.client()) {
            // Clients like curl send the body anyway after a short wait; the backend decides.
            client.send("POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n").send("hello");
            HttpMessage response = client.response();
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.bodyText()).isEqualTo("body hello");
        }
        assertThat(backend.received.peek().header("Expect")).isEqualTo("100-continue");
    }

    @Test
    void interimContinueFromTheBackendReachesTheClient() throws Exception {
        // Raw origin: reads the head, sends 100, then reads the body and answers.
        try (java.net.ServerSocket origin = new java.net.ServerSocket(0, 10, java.net.InetAddress.getLoopbackAddress())) {
            Thread server = new Thread(() -> {
                try (java.net.Socket s = origin.accept()) {
                    java.io.InputStream in = new java.io.BufferedInputStream(s.getInputStream());
                    while (!HttpMessage.readLine(in, false).isEmpty()) {
                        // skip head
                    }
                    s.getOutputStream().write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    byte[] body = in.readNBytes(5);
                    TestBackend.respond(s.getOutputStream(), 200, "got " + new String(body, StandardCharsets.US_ASCII));
                } catch (IOException ignored) {
                    // test fails on the client side
                }
            });
            server.setDaemon(true);
            server.start();
            ProxyHarness proxy = track(ProxyHarness.start(dir, 1, "[\"127.0.0.1:" + origin.getLocalPort() + "\"]", ""));
            try (RawClient client = proxy.client()) {
                client.send("POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
                HttpMessage interim = client.response();
                assertThat(interim.status()).isEqualTo(100);
                client.send("hello");
                HttpMessage response = client.response();
                assertThat(response.status()).isEqualTo(200);
                assertThat(response.bodyText()).isEqualTo("got hello");
            }
        }
    }

    @Test
    void headNoContentAndNotModifiedHaveNoBody() throws Exception {
        TestBackend backend = backend("a", (request, in, out, socket) -> {
            switch (request.target()) {
                case "/head" -> out.write("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                case "/204" -> out.write("HTTP/1.1 204 No Content\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                case "/304" -> out.write("HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                default -> TestBackend.respond(out, 200, "after");
            }
        });
        ProxyHarness proxy = proxy(1, "", backend);
        try (RawClient client = proxy.client()) {
            client.send("HEAD /head HTTP/1.1\r\nHost: t\r\n\r\n");
            HttpMessage head = client.responseToHead();
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("Content-Length")).isEqualTo("1234");
            assertThat(client.get("/204").status()).isEqualTo(204);
            assertThat(client.get("/304").status()).isEqualTo(304);
            assertThat(client.get("/next").bodyText()).isEqualTo("after");
        }
        assertThat(backend.accepted.get()).isEqualTo(1);
    }

    @Test
    void backendConnectionsAreReusedAcrossClientConnections() throws Exception {
        TestBackend backend = backend("a", TestBackend.named("a"));
        ProxyHarness proxy = proxy(1, "", backend);
        for (int c = 0; c < 5; c++) {
            try (RawClient client = proxy.client()) {
                for (int r = 0; r < 4; r++) {
                    assertThat(client.get("/" + r).bodyText()).isEqualTo("a");
                }
            }
        }
        assertThat(backend.requests.get()).isEqualTo(20);
        assertThat(backend.accepted.get()).isEqualTo(1);
    }

    @Test
    void http10ClientGetsItsAnswerAndTheConnectionCloses() throws Exception {
        TestBackend backend = backend("a", TestBackend.named("a"));
        ProxyHarness proxy = proxy(1, "", backend);
        try (RawClient client = proxy.client()) {
            client.send("GET / HTTP/1.0\r\n\r\n");
            HttpMessage response = client.response();
            assertThat(response.bodyText()).isEqualTo("a");
            assertThat(response.header("Connection")).isEqualToIgnoringCase("close");
            assertThat(client.isClosedByPeer()).isTrue();
        }
        try (RawClient client = proxy.client()) {
            client.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            assertThat(client.response().header("Connection")).isEqualToIgnoringCase("keep-alive");
            client.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            assertThat(client.response().bodyText()).isEqualTo("a");
        }
    }

    @Test
    void connectionCloseIsHonoured() throws Exception {
        TestBackend backend = backend("a", TestBackend.named("a"));
        ProxyHarness proxy = proxy(1, "", backend);
        try (RawClient client = proxy.client()) {
            client.send("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
            HttpMessage response = client.response();
            assertThat(response.header("Connection")).isEqualToIgnoringCase("close");
            assertThat(client.isClosedByPeer()).isTrue();
        }
    }

    @Test
    void upgradeBecomesATwoWayTunnel() throws Exception {
        TestBackend backend = backend("ws", (request, in, out, socket) -> {
            out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            // Echo bytes upper-cased until the client closes.
            int b;
            while ((b = in.read()) >= 0) {
                out.write(Character.toUpperCase(b));
                out.flush();
            }
            socket.close();
        });
        ProxyHarness proxy = proxy(1, "", backend);
        try (RawClient client = proxy.client()) {
            client.send("GET /chat HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
            HttpMessage switching = client.responseToHead();
            assertThat(switching.status()).isEqualTo(101);
            assertThat(switching.header("Upgrade")).isEqualTo("websocket");
            for (String word : new String[] {"hello", "tunnel", "bytes"}) {
                client.send(word);
                assertThat(new String(client.in.readNBytes(word.length()), StandardCharsets.US_ASCII)).isEqualTo(word.toUpperCase());
            }
        }
        assertThat(backend.received.peek().header("Upgrade")).isEqualTo("websocket");
    }

    @Test
    void leastConnectionsSendsNewRequestsAwayFromTheBusyBackend() throws Exception {
        java.util.concurrent.CountDownLatch releaseSlow = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch releaseFast = new java.util.concurrent.CountDownLatch(1);
        TestBackend slow = backend("slow", (request, in, out, socket) -> {
            if (request.target().startsWith("/hold")) {
                await(releaseSlow);
            }
            TestBackend.respond(out, 200, "slow", "X-Backend: slow");
        });
        TestBackend fast = backend("fast", (request, in, out, socket) -> {
            if (request.target().startsWith("/hold")) {
                await(releaseFast);
            }
            TestBackend.respond(out, 200, "fast", "X-Backend: fast");
        });
        ProxyHarness proxy = proxy(1, "", slow, fast);
        List<RawClient> holders = new ArrayList<>();
        try {
            // Eight held requests split four and four; then the fast backend finishes its four.
            for (int i = 0; i < 8; i++) {
                RawClient holder = track(proxy.client());
                holder.send("GET /hold HTTP/1.1\r\nHost: t\r\n\r\n");
                holders.add(holder);
            }
            waitUntil(() -> slow.inProgress.get() + fast.inProgress.get() == 8, 5000);
            assertThat(slow.inProgress.get()).isEqualTo(4);
            releaseFast.countDown();
            waitUntil(() -> fast.inProgress.get() == 0, 5000);
            // Round robin would give the slow backend every other request; least connections gives it none.
            try (RawClient client = proxy.client()) {
                for (int i = 0; i < 10; i++) {
                    assertThat(client.get("/x").header("X-Backend")).isEqualTo("fast");
                }
            }
            assertThat(slow.requests.get()).isEqualTo(4);
        } finally {
            releaseSlow.countDown();
            releaseFast.countDown();
        }
        for (RawClient holder : holders) {
            assertThat(holder.response().status()).isEqualTo(200);
        }
    }

    @Test
    void weightsShareConcurrentLoad() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        TestBackend.Handler hold = (request, in, out, socket) -> {
            await(release);
            TestBackend.respond(out, 200, "x");
        };
        TestBackend heavy = backend("heavy", hold);
        TestBackend light = backend("light", hold);
        ProxyHarness proxy = track(ProxyHarness.start(dir, 1,
                "[{\"address\": \"" + heavy.address() + "\", \"weight\": 2}, \"" + light.address() + "\"]", ""));
        List<RawClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 9; i++) {
                RawClient client = track(proxy.client());
                client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
                clients.add(client);
            }
            waitUntil(() -> heavy.inProgress.get() + light.inProgress.get() == 9, 5000);
            assertThat(heavy.inProgress.get()).isEqualTo(6);
            assertThat(light.inProgress.get()).isEqualTo(3);
        } finally {
            release.countDown();
        }
        for (RawClient client : clients) {
            assertThat(client.response().status()).isEqualTo(200);
        }
    }

    @Test
    void allBackendsDownGivesA503AtOnce() throws Exception {
        TestBackend backend = backend("gone", TestBackend.named("gone"));
        int port = backend.port();
        backend.close();
        ProxyHarness proxy = track(ProxyHarness.start(dir, 1, "[\"127.0.0.1:" + port + "\"]", ""));
        try (RawClient client = proxy.client()) {
            HttpMessage first = client.get("/");
            assertThat(first.status()).isEqualTo(502); // tried and refused
            assertThat(client.isClosedByPeer()).isTrue();
        }
        long start = System.nanoTime();
        try (RawClient client = proxy.client()) {
            assertThat(client.get("/").status()).isEqualTo(503); // marked down: not even tried
        }
        assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(2));
    }

    @Test
    void aRefusingBackendIsSkippedAndTheRequestStillSucceeds() throws Exception {
        TestBackend dead = backend("dead", TestBackend.named("dead"));
        int deadPort = dead.port();
        dead.close();
        TestBackend alive = backend("alive", TestBackend.named("alive"));
        ProxyHarness proxy = track(ProxyHarness.start(dir, 1, "[\"127.0.0.1:" + deadPort + "\", \"" + alive.address() + "\"]", ""));
        try (RawClient client = proxy.client()) {
            for (int i = 0; i < 6; i++) {
                assertThat(client.get("/").bodyText()).isEqualTo("alive");
            }
        }
    }

    @Test
    void aBackendThatDoesNotAnswerTheConnectIsSkippedAfterTheConnectTimeout() throws Exception {
        // A listener that never accepts, with its tiny backlog filled: the kernel drops further
        // SYNs, so a connect to it hangs, like a backend behind a dead route, all on loopback.
        try (java.net.ServerSocket blackhole = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            List<java.net.Socket> fillers = new ArrayList<>();
            try {
                for (int i = 0; i < 8; i++) {
                    java.net.Socket filler = new java.net.Socket();
                    try {
                        filler.connect(blackhole.getLocalSocketAddress(), 200);
                        fillers.add(filler);
                    } catch (IOException full) {
                        filler.close();
                        break;
                    }
                }
                TestBackend alive = backend("alive", TestBackend.named("alive"));
                ProxyHarness proxy = track(ProxyHarness.start(dir, 1,
                        "[\"127.0.0.1:" + blackhole.getLocalPort() + "\", \"" + alive.address() + "\"]",
                        "\"timeouts\": {\"backend_connect\": \"300ms\"}"));
                try (RawClient client = proxy.client()) {
                    for (int i = 0; i < 4; i++) {
                        long start = System.nanoTime();
                        assertThat(client.get("/").bodyText()).isEqualTo("alive");
                        assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(2));
                    }
                }
            } finally {
                for (java.net.Socket filler : fillers) {
                    filler.close();
                }
            }
        }
    }

    @Test
    void aBackendKilledAndRestartedIsUsedAgain() throws Exception {
        TestBackend backend = backend("a", TestBackend.named("one"));
        int port = backend.port();
        ProxyHarness proxy = proxy(1, "", backend);
        try (RawClient client = proxy.client()) {
            assertThat(client.get("/").bodyText()).isEqualTo("one");
        }
        backend.close();
        try (RawClient client = proxy.client()) {
            assertThat(client.get("/").status()).isIn(502, 503);
        }
        TestBackend restarted = track(new TestBackend("b", TestBackend.named("two"), port));
        // Passive back-off is 1 s after the first failure; within a few seconds it is used again.
        String body = null;
        for (int i = 0; i < 40 && !"two".equals(body); i++) {
            sleep(100);
            try (RawClient client = proxy.client()) {
                body = client.get("/").bodyText();
            }
        }
        assertThat(body).isEqualTo("two");
        assertThat(restarted.requests.get()).isGreaterThanOrEqualTo(1);
    }

    @Test
    void backendResetMidResponseClosesTheClientInsteadOfPassingATruncatedBody() throws Exception {
        TestBackend backend = backend("a", (request, in, out, socket) -> {
            out.write("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.write(new byte[5000]);
            out.flush();
            socket.setSoLinger(true, 0); // RST
            socket.close();
        });
        ProxyHarness proxy = proxy(1, "", backend);
        try (RawClient client = proxy.client()) {
            client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
            String status = HttpMessage.readLine(client.in, false);
            assertThat(status).startsWith("HTTP/1.1 200");
            ByteArrayOutputStream rest = new ByteArrayOutputStream();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            try {
                int b;
                while ((b = client.in.read()) >= 0 && System.nanoTime() < deadline) {
                    rest.write(b);
                }
            } catch (IOException reset) {
                // a reset is an acceptable way to learn of it too
            }
            assertThat(rest.size()).isLessThan(100_000);
        }
    }

    @Test
    void backendClosingBeforeAnyResponseGives502() throws Exception {
        TestBackend backend = backend("a", (request, in, out, socket) -> socket.close());
        ProxyHarness proxy = proxy(1, "", backend);
        try (RawClient client = proxy.client()) {
            assertThat(client.get("/").status()).isEqualTo(502);
        }
    }

    @Test
    void aStalePooledConnectionIsRetriedOnAFreshOne() throws Exception {
        // The backend closes each connection right after answering, without saying so: the
        // pooled connection is dead by the next request. The proxy must retry, not fail.
        TestBackend backend = backend("a", (request, in, out, socket) -> {
            TestBackend.respond(out, 200, "ok");
            sleep(20);
            socket.close();
        });
        ProxyHarness proxy = proxy(1, "", backend);
        try (RawClient client = proxy.client()) {
            for (int i = 0; i < 5; i++) {
                assertThat(client.get("/").status()).isEqualTo(200);
            }
        }
        try (RawClient client = proxy.client()) {
            // No sleep: the request may well meet the stale connection before its FIN is seen.
            for (int i = 0; i < 5; i++) {
                assertThat(client.get("/").status()).isEqualTo(200);
            }
        }
    }

    @Test
    void backendKeepAliveTimeoutRetiresPooledConnectionsEarly() throws Exception {
        TestBackend backend = backend("a", (request, in, out, socket) -> TestBackend.respond(out, 200, "ok", "Keep-Alive: timeout=1"));
        ProxyHarness proxy = proxy(1, "", backend);
        try (RawClient client = proxy.client()) {
            assertThat(client.get("/").status()).isEqualTo(200);
        }
        // timeout=1 minus the 1 s safety margin: never pooled.
        waitUntil(() -> proxy.idleBackendConnections() == 0, 2000);
        assertThat(proxy.idleBackendConnections()).isZero();
        TestBackend patient = backend("b", (request, in, out, socket) -> TestBackend.respond(out, 200, "ok", "Keep-Alive: timeout=2"));
        ProxyHarness proxy2 = proxy(1, "", patient);
        try (RawClient client = proxy2.client()) {
            assertThat(client.get("/").status()).isEqualTo(200);
        }
        waitUntil(() -> proxy2.idleBackendConnections() == 1, 2000);
        assertThat(proxy2.idleBackendConnections()).isEqualTo(1);
        // Retired after ~1 s (2 s minus the margin), well before the backend's 2 s.
        waitUntil(() -> proxy2.idleBackendConnections() == 0, 3000);
        assertThat(proxy2.idleBackendConnections()).isZero();
    }

    @Test
    void clientDisconnectMidUploadAbortsTheBackendSide() throws Exception {
        java.util.concurrent.atomic.AtomicReference<String> outcome = new java.util.concurrent.atomic.AtomicReference<>();
        TestBackend backend = backend("a", (request, in, out, socket) -> TestBackend.respond(out, 200, "ok"));
        // A raw origin that reads the upload and reports how it ended.
        try (java.net.ServerSocket origin = new java.net.ServerSocket(0, 10, java.net.InetAddress.getLoopbackAddress())) {
            Thread server = new Thread(() -> {
                try (java.net.Socket s = origin.accept()) {
                    java.io.InputStream in = s.getInputStream();
                    long total = 0;
                    byte[] buffer = new byte[8192];
                    int n;
                    while ((n = in.read(buffer)) >= 0) {
                        total += n;
                    }
                    outcome.set("eof after " + total);
                } catch (IOException e) {
                    outcome.set("reset");
                }
            });
            server.setDaemon(true);
            server.start();
            ProxyHarness proxy = track(ProxyHarness.start(dir, 1, "[\"127.0.0.1:" + origin.getLocalPort() + "\"]", ""));
            try (RawClient client = proxy.client()) {
                client.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n").send(new byte[3000]);
                sleep(100);
            }
            waitUntil(() -> outcome.get() != null, 5000);
            assertThat(outcome.get()).isNotNull();
            assertThat(proxy.idleBackendConnections()).isZero();
        }
    }

    @Test
    void slowlorisIsCutOffByTheHeadTimeoutWith408() throws Exception {
        TestBackend backend = backend("a", TestBackend.named("a"));
        ProxyHarness proxy = proxy(1, "\"timeouts\": {\"client_head\": \"700ms\"}", backend);
        try (RawClient client = proxy.client()) {
            long start = System.nanoTime();
            String head = "GET / HTTP/1.1\r\nHost: t\r\nX-Slow: 1\r\n";
            boolean answered = false;
            // One byte every 100 ms keeps a per-read timeout happy forever; the head timeout is for the whole head.
            for (int i = 0; i < head.length() && i < 40; i++) {
                try {
                    client.send(head.substring(i, i + 1));
                } catch (IOException closed) {
                    answered = true;
                    break;
                }
                sleep(100);
                if (client.in.available() > 0) {
                    answered = true;
                    break;
                }
            }
            assertThat(answered).isTrue();
            HttpMessage response = client.response();
            assertThat(response.status()).isEqualTo(408);
            assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(3));
        }
        assertThat(backend.requests.get()).isZero();
    }

    @Test
    void idleKeepAliveClientsAreClosed() throws Exception {
        TestBackend backend = backend("a", TestBackend.named("a"));
        ProxyHarness proxy = proxy(1, "\"timeouts\": {\"client_idle\": \"300ms\"}", backend);
        try (RawClient client = proxy.client()) {
            assertThat(client.get("/").status()).isEqualTo(200);
            long start = System.nanoTime();
            assertThat(client.isClosedByPeer()).isTrue();
            assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(3));
        }
    }

    @Test
    void backendResponseTimeoutGives504() throws Exception {
        TestBackend backend = backend("a", (request, in, out, socket) -> sleep(3000));
        ProxyHarness proxy = proxy(1, "\"timeouts\": {\"backend_response\": \"300ms\"}", backend);
        try (RawClient client = proxy.client()) {
            assertThat(client.get("/").status()).isEqualTo(504);
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "GET / HTTP/1.1\\r\\nHost: t\\r\\nContent-Length: 5\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n | 400",
            "GET / HTTP/1.1\\r\\n\\r\\n | 400",
            "GET / HTTP/2.0\\r\\nHost: t\\r\\n\\r\\n | 505",
            "CONNECT example.com:443 HTTP/1.1\\r\\nHost: example.com:443\\r\\n\\r\\n | 501",
            "GET / HTTP/1.1\\r\\nHost : t\\r\\n\\r\\n | 400",
    })
    void malformedRequestsGetA4xxAndAClose(String request, int status) throws Exception {
        TestBackend backend = backend("a", TestBackend.named("a"));
        ProxyHarness proxy = proxy(1, "", backend);
        try (RawClient client = proxy.client()) {
            client.send(request.replace("\\r\\n", "\r\n"));
            HttpMessage response = client.response();
            assertThat(response.status()).isIn(status, 400);
            assertThat(response.header("Connection")).isEqualToIgnoringCase("close");
            assertThat(client.isClosedByPeer()).isTrue();
        }
        assertThat(backend.requests.get()).isZero();
    }

    @Test
    void oversizedHeadGets431() throws Exception {
        TestBackend backend = backend("a", TestBackend.named("a"));
        ProxyHarness proxy = proxy(1, "", backend);
        try (RawClient client = proxy.client()) {
            client.send("GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + "a".repeat(40_000) + "\r\n\r\n");
            assertThat(client.response().status()).isEqualTo(431);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 4})
    void manyConcurrentClientsAllGetTheirOwnAnswers(int threads) throws Exception {
        TestBackend a = backend("a", ECHO);
        TestBackend b = backend("b", ECHO);
        ProxyHarness proxy = proxy(threads, "", a, b);
        int clients = 1000;
        List<RawClient> open = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            open.add(track(proxy.client()));
        }
        for (int i = 0; i < clients; i++) {
            open.get(i).send("POST /c" + i + " HTTP/1.1\r\nHost: t\r\nContent-Length: " + String.valueOf(i).length() + "\r\n\r\n" + i);
        }
        for (int i = 0; i < clients; i++) {
            HttpMessage response = open.get(i).response();
            assertThat(response.header("X-Target")).isEqualTo("/c" + i);
            assertThat(response.bodyText()).isEqualTo(String.valueOf(i));
        }
        assertThat(a.requests.get() + b.requests.get()).isEqualTo(clients);
        assertThat(a.requests.get()).isGreaterThan(clients / 10);
        assertThat(b.requests.get()).isGreaterThan(clients / 10);
    }

    // ---- helpers ----

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void await(java.util.concurrent.CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void waitUntil(java.util.function.BooleanSupplier condition, long timeoutMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            sleep(10);
        }
    }
}
