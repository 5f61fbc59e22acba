package dev.moonbeam.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moonbeam.http.HttpHead;
import dev.moonbeam.observe.RequestListener;
import dev.moonbeam.proxy.ChaosBackend.Script;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Fault injection, misbehaving backends (issue 16, point 1): for each way an origin can break a
 * response, over real sockets against a {@link ChaosBackend}, the test asserts
 * <ol type="a">
 *   <li>what the faulted client receives, within a stated bound;
 *   <li>that another client streaming a response from the same origin through the same event loop
 *       at the same time gets all of it, and can go on using its connection;
 *   <li>that nothing leaks: no buffer, client connection or in-flight request held, descriptors
 *       back to the baseline (plus the pooled connections), the origin sees its connections closed,
 *       and a follow-up request through the pool succeeds;
 *   <li>what the request listener, the access log and the metrics say.
 * </ol>
 * The proxy runs one loop with short timeouts (connect 300 ms, response inactivity 500 ms).
 */
class ChaosMisbehavingBackendTest {
    private static final long RESPONSE_TIMEOUT_MILLIS = 500;
    private static final String TIMEOUTS = "\"timeouts\": {\"backend_connect\": \"300ms\", \"backend_response\": \""
            + RESPONSE_TIMEOUT_MILLIS + "ms\"}";
    /** Generous upper bound for anything that should happen "at once" on a loaded 2-core machine. */
    private static final long PROMPT_MILLIS = 3_000;

    @TempDir
    Path dir;
    @RegisterExtension
    final Cleanup cleanup = new Cleanup();
    /** "target status reason" of every finished request, in the order the loop reported them. */
    private final BlockingQueue<String> finished = new LinkedBlockingQueue<>();
    /** Records also name the backend (for the flapping test, whose failures must be the flapping one's). */
    private volatile boolean flappingRun;

    // ---- what the faulted client is expected to see ----

    /** What the faulted client receives. */
    sealed interface Outcome permits Status, Truncated, Complete {
    }

    /** A whole (error) response with this status, after which the proxy closes the connection. */
    record Status(int status) implements Outcome {
    }

    /**
     * The head with {@code status} (or, when the fault came in the same read as the head, nothing
     * at all), then the connection ends before the body is complete: a truncated response must
     * never look complete.
     */
    record Truncated(int status) implements Outcome {
    }

    /**
     * The whole response with this body; when {@code reusable}, the client connection then serves
     * another request with the origin's answer (not bytes left over from the fault), else it closes.
     */
    record Complete(int status, String body, boolean reusable) implements Outcome {
    }

    /**
     * One row: the fault the origin answers {@code GET /fault} with, what the client sees within
     * {@code [minMillis, maxMillis]}, and the termination reason and backend-error count logged.
     */
    record Fault(String name, Script script, Outcome outcome, String termination, int backendErrors,
            long minMillis, long maxMillis) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final String ONE_KIB = "x".repeat(1024);

    static Stream<Fault> faults() {
        long timeout = RESPONSE_TIMEOUT_MILLIS;
        return Stream.of(
                new Fault("accept, read the request, then silence", Script.of().silence(10_000),
                        new Status(504), "backend_timeout", 1, timeout - 50, PROMPT_MILLIS + timeout),
                new Fault("reset before the response head", Script.of().reset(),
                        new Status(502), "backend_reset", 1, 0, PROMPT_MILLIS),
                new Fault("close before the response head", Script.of().close(),
                        new Status(502), "backend_reset", 1, 0, PROMPT_MILLIS),
                new Fault("reset mid-head", Script.of().write("HTTP/1.1 200 OK\r\nContent-Le").sleep(100).reset(),
                        new Status(502), "backend_reset", 1, 0, PROMPT_MILLIS),
                new Fault("close mid-head", Script.of().write("HTTP/1.1 200 OK\r\nContent-Le").sleep(100).close(),
                        new Status(502), "backend_reset", 1, 0, PROMPT_MILLIS),
                new Fault("reset mid-body, Content-Length",
                        Script.of().write("HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n" + ONE_KIB).sleep(100).reset(),
                        new Truncated(200), "backend_reset", 1, 0, PROMPT_MILLIS),
                new Fault("reset mid-body, chunked",
                        Script.of().write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n" + ONE_KIB
                                + "\r\n400\r\n" + ONE_KIB.substring(512)).sleep(100).reset(),
                        new Truncated(200), "backend_reset", 1, 0, PROMPT_MILLIS),
                new Fault("reset mid-body, close-delimited",
                        Script.of().write("HTTP/1.1 200 OK\r\n\r\n" + ONE_KIB).sleep(100).reset(),
                        new Truncated(200), "backend_reset", 1, 0, PROMPT_MILLIS),
                new Fault("close before the last chunk",
                        Script.of().write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n" + ONE_KIB + "\r\n")
                                .sleep(100).close(),
                        new Truncated(200), "backend_reset", 1, 0, PROMPT_MILLIS),
                new Fault("a body shorter than its Content-Length, then close",
                        Script.of().write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort").sleep(100).close(),
                        new Truncated(200), "backend_reset", 1, 0, PROMPT_MILLIS),
                new Fault("a body longer than its Content-Length",
                        Script.of().write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\n"
                                + "Content-Length: 5\r\n\r\nSTRAY").silence(10_000),
                        new Complete(200, "hello", true), "completed", 0, 0, PROMPT_MILLIS),
                new Fault("invalid chunk size: not hex",
                        Script.of().write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
                                .silence(10_000),
                        new Truncated(200), "backend_invalid_response", 1, 0, PROMPT_MILLIS),
                new Fault("invalid chunk size: negative",
                        Script.of().write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n")
                                .silence(10_000),
                        new Truncated(200), "backend_invalid_response", 1, 0, PROMPT_MILLIS),
                new Fault("invalid chunk size: overflows 64 bits",
                        Script.of().write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1"
                                + "0".repeat(16) + "\r\nhello\r\n0\r\n\r\n").silence(10_000),
                        new Truncated(200), "backend_invalid_response", 1, 0, PROMPT_MILLIS),
                new Fault("invalid chunk: data longer than its size",
                        Script.of().write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello, world\r\n0\r\n\r\n")
                                .silence(10_000),
                        new Truncated(200), "backend_invalid_response", 1, 0, PROMPT_MILLIS),
                new Fault("a few interim responses (100 and 103) before the final one",
                        Script.of().repeat(3, Script.of().write("HTTP/1.1 100 Continue\r\n\r\n"))
                                .repeat(3, Script.of().write("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"))
                                .respond(200, "final"),
                        new Complete(200, "final", true), "completed", 0, 0, PROMPT_MILLIS),
                new Fault("interim responses up to the bound (" + ResponseRelay.MAX_INTERIM_RESPONSES + "), then the final one",
                        Script.of().repeat(ResponseRelay.MAX_INTERIM_RESPONSES, Script.of().write("HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"))
                                .respond(200, "final"),
                        new Complete(200, "final", true), "completed", 0, 0, PROMPT_MILLIS),
                new Fault("a flood of interim responses that never ends",
                        Script.of().repeat(5_000, Script.of().write("HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"))
                                .silence(10_000),
                        new Status(502), "backend_invalid_response", 1, 0, PROMPT_MILLIS),
                new Fault("100 Continue, then silence",
                        Script.of().write("HTTP/1.1 100 Continue\r\n\r\n").silence(10_000),
                        new Status(504), "backend_timeout", 1, timeout - 50, PROMPT_MILLIS + timeout),
                new Fault("a head over the response head limit",
                        Script.of().write("HTTP/1.1 200 OK\r\n" + ("X-Filler: " + "f".repeat(1000) + "\r\n").repeat(70)
                                + "Content-Length: 2\r\n\r\nok").silence(10_000),
                        new Status(502), "backend_invalid_response", 1, 0, PROMPT_MILLIS),
                new Fault("a 30 KiB head: under the head limit, over one client buffer",
                        Script.of().write("HTTP/1.1 200 OK\r\n" + ("X-Filler: " + "f".repeat(1000) + "\r\n").repeat(30)
                                + "Content-Length: 2\r\n\r\nok").silence(10_000),
                        new Status(502), "backend_invalid_response", 1, 0, PROMPT_MILLIS),
                new Fault("a head dripped at 1 byte per second",
                        Script.of().drip("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 1000),
                        new Status(504), "backend_timeout", 1, timeout - 50, PROMPT_MILLIS + timeout),
                new Fault("a body dripped at 1 byte per second",
                        Script.of().write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n").drip("0123456789", 1000),
                        new Truncated(200), "backend_timeout", 1, timeout - 50, PROMPT_MILLIS + timeout),
                new Fault("a close-delimited body dripped at 1 byte per second",
                        Script.of().write("HTTP/1.1 200 OK\r\n\r\n").drip("0123456789", 1000),
                        new Truncated(200), "backend_timeout", 1, timeout - 50, PROMPT_MILLIS + timeout),
                new Fault("half-close after a complete response",
                        Script.of().respond(200, "whole").shutdownOutput().silence(10_000),
                        new Complete(200, "whole", true), "completed", 0, 0, PROMPT_MILLIS),
                new Fault("half-close before any response",
                        Script.of().shutdownOutput().silence(10_000),
                        new Status(502), "backend_reset", 1, 0, PROMPT_MILLIS),
                new Fault("half-close ending a close-delimited body",
                        Script.of().write("HTTP/1.1 200 OK\r\n\r\nuntil close").shutdownOutput().silence(10_000),
                        new Complete(200, "until close", false), "completed", 0, 0, PROMPT_MILLIS));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("faults")
    void aMisbehavingBackendHarmsOnlyItsOwnRequest(Fault fault) throws Exception {
        CountDownLatch releaseStream = new CountDownLatch(1);
        CountDownLatch streaming = new CountDownLatch(1);
        Script perConnection = ChaosBackend.serving(Map.of(
                "/fault", fault.script(),
                "/stream", Script.of().signal(streaming).streamChunksUntil(releaseStream, 50, "tick")),
                Script.of().respond(200, "ok"));
        ChaosBackend origin = cleanup.track(new ChaosBackend("faulty", perConnection));
        Path accessLog = dir.resolve("access.log");
        ProxyHarness proxy = proxy("[\"" + origin.address() + "\"]", TIMEOUTS
                + ", \"access_log\": {\"file\": \"" + accessLog + "\"}");
        long baseline = LeakCheck.openDescriptors();

        // (b) a healthy response streams through the same loop while the fault happens
        RawClient neighbour = cleanup.track(proxy.client());
        neighbour.send("GET /stream HTTP/1.1\r\nHost: t\r\n\r\n");
        CompletableFuture<HttpMessage> streamed = CompletableFuture.supplyAsync(() -> readQuietly(neighbour));
        assertThat(streaming.await(10, TimeUnit.SECONDS)).as("the neighbour's stream started").isTrue();

        // (a) what the faulted client receives, and when
        RawClient victim = cleanup.track(proxy.client());
        long start = System.nanoTime();
        victim.send("GET /fault HTTP/1.1\r\nHost: t\r\n\r\n");
        assertOutcome(fault.outcome(), victim);
        long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(elapsed).as("time to the outcome").isBetween(fault.minMillis(), fault.maxMillis());

        // (d) what the listener says about the fault, before the neighbour finishes
        assertThat(nextFinished()).isEqualTo("/fault " + statusLogged(fault) + " " + fault.termination());
        if (fault.outcome() instanceof Complete complete) {
            if (complete.reusable()) {
                assertThat(victim.get("/ok").bodyText()).as("the next answer on that connection").isEqualTo("ok");
                assertThat(nextFinished()).isEqualTo("/ok 200 completed");
            } else {
                assertThat(victim.isClosedByPeer()).as("closed after a close-delimited response").isTrue();
            }
        }

        releaseStream.countDown();
        HttpMessage stream;
        try {
            stream = streamed.get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            Thread.sleep(200);
            throw new AssertionError("the neighbour's stream failed; finished since: " + finished, e);
        }
        assertThat(stream.status()).isEqualTo(200);
        assertThat(stream.bodyText()).matches("(tick)+");
        assertThat(nextFinished()).isEqualTo("/stream 200 completed");
        assertThat(neighbour.get("/ok").bodyText()).as("the neighbour's connection is still good").isEqualTo("ok");
        assertThat(nextFinished()).isEqualTo("/ok 200 completed");
        neighbour.close();
        victim.close();

        // (c) nothing held; the pool still serves; the origin's sockets close but for the pooled ones
        LeakCheck.assertNothingHeld(proxy, Duration.ofSeconds(5));
        for (int i = 0; i < 2; i++) {
            try (RawClient next = proxy.client()) {
                assertThat(next.get("/ok").bodyText()).as("a follow-up request through the pool").isEqualTo("ok");
                assertThat(nextFinished()).isEqualTo("/ok 200 completed");
            }
        }
        LeakCheck.assertNothingHeld(proxy, Duration.ofSeconds(5));
        eventually("the origin's connections are closed except those pooled",
                () -> origin.openConnections() == proxy.idleBackendConnections());
        LeakCheck.assertDescriptorsBackTo(baseline, 2 * proxy.idleBackendConnections(), Duration.ofSeconds(5));
        assertThat(origin.scriptFailures).isEmpty();

        // (d) metrics and access log
        assertThat(finished).as("no other request was reported").isEmpty();
        if (!fault.termination().equals("completed")) {
            assertMetric(proxy, "moonbeam_request_terminations_total{reason=\"" + fault.termination() + "\"}", 1);
        }
        assertMetric(proxy, "moonbeam_backend_errors_total{backend=\"" + origin.address() + "\"}", fault.backendErrors());
        assertMetric(proxy, "moonbeam_backend_failures_total{backend=\"" + origin.address() + "\"}", 0);
        assertMetric(proxy, "moonbeam_backend_up{backend=\"" + origin.address() + "\"}", 1);
        String line = eventuallyLine(accessLog, "\"GET /fault HTTP/1.1\"");
        assertThat(line).contains("\"GET /fault HTTP/1.1\" " + statusLogged(fault) + " ")
                .contains("backend=" + origin.address()).endsWith("termination=" + fault.termination());
    }

    // ---- faults that need more than one request to show ----

    @Test
    void aRefusedConnectionIsRetriedOnTheHealthyNeighbourAndBacksTheDeadOneOff() throws Exception {
        ChaosBackend healthy = cleanup.track(new ChaosBackend("healthy",
                ChaosBackend.serving(Map.of(), Script.of().respond(200, "healthy"))));
        String refused = "127.0.0.1:" + unusedPort();
        ProxyHarness proxy = proxy("[\"" + refused + "\", \"" + healthy.address() + "\"]", TIMEOUTS);
        long baseline = LeakCheck.openDescriptors();
        String failures = "moonbeam_backend_failures_total{backend=\"" + refused + "\"}";
        // Least connections rotates among idle backends: within a few requests the dead one is picked.
        for (int i = 0; i < 6 && metric(proxy, failures) < 1; i++) {
            long start = System.nanoTime();
            try (RawClient client = proxy.client()) {
                assertThat(client.get("/").bodyText()).as("served by the healthy one, retried if need be").isEqualTo("healthy");
            }
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(PROMPT_MILLIS);
            assertThat(nextFinished()).isEqualTo("/ 200 completed");
        }
        assertThat(metric(proxy, failures)).as("the refusal counts against the dead backend").isEqualTo(1);
        assertThat(metric(proxy, "moonbeam_backend_attempts_total{backend=\"" + refused + "\"}")).isEqualTo(1);
        assertMetric(proxy, "moonbeam_backend_state{backend=\"" + refused + "\",state=\"backoff\"}", 1);
        assertMetric(proxy, "moonbeam_backend_errors_total{backend=\"" + healthy.address() + "\"}", 0);
        assertMetric(proxy, "moonbeam_request_terminations_total{reason=\"backend_connect_failed\"}", 0);
        LeakCheck.assertNothingHeld(proxy, Duration.ofSeconds(5));
        LeakCheck.assertDescriptorsBackTo(baseline, 2 * proxy.idleBackendConnections(), Duration.ofSeconds(5));
    }

    @Test
    void strayBytesOnAnIdlePooledConnectionAreNeverTakenForTheNextAnswer() throws Exception {
        // The first connection answers, then (idle in the pool) sends a response nobody asked for.
        ChaosBackend origin = cleanup.track(new ChaosBackend("stray", index -> index == 0
                ? Script.of().readRequest().respond(200, "first").sleep(100)
                        .write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nSTRAY").silence(10_000)
                : ChaosBackend.serving(Map.of(), Script.of().respond(200, "ok"))));
        ProxyHarness proxy = proxy("[\"" + origin.address() + "\"]", TIMEOUTS);
        long baseline = LeakCheck.openDescriptors();
        RawClient client = cleanup.track(proxy.client());
        assertThat(client.get("/one").bodyText()).isEqualTo("first");
        assertThat(nextFinished()).isEqualTo("/one 200 completed");
        eventually("the proxy closed the pooled connection the stray bytes came on", () -> origin.peerClosed.get() == 1);
        assertThat(proxy.idleBackendConnections()).isZero();
        assertThat(client.get("/two").bodyText()).as("a fresh connection's answer, not the stray one").isEqualTo("ok");
        assertThat(nextFinished()).isEqualTo("/two 200 completed");
        assertThat(origin.accepted.get()).isEqualTo(2);
        client.close();
        LeakCheck.assertNothingHeld(proxy, Duration.ofSeconds(5));
        LeakCheck.assertDescriptorsBackTo(baseline, 2 * proxy.idleBackendConnections(), Duration.ofSeconds(5));
        assertMetric(proxy, "moonbeam_backend_errors_total{backend=\"" + origin.address() + "\"}", 0);
    }

    @Test
    void aBackendKeepAliveShorterThanThePoolsIsNeverSeenByClients() throws Exception {
        // The origin closes a connection idle for 200 ms and does not say so (no Keep-Alive header);
        // the proxy keeps idle connections 30 s. Requests come at about that interval, so some meet
        // a connection the origin is closing just then: each must be retried on a fresh one.
        long backendIdle = 200;
        ChaosBackend origin = cleanup.track(new ChaosBackend("short-keepalive", Script.of().repeat(ChaosBackend.MAX_REPEATS,
                Script.of().readRequestWithin(backendIdle).respond(200, "ok"))));
        ProxyHarness proxy = proxy("[\"" + origin.address() + "\"]", TIMEOUTS);
        long baseline = LeakCheck.openDescriptors();
        long[] gaps = {200, 195, 205, 190, 210, 200, 198, 202, 200, 185, 215, 200};
        try (RawClient client = proxy.client()) {
            for (long gap : gaps) {
                assertThat(client.get("/").status()).isEqualTo(200);
                assertThat(nextFinished()).isEqualTo("/ 200 completed");
                Thread.sleep(gap);
            }
        }
        assertThat(origin.idleClosed.get()).as("the origin did close idle connections").isPositive();
        assertMetric(proxy, "moonbeam_backend_errors_total{backend=\"" + origin.address() + "\"}", 0);
        assertMetric(proxy, "moonbeam_backend_failures_total{backend=\"" + origin.address() + "\"}", 0);
        LeakCheck.assertNothingHeld(proxy, Duration.ofSeconds(5));
        LeakCheck.assertDescriptorsBackTo(baseline, 2 * proxy.idleBackendConnections(), Duration.ofSeconds(5));
    }

    @Test
    void connectionCloseOnEveryResponseRetiresEachBackendConnectionButNotTheClients() throws Exception {
        // The origin says Connection: close but leaves its socket open: the proxy must close it.
        ChaosBackend origin = cleanup.track(new ChaosBackend("close-always",
                Script.of().readRequest().respond(200, "once", "Connection: close").silence(10_000)));
        ProxyHarness proxy = proxy("[\"" + origin.address() + "\"]", TIMEOUTS);
        long baseline = LeakCheck.openDescriptors();
        int perClient = 5;
        List<CompletableFuture<Void>> clients = new java.util.ArrayList<>();
        for (int c = 0; c < 2; c++) {
            clients.add(CompletableFuture.runAsync(() -> {
                try (RawClient client = proxy.client()) {
                    for (int i = 0; i < perClient; i++) {
                        HttpMessage response = client.get("/");
                        assertThat(response.bodyText()).isEqualTo("once");
                        assertThat(response.header("Connection")).as("the client's connection stays open").isNull();
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }));
        }
        CompletableFuture.allOf(clients.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
        for (int i = 0; i < 2 * perClient; i++) {
            assertThat(nextFinished()).isEqualTo("/ 200 completed");
        }
        assertThat(origin.accepted.get()).as("one backend connection per request").isEqualTo(2 * perClient);
        eventually("the proxy closed every backend connection", () -> origin.peerClosed.get() == 2 * perClient);
        assertThat(proxy.idleBackendConnections()).isZero();
        LeakCheck.assertNothingHeld(proxy, Duration.ofSeconds(5));
        LeakCheck.assertDescriptorsBackTo(baseline, 0, Duration.ofSeconds(5));
        assertMetric(proxy, "moonbeam_backend_errors_total{backend=\"" + origin.address() + "\"}", 0);
    }

    @Test
    void aFlappingBackendIsTakenOutAndBroughtBackWhileItsHealthyNeighbourServesEveryone() throws Exception {
        ChaosBackend healthy = cleanup.track(new ChaosBackend("steady",
                ChaosBackend.serving(Map.of(), Script.of().respond(200, "steady"))));
        ChaosBackend flapping = cleanup.track(new ChaosBackend("flapping",
                ChaosBackend.serving(Map.of(), Script.of().respond(200, "flapping"))));
        ProxyHarness proxy = proxy("[\"" + healthy.address() + "\", \"" + flapping.address() + "\"]", TIMEOUTS
                + ", \"health_check\": {\"path\": \"/healthz\", \"interval\": \"100ms\", \"timeout\": \"200ms\","
                + " \"healthy_threshold\": 1, \"unhealthy_threshold\": 1}");
        long baseline = LeakCheck.openDescriptors();
        flappingRun = true;
        dev.moonbeam.balance.HealthChecker checker = dev.moonbeam.balance.HealthChecker.startIfConfigured(
                proxy.proxy.routing(), proxy.config);
        assertThat(checker).isNotNull();
        cleanup.track(checker);
        dev.moonbeam.balance.Backend flappingBackend = proxy.proxy.routing().current().backends().stream()
                .filter(b -> b.spec().hostPort().equals(flapping.address())).findFirst().orElseThrow();

        java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.concurrent.ConcurrentLinkedQueue<String> clientFailures = new java.util.concurrent.ConcurrentLinkedQueue<>();
        java.util.concurrent.atomic.AtomicInteger served = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger servedByFlapping = new java.util.concurrent.atomic.AtomicInteger();
        List<CompletableFuture<Void>> load = new java.util.ArrayList<>();
        for (int c = 0; c < 2; c++) {
            load.add(CompletableFuture.runAsync(() -> {
                RawClient client = null;
                for (int i = 0; i < 5_000 && running.get(); i++) {
                    try {
                        if (client == null) {
                            client = proxy.client();
                        }
                        HttpMessage response = client.get("/");
                        served.incrementAndGet();
                        if (response.status() != 200) {
                            clientFailures.add(response.status() + "");
                        } else if (response.bodyText().equals("flapping")) {
                            servedByFlapping.incrementAndGet();
                        }
                        if (response.status() != 200 || "close".equalsIgnoreCase(response.header("Connection"))) {
                            client.close();
                            client = null;
                        }
                        Thread.sleep(5);
                    } catch (IOException e) {
                        clientFailures.add(e.toString());
                        client = closeQuietly(client);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
                closeQuietly(client);
            }));
        }
        // Down and up every 500 ms, three times; the monitor sees the checker's verdicts.
        boolean sawOut = false;
        boolean sawBackAfterOut = false;
        int servedBeforeLastUp = 0;
        for (int flap = 0; flap < 3; flap++) {
            Thread.sleep(500);
            flapping.down();
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
            while (System.nanoTime() - until < 0) {
                sawOut |= flappingBackend.isActiveDown();
                Thread.sleep(10);
            }
            servedBeforeLastUp = servedByFlapping.get();
            flapping.up();
        }
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() - until < 0 && !(sawOut && servedByFlapping.get() > servedBeforeLastUp)) {
            Thread.sleep(10);
        }
        sawBackAfterOut = servedByFlapping.get() > servedBeforeLastUp && !flappingBackend.isActiveDown();
        running.set(false);
        CompletableFuture.allOf(load.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
        checker.close();

        assertThat(sawOut).as("the health checker took the flapping backend out").isTrue();
        assertThat(sawBackAfterOut).as("and brought it back: it served again after its last return").isTrue();
        assertThat(served.get()).as("steady load").isGreaterThan(50);
        // Every failure a client saw is explained by the flapping backend, and there are few.
        List<String> records = new java.util.ArrayList<>();
        finished.drainTo(records);
        List<String> failed = records.stream().filter(r -> !r.endsWith(" completed")).toList();
        assertThat(failed).as("failures are the flapping backend's, with a reason")
                .allSatisfy(r -> assertThat(r).matches("/ \\d{3} " + flapping.address() + " backend_(reset|connect_failed|timeout)"));
        assertThat(clientFailures).as("what clients saw").hasSameSizeAs(failed);
        assertThat(failed.size()).as("bounded failures").isLessThanOrEqualTo(6);
        LeakCheck.assertNothingHeld(proxy, Duration.ofSeconds(5));
        LeakCheck.assertDescriptorsBackTo(baseline, 2 * proxy.idleBackendConnections(), Duration.ofSeconds(5));
    }

    @Test
    void aResponseInsideTheTimeoutIsServedAfterTheLoopWasIdle() throws Exception {
        // The origin takes 250 ms of the 500 ms allowed. Between requests the proxy's loop sleeps in
        // select (up to its 1 s housekeeping tick): the timeout must count from when the request
        // went out, not from when the loop last woke (before the fix, the first request already got 504).
        ChaosBackend origin = cleanup.track(new ChaosBackend("unhurried", ChaosBackend.serving(Map.of(),
                Script.of().sleep(RESPONSE_TIMEOUT_MILLIS / 2).respond(200, "in time"))));
        ProxyHarness proxy = proxy("[\"" + origin.address() + "\"]", TIMEOUTS);
        try (RawClient client = proxy.client()) {
            for (int i = 0; i < 3; i++) {
                Thread.sleep(700);
                HttpMessage response = client.get("/");
                assertThat(response.status() + " " + response.bodyText()).as("request " + i).isEqualTo("200 in time");
                assertThat(nextFinished()).isEqualTo("/ 200 completed");
            }
        }
    }

    // ---- helpers ----

    private ProxyHarness proxy(String backendsJson, String extraJson) throws Exception {
        RequestListener recorder = record -> {
            HttpHead head = record.request;
            String target = head == null ? "-" : head.text(head.targetStart(), head.targetEnd());
            String backend = flappingRun && record.backend != null ? record.backend.spec().hostPort() + " " : "";
            finished.add(target + " " + record.status + " " + backend + record.termination.label());
        };
        return cleanup.track(ProxyHarness.start(dir, 1, backendsJson, extraJson, i -> recorder));
    }

    /** The status the log shows: the client's error status, or the backend's once its head went out. */
    private static int statusLogged(Fault fault) {
        Outcome outcome = fault.outcome();
        if (outcome instanceof Status s) {
            return s.status();
        }
        if (outcome instanceof Truncated t) {
            return t.status();
        }
        return ((Complete) outcome).status();
    }

    private String nextFinished() throws InterruptedException {
        String next = finished.poll(10, TimeUnit.SECONDS);
        assertThat(next).as("a finished request was reported").isNotNull();
        return next;
    }

    private static void assertOutcome(Outcome outcome, RawClient client) throws IOException {
        if (outcome instanceof Status s) {
            HttpMessage response = finalResponse(client);
            assertThat(response).as("a response").isNotNull();
            assertThat(response.status()).isEqualTo(s.status());
            assertThat(client.isClosedByPeer()).as("closed after the error response").isTrue();
        } else if (outcome instanceof Complete c) {
            HttpMessage response = finalResponse(client);
            assertThat(response.status()).isEqualTo(c.status());
            assertThat(response.bodyText()).isEqualTo(c.body());
        } else {
            assertTruncated(client, ((Truncated) outcome).status());
        }
    }

    /** The next final response, after any interim (1xx) ones (at most 100 of them). */
    private static HttpMessage finalResponse(RawClient client) throws IOException {
        HttpMessage response = client.response();
        for (int interim = 0; response != null && response.status() / 100 == 1 && interim < 100; interim++) {
            response = client.response();
        }
        return response;
    }

    /**
     * Reads everything until the proxy ends the connection and checks that what arrived is not a
     * complete message: a head with {@code status} and an incomplete body, or
     * nothing; and that the end came as an abort when the body was close-delimited (a FIN would
     * make a truncated close-delimited body look whole).
     */
    private static void assertTruncated(RawClient client, int status) throws IOException {
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        boolean reset = readToEnd(client.in, received);
        String text = received.toString(StandardCharsets.ISO_8859_1);
        if (text.isEmpty()) {
            return; // the fault came in the same read as the head, before any byte went out
        }
        int headEnd = lastFinalHeadEnd(text);
        assertThat(text).startsWith("HTTP/1.1 " + status + " ");
        assertThat(headEnd).as("a whole head").isPositive();
        String head = text.substring(0, headEnd).toLowerCase();
        String body = text.substring(headEnd);
        if (head.contains("\r\ncontent-length:")) {
            int length = Integer.parseInt(head.replaceAll("(?s).*\r\ncontent-length: *(\\d+).*", "$1"));
            assertThat(body.length()).as("a truncated body").isLessThan(length);
        } else if (head.contains("\r\ntransfer-encoding: chunked")) {
            assertThat(body).as("no last chunk").doesNotEndWith("0\r\n\r\n");
        } else {
            assertThat(reset).as("a close-delimited body cut short ends with a reset, not a FIN").isTrue();
        }
    }

    /** Reads until EOF (false) or reset (true), bounded by the socket's timeout. */
    private static boolean readToEnd(InputStream in, ByteArrayOutputStream into) throws IOException {
        byte[] buffer = new byte[8192];
        try {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                into.write(buffer, 0, n);
            }
            return false;
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the connection did not end; received " + abbreviate(into.toString(StandardCharsets.ISO_8859_1)));
        } catch (IOException e) {
            return true;
        }
    }

    /** The end of the final (non-1xx) head in {@code text}, or -1. */
    private static int lastFinalHeadEnd(String text) {
        int at = 0;
        while (at < text.length()) {
            int end = text.indexOf("\r\n\r\n", at);
            if (end < 0) {
                return -1;
            }
            if (!text.startsWith("HTTP/1.1 1", at)) {
                return end + 4;
            }
            at = end + 4;
        }
        return -1;
    }

    private static String abbreviate(String text) {
        return text.length() <= 200 ? text : text.substring(0, 200) + "...(" + text.length() + " chars)";
    }

    private static RawClient closeQuietly(RawClient client) {
        if (client != null) {
            try {
                client.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
        return null;
    }

    private static HttpMessage readQuietly(RawClient client) {
        try {
            return client.response();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Polls for the sample to reach {@code expected}: loops count after the response went out. */
    static void assertMetric(ProxyHarness proxy, String sample, long expected) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        long value;
        do {
            value = metric(proxy, sample);
            if (value == expected) {
                return;
            }
            sleep(20);
        } while (System.nanoTime() - deadline < 0);
        assertThat(value).as(sample).isEqualTo(expected);
    }

    static long metric(ProxyHarness proxy, String sample) {
        for (String line : proxy.proxy.metrics().prometheus().split("\n")) {
            if (line.startsWith(sample + " ")) {
                return (long) Double.parseDouble(line.substring(sample.length() + 1).trim());
            }
        }
        return -1;
    }

    private static String eventuallyLine(Path file, String containing) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            if (Files.exists(file)) {
                List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
                for (String line : lines) {
                    if (line.contains(containing)) {
                        return line;
                    }
                }
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("no access-log line with " + containing);
            }
            sleep(20);
        }
    }

    static void eventually(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not within 10 s: " + what);
            }
            sleep(10);
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static int unusedPort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0)) {
            return probe.getLocalPort();
        }
    }
}
