package dev.moonbeam.observe;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.moonbeam.MoonBeam;
import dev.moonbeam.config.ConfigLoader;
import dev.moonbeam.config.ProxyConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real MoonBeam with the access log and metrics as its request listeners, over real sockets. */
class ObserveEndToEndTest {
    @TempDir
    Path dir;

    private HttpServer backend;
    private String backendAddress;

    @BeforeEach
    void startBackend() throws Exception {
        backend = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        backend.createContext("/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            String path = exchange.getRequestURI().getPath();
            byte[] body = ("hello " + path).getBytes(StandardCharsets.US_ASCII);
            exchange.sendResponseHeaders(path.startsWith("/missing") ? 404 : 200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        backend.start();
        backendAddress = "127.0.0.1:" + backend.getAddress().getPort();
    }

    @AfterEach
    void stopBackend() {
        backend.stop(0);
    }

    @Test
    void accessLogAndCountersSeeEveryRequest() throws Exception {
        Path configFile = dir.resolve("proxy_config.json");
        Files.writeString(configFile, "{\"listen\": \"127.0.0.1:0\", \"threads\": 2, \"backend_servers\": [\"" + backendAddress
                + "\"], \"log\": {\"file\": null}}");
        ProxyConfig config = new ConfigLoader(dir, null).load(configFile);
        Path logFile = dir.resolve("access.log");
        AtomicReference<MoonBeam> proxyRef = new AtomicReference<>();
        MetricsRegistry registry = new MetricsRegistry(() -> proxyRef.get().routing().current());
        String metricsText;
        try (AccessLog accessLog = AccessLog.open(logFile, 256)) {
            registry.counter("moonbeam_access_log_drops_total", "Access-log lines dropped.", java.util.Map.of(), accessLog::drops);
            try (MoonBeam proxy = MoonBeam.start(config, i -> RequestListener.both(accessLog.recorder(), registry.newLoop()))) {
                proxyRef.set(proxy);
                int port = proxy.address().getPort();
                try (Http client = new Http(port)) {
                    Http.Response ok = client.send("GET /a?x=1 HTTP/1.1\r\nHost: t\r\nReferer: http://ref/\r\nUser-Agent: e2e/1\r\n\r\n")
                            .response(false);
                    assertThat(ok.status()).isEqualTo(200);
                    assertThat(ok.body()).isEqualTo("hello /a");
                    Http.Response posted = client.send("POST /form HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello").response(false);
                    assertThat(posted.status()).isEqualTo(200);
                    assertThat(client.get("/missing").status()).isEqualTo(404);
                }
                try (Http bad = new Http(port)) {
                    assertThat(bad.send("GET / HTTP/1.1\r\n\r\n").response(false).status()).isEqualTo(400); // no Host
                }
                // Metrics are counted on the loops after the response went out: wait until all four are in.
                AccessLogTest.awaitTrue(() -> PrometheusParser.parse(registry.prometheus())
                        .value("moonbeam_request_terminations_total", "reason", "completed") == 3
                        && PrometheusParser.parse(registry.prometheus()).value("moonbeam_requests_total", "code", "4xx") == 2);
                metricsText = registry.prometheus();
            }
        }
        PrometheusParser metrics = PrometheusParser.parse(metricsText);
        assertThat(metrics.value("moonbeam_requests_total", "code", "2xx")).isEqualTo(2);
        assertThat(metrics.value("moonbeam_backend_requests_total", "backend", backendAddress, "code", "2xx")).isEqualTo(2);
        assertThat(metrics.value("moonbeam_backend_requests_total", "backend", backendAddress, "code", "4xx")).isEqualTo(1);
        assertThat(metrics.value("moonbeam_backend_response_seconds_count", "backend", backendAddress)).isEqualTo(3);
        assertThat(metrics.value("moonbeam_backend_connect_seconds_count", "backend", backendAddress)).isBetween(1.0, 3.0);
        assertThat(metrics.value("moonbeam_backend_inflight", "backend", backendAddress)).isEqualTo(0);
        assertThat(metrics.value("moonbeam_access_log_drops_total")).isEqualTo(0);

        List<String> lines = Files.readAllLines(logFile);
        assertThat(lines).hasSize(4);
        String b = " backend=" + backendAddress + " backend_time=";
        assertThat(lines).anySatisfy(line -> assertThat(line)
                .matches("127\\.0\\.0\\.1 - - \\[\\d\\d/\\w{3}/\\d{4}:\\d\\d:\\d\\d:\\d\\d \\+0000] "
                        + "\"GET /a\\?x=1 HTTP/1\\.1\" 200 \\d+ \"http://ref/\" \"e2e/1\"" + b.replace(".", "\\.")
                        + "\\d+\\.\\d{3} total=\\d+\\.\\d{3} termination=completed"));
        assertThat(lines).anySatisfy(line -> assertThat(line).contains("\"POST /form HTTP/1.1\" 200 ").contains(b));
        assertThat(lines).anySatisfy(line -> assertThat(line).contains("\"GET /missing HTTP/1.1\" 404 ").contains(b));
        assertThat(lines).anySatisfy(line -> assertThat(line).contains("\"-\" 400 ").contains("backend=- backend_time=- total=").endsWith(" termination=bad_request"));
    }
}
