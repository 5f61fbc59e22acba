package dev.moonbeam.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
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
}
