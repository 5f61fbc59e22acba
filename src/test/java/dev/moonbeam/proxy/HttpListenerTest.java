package dev.moonbeam.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moonbeam.tls.DevCertificate;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The optional plain-HTTP listener next to the TLS one: redirect to HTTPS, or proxy. */
class HttpListenerTest {
    @TempDir
    Path dir;
    TestBackend backend;
    ProxyHarness proxy;

    @BeforeEach
    void setUp() throws Exception {
        DevCertificate.ensure(dir.resolve("certs/server.pem"), dir.resolve("certs/server.key"));
        backend = new TestBackend("a", TestBackend.named("a"));
    }

    @AfterEach
    void tearDown() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        backend.close();
    }

    private ProxyHarness start(String action) throws Exception {
        proxy = ProxyHarness.start(dir, 2, "[\"" + backend.address() + "\"]",
                "\"ssl\": {\"cert_file\": \"certs/server.pem\", \"key_file\": \"certs/server.key\"},"
                        + " \"http_listener\": {\"listen\": \"127.0.0.1:0\", \"action\": \"" + action + "\"}");
        return proxy;
    }

    @Test
    void redirectsToTheSameHostAndTargetOverHttps() throws Exception {
        start("redirect");
        int plainPort = proxy.proxy.plainAddress().getPort();
        try (RawClient client = new RawClient(plainPort)) {
            client.send("GET /shop/cart?id=7 HTTP/1.1\r\nHost: shop.example:" + plainPort + "\r\n\r\n");
            HttpMessage response = client.response();
            assertThat(response.status()).isEqualTo(301);
            assertThat(response.header("Location")).isEqualTo("https://shop.example:" + proxy.port() + "/shop/cart?id=7");
            // keep-alive: a second request on the same connection
            client.send("GET / HTTP/1.1\r\nHost: shop.example\r\n\r\n");
            assertThat(client.response().header("Location")).isEqualTo("https://shop.example:" + proxy.port() + "/");
        }
        assertThat(backend.requests.get()).isZero();
    }

    @Test
    void withoutHostThereIsNothingToRedirectTo() throws Exception {
        start("redirect");
        try (RawClient client = new RawClient(proxy.proxy.plainAddress().getPort())) {
            client.send("GET / HTTP/1.0\r\n\r\n");
            assertThat(client.response().status()).isEqualTo(400);
        }
    }

    @Test
    void proxyModeForwardsPlainRequestsMarkedHttp() throws Exception {
        start("proxy");
        try (RawClient client = new RawClient(proxy.proxy.plainAddress().getPort())) {
            assertThat(client.get("/").bodyText()).isEqualTo("a");
        }
        assertThat(backend.received.peek().header("X-Forwarded-Proto")).isEqualTo("http");
    }
}
