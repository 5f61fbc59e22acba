package dev.moonbeam.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** access_log and admin from the config: lines written, metrics counted, pages served by the proxy itself. */
class ObserveWiringTest {
    @TempDir
    Path dir;

    @Test
    void accessLogAndAdminEndpointReflectTheTraffic() throws Exception {
        try (TestBackend backend = new TestBackend("a", (request, in, out, socket) ->
                TestBackend.respond(out, request.target().equals("/missing") ? 404 : 200, "x"));
             ProxyHarness proxy = ProxyHarness.start(dir, 2, "[\"" + backend.address() + "\"]",
                     "\"access_log\": {\"file\": \"logs/access.log\"}, \"admin\": {\"listen\": \"127.0.0.1:0\"}")) {
            try (RawClient client = proxy.client()) {
                client.send("GET /one HTTP/1.1\r\nHost: t\r\nUser-Agent: wiring-test\r\nReferer: http://r/\r\n\r\n");
                assertThat(client.response().status()).isEqualTo(200);
                assertThat(client.get("/two").status()).isEqualTo(200);
                assertThat(client.get("/missing").status()).isEqualTo(404);
            }
            int adminPort = proxy.proxy.adminAddress().getPort();
            String metrics;
            try (RawClient admin = new RawClient(adminPort)) {
                HttpMessage response = admin.get("/metrics");
                assertThat(response.status()).isEqualTo(200);
                assertThat(response.header("Content-Type")).startsWith("text/plain");
                metrics = response.bodyText();
                assertThat(admin.get("/healthz").bodyText()).contains("ok");
                assertThat(admin.get("/status").bodyText()).contains(backend.address(), "connections (limit ");
            }
            assertThat(metrics).contains("moonbeam_requests_total{code=\"2xx\"} 2", "moonbeam_requests_total{code=\"4xx\"} 1",
                    "moonbeam_config_reloads_total 0", "moonbeam_open_connections{loop=\"loop-0\"}");

            Path log = dir.resolve("logs/access.log");
            List<String> lines = List.of();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (System.nanoTime() - deadline < 0 && lines.size() < 3) {
                Thread.sleep(20);
                lines = Files.exists(log) ? Files.readAllLines(log) : List.of();
            }
            assertThat(lines).hasSize(3);
            assertThat(lines.get(0)).startsWith("127.0.0.1 - - [").contains("\"GET /one HTTP/1.1\" 200 ",
                    "\"http://r/\" \"wiring-test\" backend=" + backend.address());
            assertThat(lines.get(2)).contains("\"GET /missing HTTP/1.1\" 404 ");
        }
    }

    /**
     * The watchdog as the proxy wires it (LoopWatchdogTest covers the watchdog alone):
     * timeouts.loop_stall_warning from the config, a warning naming the loop with the stack it is
     * stuck in, moonbeam_loop_stalls_total per loop, and the loop serving again afterwards.
     */
    @Test
    void aStuckLoopIsLoggedWithItsStackAndCountedInTheMetrics() throws Exception {
        Logger logger = Logger.getLogger("dev.moonbeam.loop.LoopWatchdog");
        List<String> warnings = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                    warnings.add(record.getMessage());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.addHandler(capture);
        try (TestBackend backend = new TestBackend("a", TestBackend.named("a"));
             ProxyHarness proxy = ProxyHarness.start(dir, 2, "[\"" + backend.address() + "\"]",
                     "\"admin\": {\"listen\": \"127.0.0.1:0\"}, \"timeouts\": {\"loop_stall_warning\": \"200ms\"}")) {
            java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
            proxy.proxy.workers().get(0).loop().execute(() -> {
                stuckInAHandler(800);
                done.countDown();
            });
            assertThat(done.await(5, TimeUnit.SECONDS)).isTrue();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (warnings.size() < 2 && System.nanoTime() - deadline < 0) {
                Thread.sleep(20);
            }
            assertThat(warnings).hasSizeGreaterThanOrEqualTo(2);
            assertThat(warnings.get(0)).contains("loop-0 has been busy in one round for", "loop_stall_warning 200 ms",
                    "ObserveWiringTest.stuckInAHandler");
            assertThat(warnings.get(1)).contains("loop-0 is turning again");
            for (int i = 0; i < 4; i++) { // new connections land on either loop: both serve
                try (RawClient client = proxy.client()) {
                    assertThat(client.get("/after").status()).isEqualTo(200);
                }
            }
            try (RawClient admin = new RawClient(proxy.proxy.adminAddress().getPort())) {
                assertThat(admin.get("/metrics").bodyText()).contains("moonbeam_loop_stalls_total{loop=\"loop-0\"} 1",
                        "moonbeam_loop_stalls_total{loop=\"loop-1\"} 0");
            }
        } finally {
            logger.removeHandler(capture);
        }
    }

    private static void stuckInAHandler(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
