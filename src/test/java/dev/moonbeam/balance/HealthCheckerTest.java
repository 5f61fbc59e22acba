package dev.moonbeam.balance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.moonbeam.config.HealthCheckConfig;
import dev.moonbeam.loop.FakeClock;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HealthCheckerTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private final FakeClock clock = new FakeClock();
    private ProbeTarget a;
    private ProbeTarget b;
    private HealthChecker started;

    @AfterEach
    void tearDown() throws IOException {
        if (started != null) {
            started.close();
        }
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
    }

    private static HealthCheckConfig check(int healthy, int unhealthy) {
        return new HealthCheckConfig(true, "/healthz", Duration.ofSeconds(2), Duration.ofSeconds(1),
                healthy, unhealthy, 200, 399, null, Duration.ZERO);
    }

    private static HealthCheckConfig expecting(int min, int max) {
        return new HealthCheckConfig(true, "/", Duration.ofSeconds(2), Duration.ofSeconds(1), 1, 1, min, max, null, Duration.ZERO);
    }

    private static RoutingTable table(BackendSpec... specs) {
        return new RoutingTable(Routing.of(List.of(specs)));
    }

    private static Backend only(RoutingTable table) {
        return table.current().backends().get(0);
    }

    @Test
    void failingBackendGoesOutAfterExactlyTheUnhealthyThresholdAndBackAfterTheHealthyOne() throws IOException {
        a = new ProbeTarget(500);
        RoutingTable table = table(a.spec());
        Backend backend = only(table);
        HealthChecker checker = new HealthChecker(table, check(2, 3), clock);

        checker.runOnce();
        checker.runOnce();
        assertThat(backend.isActiveDown()).as("2 failures of 3").isFalse();
        checker.runOnce();
        assertThat(backend.isActiveDown()).as("3rd failure").isTrue();
        assertThat(backend.isAvailable(clock.nanoTime())).isFalse();
        checker.runOnce();
        assertThat(backend.isActiveDown()).isTrue();

        a.status = 200;
        checker.runOnce();
        assertThat(backend.isActiveDown()).as("1 pass of 2").isTrue();
        checker.runOnce();
        assertThat(backend.isActiveDown()).as("2nd pass").isFalse();
        assertThat(backend.isAvailable(clock.nanoTime())).isTrue();
        assertThat(a.requests).hasSize(6);
    }

    @Test
    void probeIsAGetWithHostUserAgentAndConnectionClose() throws IOException {
        a = new ProbeTarget(200);
        RoutingTable table = table(a.spec());
        new HealthChecker(table, check(1, 1), clock).runOnce();
        HealthCheckConfig withHost = new HealthCheckConfig(true, "/status?full=1", Duration.ofSeconds(2), Duration.ofSeconds(1),
                1, 1, 200, 399, "app.example", Duration.ZERO);
        new HealthChecker(table, withHost, clock).runOnce();

        assertThat(a.requests.get(0)).startsWith("GET /healthz HTTP/1.1\r\n")
                .contains("\r\nHost: 127.0.0.1:" + a.port() + "\r\n")
                .contains("\r\nUser-Agent: MoonBeam-health-check\r\n")
                .contains("\r\nConnection: close\r\n")
                .endsWith("\r\n\r\n");
        assertThat(a.requests.get(1)).startsWith("GET /status?full=1 HTTP/1.1\r\n").contains("\r\nHost: app.example\r\n");
    }

    @Test
    void backendNotListeningIsTakenOut() throws IOException {
        int port;
        try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = closed.getLocalPort();
        }
        RoutingTable table = table(new BackendSpec("127.0.0.1:" + port, new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1));
        new HealthChecker(table, check(1, 1), clock).runOnce();
        assertThat(only(table).isActiveDown()).isTrue();
    }

    @Test
    void hangingBackendFailsWithinTheTimeout() throws IOException {
        a = new ProbeTarget(200);
        a.hang = true;
        RoutingTable table = table(a.spec());
        HealthCheckConfig quick = new HealthCheckConfig(true, "/", Duration.ofSeconds(2), Duration.ofMillis(200),
                1, 1, 200, 399, null, Duration.ZERO);
        HealthChecker checker = new HealthChecker(table, quick, clock);

        long start = System.nanoTime();
        checker.runOnce();
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(only(table).isActiveDown()).isTrue();
        assertThat(tookMillis).isBetween(150L, 1500L);
    }

    @Test
    void aProbeToABackendThatExpectsAProxyHeaderStartsWithAV2Local() throws Exception {
        java.net.InetSocketAddress address = new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 8080);
        byte[] plain = HealthProbe.request(new BackendSpec("127.0.0.1:8080", address, 1, 0, false), HealthCheckConfig.DEFAULTS);
        byte[] proxied = HealthProbe.request(new BackendSpec("127.0.0.1:8080", address, 1, 0, true), HealthCheckConfig.DEFAULTS);
        assertThat(new String(plain, java.nio.charset.StandardCharsets.US_ASCII)).startsWith("GET / HTTP/1.1\r\n");
        dev.moonbeam.proxy.ProxyProtocol.Result header = dev.moonbeam.proxy.ProxyProtocol.parse(java.nio.ByteBuffer.wrap(proxied));
        assertThat(header).isEqualTo(new dev.moonbeam.proxy.ProxyProtocol.Header(2, 16, null, null));
        assertThat(java.util.Arrays.copyOfRange(proxied, 16, proxied.length)).isEqualTo(plain);
    }

    @Test
    void garbageOrAnEarlyCloseIsAFailure() {
        HealthCheckConfig any = expecting(100, 599);
        assertThat(HealthProbe.judge(null, any).passed()).isFalse();
        assertThat(HealthProbe.judge("", any).passed()).isFalse();
        assertThat(HealthProbe.judge("SSH-2.0-OpenSSH_9.6", any).passed()).isFalse();
        assertThat(HealthProbe.judge("HTTP/1.1 2000 OK", any).passed()).isFalse();
        assertThat(HealthProbe.judge("HTTP/2 200", any).passed()).isFalse();
        assertThat(HealthProbe.judge("HTTP/1.1 204", any).passed()).isTrue();
        assertThat(HealthProbe.judge("HTTP/1.0 200 OK", any).status()).isEqualTo(200);
    }

    @ParameterizedTest(name = "status {0} against {1}-{2}: passes={3}")
    @CsvSource({
            "200, 200, 399, true",
            "301, 200, 399, true",
            "399, 200, 399, true",
            "400, 200, 399, false",
            "500, 200, 399, false",
            "199, 200, 399, false",
            "204, 204, 204, true",
            "200, 204, 204, false",
            "503, 500, 599, true"})
    void expectedStatusRange(int status, int min, int max, boolean passes) throws IOException {
        a = new ProbeTarget(status);
        RoutingTable table = table(a.spec());
        new HealthChecker(table, expecting(min, max), clock).runOnce();
        assertThat(only(table).isActiveDown()).isEqualTo(!passes);
    }

    @Test
    void perBackendDisableSkipsThatBackendAndReleasesIt() throws IOException {
        a = new ProbeTarget(500);
        b = new ProbeTarget(500);
        RoutingTable table = table(a.spec(), b.spec());
        Backend backendA = table.current().backends().get(0);
        Backend backendB = table.current().backends().get(1);
        HealthChecker checker = new HealthChecker(table, check(1, 1), Map.of(b.spec().address(), HealthCheckConfig.DISABLED), clock);

        checker.runOnce();
        assertThat(backendA.isActiveDown()).isTrue();
        assertThat(backendB.isActiveDown()).isFalse();
        assertThat(b.requests).isEmpty();

        checker.reconfigure(check(1, 1), Map.of(a.spec().address(), HealthCheckConfig.DISABLED));
        checker.runOnce();
        assertThat(backendA.isActiveDown()).as("checks switched off: back in rotation").isFalse();
        assertThat(backendB.isActiveDown()).isTrue();
    }

    @Test
    void countsAndHealthSurviveAReloadThatKeepsTheAddress() throws IOException {
        a = new ProbeTarget(500);
        b = new ProbeTarget(200);
        RoutingTable table = table(a.spec());
        Backend before = only(table);
        HealthChecker checker = new HealthChecker(table, check(2, 3), clock);
        checker.runOnce();
        checker.runOnce();

        BackendSpec reweighted = new BackendSpec(a.spec().hostPort(), a.spec().address(), 5);
        table.reload(List.of(b.spec(), reweighted));
        assertThat(table.current().backends().get(1)).isSameAs(before);
        checker.runOnce();
        assertThat(before.isActiveDown()).as("third failure in a row, across the reload").isTrue();
        assertThat(table.current().backends().get(0).isActiveDown()).isFalse();

        table.reload(List.of(b.spec(), reweighted));
        assertThat(table.current().backends().get(1).isActiveDown()).as("still down after another reload").isTrue();
        assertThat(table.current().balancer().pick(clock.nanoTime(), null).spec().address()).isEqualTo(b.spec().address());
    }

    @Test
    void activeDownAndPassiveBackoffCombine() throws IOException {
        a = new ProbeTarget(200);
        RoutingTable table = table(a.spec());
        Backend backend = only(table);
        long now = clock.nanoTime();

        backend.markFailed(now);
        assertThat(backend.isActiveDown()).isFalse();
        assertThat(backend.isAvailable(now)).as("passive back-off alone").isFalse();
        backend.markActiveDown();
        assertThat(backend.isAvailable(now + 5 * SECOND)).as("active down outlasts the back-off").isFalse();

        HealthChecker checker = new HealthChecker(table, check(2, 3), clock);
        checker.runOnce();
        assertThat(backend.isAvailable(now)).isFalse();
        checker.runOnce();
        assertThat(backend.isAvailable(now)).as("two passes clear both").isTrue();

        backend.markFailed(now);
        checker.runOnce();
        assertThat(backend.isAvailable(now)).as("passes before the failure do not count").isFalse();
        checker.runOnce();
        assertThat(backend.isAvailable(now)).as("two passes after it end the back-off early").isTrue();
    }

    @Test
    void slowStartRampsTheWeightAfterRecovery() throws IOException {
        a = new ProbeTarget(500);
        b = new ProbeTarget(200);
        RoutingTable table = table(a.spec(), b.spec());
        Backend ramping = table.current().backends().get(0);
        Backend steady = table.current().backends().get(1);
        HealthCheckConfig slow = new HealthCheckConfig(true, "/", Duration.ofSeconds(2), Duration.ofSeconds(1),
                1, 1, 200, 399, null, Duration.ofSeconds(10));
        HealthChecker checker = new HealthChecker(table, slow, clock);
        checker.runOnce();
        assertThat(ramping.isActiveDown()).isTrue();
        assertThat(steady.effectiveWeight(clock.nanoTime())).isEqualTo(Backend.WEIGHT_SCALE);

        a.status = 200;
        checker.runOnce();
        long up = clock.nanoTime();
        assertThat(ramping.isActiveDown()).isFalse();
        assertThat(ramping.weight()).as("configured weight unchanged").isEqualTo(1);
        assertThat(ramping.effectiveWeight(up)).isEqualTo(1);
        assertThat(ramping.effectiveWeight(up + 5 * SECOND)).isBetween(8, 9);
        assertThat(ramping.effectiveWeight(up + 10 * SECOND)).isEqualTo(Backend.WEIGHT_SCALE);
        assertThat(steady.effectiveWeight(up)).isEqualTo(Backend.WEIGHT_SCALE);

        // Early in the ramp the steady backend takes requests until it carries ~10x the load.
        Backends.acquire(steady, 3);
        assertThat(table.current().balancer().pick(up + SECOND, null)).isSameAs(steady);
        assertThat(table.current().balancer().pick(up + 10 * SECOND, null)).isSameAs(ramping);
    }

    @Test
    void slowStartAlsoFollowsAPassiveRecovery() {
        Backend backend = Backends.backend(8080, 2);
        backend.slowStartNanos(4 * SECOND);
        long now = clock.nanoTime();
        assertThat(backend.effectiveWeight(now)).as("never recovered: full").isEqualTo(2 * Backend.WEIGHT_SCALE);
        backend.markFailed(now);
        backend.markSucceeded(); // back-off (1 s) ended, the first request got an answer
        long backoffEnd = now + Backend.INITIAL_BACKOFF_NANOS;
        assertThat(backend.effectiveWeight(backoffEnd)).isEqualTo(3);
        assertThat(backend.effectiveWeight(backoffEnd + 2 * SECOND)).isBetween(17, 18);
        assertThat(backend.effectiveWeight(backoffEnd + 4 * SECOND)).isEqualTo(2 * Backend.WEIGHT_SCALE);
    }

    @Test
    void startedCheckerProbesOnItsOwnThreadAndClosesPromptly() throws Exception {
        a = new ProbeTarget(503);
        RoutingTable table = table(a.spec());
        HealthCheckConfig fast = new HealthCheckConfig(true, "/", Duration.ofMillis(100), Duration.ofSeconds(1),
                1, 2, 200, 399, null, Duration.ZERO);
        started = new HealthChecker(table, fast, dev.moonbeam.loop.Clock.SYSTEM);
        started.start();
        assertThatThrownBy(started::runOnce).isInstanceOf(IllegalStateException.class);

        Backend backend = only(table);
        long deadline = System.nanoTime() + 5 * SECOND;
        while (!backend.isActiveDown() && System.nanoTime() - deadline < 0) {
            Thread.sleep(10);
        }
        assertThat(backend.isActiveDown()).isTrue();

        a.hang = true; // the next probe blocks; close must not wait for its timeout
        Thread.sleep(150);
        long start = System.nanoTime();
        started.close();
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(900);
    }

    @Test
    void notConfiguredMeansNoCheckerAndNobodyLeftOut() throws IOException {
        a = new ProbeTarget(200);
        RoutingTable table = table(a.spec());
        only(table).markActiveDown();
        dev.moonbeam.config.ProxyConfig config = new dev.moonbeam.config.ProxyConfig(null, null, 1,
                List.of(new dev.moonbeam.config.BackendConfig(new dev.moonbeam.config.HostPort("127.0.0.1", a.port()),
                        a.spec().address(), 1, HealthCheckConfig.DISABLED)),
                null, null, null, null, null, null, HealthCheckConfig.DISABLED, null, null, null, null);
        assertThat(HealthChecker.startIfConfigured(table, config)).isNull();
        assertThat(only(table).isActiveDown()).isFalse();
    }
}
