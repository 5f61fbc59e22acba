package dev.moonbeam.warmup;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moonbeam.config.BackendConfig;
import dev.moonbeam.config.ConfigLoader;
import dev.moonbeam.config.ProxyConfig;
import dev.moonbeam.config.WarmUpConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The warm-up drives real requests through a private proxy on loopback, never touches the
 * configured listener or backends, and always ends near its deadline.
 */
class WarmUpTest {
    @TempDir
    Path home;

    @Test
    void privateConfigBindsOnlyLoopbackEphemeralPortsAndProxiesOnlyToItsOrigins() throws Exception {
        ProxyConfig config = load("\"listen\": \"0.0.0.0:443\", \"backend_servers\": [\"192.0.2.1:80\", \"192.0.2.2:8080\"],"
                + " \"http_listener\": {\"listen\": \"0.0.0.0:80\"}, \"admin\": {\"listen\": \"0.0.0.0:9901\"},"
                + " \"access_log\": {\"file\": \"logs/access.log\"}, \"health_check\": true,", true);
        try (WarmUpOrigin a = new WarmUpOrigin("a"); WarmUpOrigin b = new WarmUpOrigin("b")) {
            ProxyConfig warm = WarmUp.privateConfig(config, List.of(a, b));
            assertThat(warm.listen().address().getAddress().isLoopbackAddress()).isTrue();
            assertThat(warm.listen().address().getPort()).isZero();
            assertThat(warm.httpListener().listen().address().getAddress().isLoopbackAddress()).isTrue();
            assertThat(warm.httpListener().listen().address().getPort()).isZero();
            assertThat(warm.httpListener().action()).isEqualTo(dev.moonbeam.config.HttpListenerConfig.Action.PROXY);
            assertThat(warm.backends()).extracting(BackendConfig::address).containsExactly(a.address(), b.address());
            assertThat(warm.backends()).allSatisfy(backend -> {
                assertThat(backend.address().getAddress().isLoopbackAddress()).isTrue();
                assertThat(backend.healthCheck().enabled()).isFalse();
            });
            assertThat(warm.observe().admin()).isNull();
            assertThat(warm.observe().accessLog()).isNull();
            assertThat(warm.healthCheck().enabled()).isFalse();
            assertThat(warm.warmUp().enabled()).isFalse();
            assertThat(warm.tls()).isSameAs(config.tls());
            assertThat(warm.threads()).isEqualTo(config.threads());
        }
    }

    /**
     * The configured port is held by this test and the configured backend counts every
     * connection: a warm-up that bound the one or contacted the other would show it.
     */
    @Test
    void drivesTlsAndPlainRequestsWithoutTouchingTheConfiguredListenerOrBackends() throws Exception {
        AtomicInteger backendConnections = new AtomicInteger();
        try (ServerSocket heldListenPort = loopbackServer(); ServerSocket backend = loopbackServer()) {
            Thread counter = new Thread(() -> countAccepts(backend, backendConnections), "test-backend");
            counter.setDaemon(true);
            counter.start();
            ProxyConfig config = load("\"listen\": \"127.0.0.1:" + heldListenPort.getLocalPort() + "\", \"threads\": 1,"
                    + " \"backend_servers\": [\"127.0.0.1:" + backend.getLocalPort() + "\"],"
                    + " \"http_listener\": {\"listen\": \"127.0.0.1:0\", \"action\": \"proxy\"},", true)
                    .withWarmUp(new WarmUpConfig(Duration.ofMillis(1500)));
            WarmUp.Result result = WarmUp.run(config);
            // No failure also means no bind on the held port: without --takeover that fails.
            assertThat(result.failures()).as("failures (last: %s)", result.lastFailure()).isZero();
            assertThat(result.requests()).isGreaterThan(100);
            assertThat(result.connections()).isGreaterThan(10);
            Thread.sleep(200); // a connection attempt, had there been one, is accepted by now
            assertThat(backendConnections.get()).as("connections to the configured backend").isZero();
        }
    }

    @Test
    void plainHttpConfigurationsWarmUpToo() throws Exception {
        ProxyConfig config = load("\"listen\": \"127.0.0.1:0\", \"threads\": 1, \"backend_servers\": [\"192.0.2.1:80\"],", false)
                .withWarmUp(new WarmUpConfig(Duration.ofMillis(500)));
        WarmUp.Result result = WarmUp.run(config);
        assertThat(result.failures()).as("failures (last: %s)", result.lastFailure()).isZero();
        assertThat(result.requests()).isGreaterThan(50);
    }

    /** A warm-up that cannot even start its proxy reports it and returns; start-up goes on. */
    @Test
    void endsNearItsDeadlineAndReportsAFailureInsteadOfThrowing() throws Exception {
        Path cert = Files.copy(Path.of(fixture("ec.crt")), home.resolve("gone.pem"));
        Path key = Files.copy(Path.of(fixture("ec-sec1.key")), home.resolve("gone.key"));
        ProxyConfig config = load("\"listen\": \"127.0.0.1:0\", \"threads\": 1, \"backend_servers\": [\"192.0.2.1:80\"],"
                + " \"ssl\": {\"cert_file\": \"" + cert + "\", \"key_file\": \"" + key + "\"},", false);
        Files.delete(cert); // deleted after the config was checked: the warm-up proxy cannot start
        Files.delete(key);
        long start = System.nanoTime();
        WarmUp.Result result = WarmUp.run(config.withWarmUp(new WarmUpConfig(Duration.ofMillis(300))));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(8));
        assertThat(result.failures()).isPositive();
        assertThat(result.lastFailure()).contains("gone.pem");
    }

    private ProxyConfig load(String fields, boolean tls) throws Exception {
        String ssl = tls ? "\"ssl\": {\"cert_file\": \"" + fixture("ec.crt") + "\", \"key_file\": \"" + fixture("ec-sec1.key")
                + "\"}," : "";
        Path file = home.resolve("proxy_config.json");
        Files.writeString(file, "{" + fields + ssl + " \"log\": {\"file\": null}}");
        return new ConfigLoader(home, (cert, key) -> false).load(file);
    }

    private static String fixture(String name) throws URISyntaxException {
        return Path.of(WarmUpTest.class.getResource("/dev/moonbeam/tls/" + name).toURI()).toString();
    }

    private static ServerSocket loopbackServer() throws IOException {
        ServerSocket server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        return server;
    }

    private static void countAccepts(ServerSocket server, AtomicInteger count) {
        while (!server.isClosed()) {
            try (Socket ignored = server.accept()) {
                count.incrementAndGet();
            } catch (IOException e) {
                return;
            }
        }
    }
}
