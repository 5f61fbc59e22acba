package dev.moonbeam;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moonbeam.config.ConfigLoader;
import dev.moonbeam.config.ProxyConfig;
import dev.moonbeam.proxy.HttpMessage;
import dev.moonbeam.proxy.RawClient;
import dev.moonbeam.proxy.TestBackend;
import dev.moonbeam.tls.DevCertificate;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hot reload through the {@link Controller}, with a real proxy and real sockets. */
class ReloadTest {
    @TempDir
    Path dir;
    final List<AutoCloseable> resources = new ArrayList<>();
    Path configFile;
    ConfigLoader loader;

    @AfterEach
    void closeAll() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private <T extends AutoCloseable> T track(T resource) {
        resources.add(resource);
        return resource;
    }

    private void writeConfig(String backends, String extra) throws IOException {
        Files.writeString(configFile, "{\"listen\": \"127.0.0.1:" + port + "\", \"threads\": 2, \"backend_servers\": " + backends
                + ", \"log\": {\"file\": null}" + (extra.isEmpty() ? "" : ", " + extra) + "}");
    }

    int port;
    MoonBeam proxy;

    private Controller start(String backends, String extra) throws Exception {
        configFile = dir.resolve("proxy_config.json");
        loader = new ConfigLoader(dir, null);
        port = 0;
        writeConfig(backends, extra);
        ProxyConfig config = loader.load(configFile);
        proxy = MoonBeam.start(config);
        resources.add(proxy);
        port = proxy.address().getPort();
        writeConfig(backends, extra); // the file now names the real port, as an operator's would
        proxy.reload(loader.load(configFile));
        Controller controller = new Controller(proxy, loader, configFile, CommandLine.parse(), List.of());
        return track(controller);
    }

    @Test
    void reloadingUnderSteadyLoadFailsNoRequest() throws Exception {
        TestBackend a = track(new TestBackend("a", TestBackend.named("a")));
        TestBackend b = track(new TestBackend("b", TestBackend.named("b")));
        TestBackend c = track(new TestBackend("c", TestBackend.named("c")));
        String first = "[\"" + a.address() + "\", \"" + b.address() + "\"]";
        String second = "[{\"address\": \"" + a.address() + "\", \"weight\": 3}, \"" + c.address() + "\"]";
        Controller controller = start(first, "");

        AtomicInteger ok = new AtomicInteger();
        ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        AtomicLong stopAt = new AtomicLong(System.nanoTime() + TimeUnit.SECONDS.toNanos(30));
        List<Thread> clients = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            boolean reconnectEachTime = t % 2 == 0;
            Thread client = new Thread(() -> load(reconnectEachTime, ok, errors, stopAt), "load-" + t);
            client.start();
            clients.add(client);
        }
        int applied = 0;
        for (int i = 0; i < 20; i++) {
            Thread.sleep(100);
            writeConfig(i % 2 == 0 ? second : first, "");
            applied += controller.reload("test") ? 1 : 0;
        }
        stopAt.set(System.nanoTime());
        for (Thread client : clients) {
            client.join(10_000);
        }
        assertThat(applied).isEqualTo(20);
        assertThat(errors).isEmpty();
        assertThat(ok.get()).isGreaterThan(100);
        assertThat(c.requests.get()).isPositive(); // the new backend really took traffic
    }

    private void load(boolean reconnectEachTime, AtomicInteger ok, ConcurrentLinkedQueue<String> errors, AtomicLong stopAt) {
        RawClient client = null;
        for (int i = 0; i < 1_000_000 && System.nanoTime() - stopAt.get() < 0; i++) {
            try {
                if (client == null) {
                    client = new RawClient(port);
                }
                HttpMessage response = client.get("/" + i);
                if (response == null || response.status() != 200) {
                    errors.add(response == null ? "closed" : "status " + response.status());
                } else {
                    ok.incrementAndGet();
                }
                if (reconnectEachTime) {
                    client.close();
                    client = null;
                }
            } catch (IOException e) {
                errors.add(e.toString());
                client = null;
            }
        }
        if (client != null) {
            try {
                client.close();
            } catch (IOException ignored) {
                // done
            }
        }
    }

    @Test
    void anInvalidReloadKeepsTheRunningConfig() throws Exception {
        TestBackend a = track(new TestBackend("a", TestBackend.named("a")));
        Controller controller = start("[\"" + a.address() + "\"]", "");
        Files.writeString(configFile, "{ \"backend_servers\": [\"127.0.0.1:8081\"], \"threds\": 2 }");
        assertThat(controller.reload("test")).isFalse();
        Files.writeString(configFile, "{ not json");
        assertThat(controller.reload("test")).isFalse();
        try (RawClient client = new RawClient(port)) {
            assertThat(client.get("/").bodyText()).isEqualTo("a");
        }
    }

    @Test
    void aChangeOfTheListenAddressIsReportedNotApplied() throws Exception {
        TestBackend a = track(new TestBackend("a", TestBackend.named("a")));
        start("[\"" + a.address() + "\"]", "");
        Files.writeString(configFile, "{\"listen\": \"127.0.0.1:1\", \"threads\": 2, \"backend_servers\": [\"" + a.address()
                + "\"], \"log\": {\"file\": null}}");
        List<String> notApplied = proxy.reload(loader.load(configFile));
        assertThat(notApplied).singleElement().asString().contains("listen", "needs a restart");
        // Still not in force, so a second reload still says so.
        assertThat(proxy.reload(loader.load(configFile))).singleElement().asString().contains("listen");
        assertThat(proxy.config().listen().hostPort().port()).isNotEqualTo(1);
        try (RawClient client = new RawClient(port)) {
            assertThat(client.get("/").bodyText()).isEqualTo("a");
        }
    }

    @Test
    void aNewCertificateIsServedToNewConnectionsAfterReload() throws Exception {
        TestBackend a = track(new TestBackend("a", TestBackend.named("a")));
        Path cert = dir.resolve("certs/server.pem");
        Path key = dir.resolve("certs/server.key");
        DevCertificate.ensure(cert, key);
        Controller controller = start("[\"" + a.address() + "\"]",
                "\"ssl\": {\"cert_file\": \"certs/server.pem\", \"key_file\": \"certs/server.key\"}");
        try (SSLSocket before = tlsConnect()) {
            BigInteger oldSerial = serial(before);
            Files.delete(cert);
            Files.delete(key);
            DevCertificate.ensure(cert, key);
            assertThat(controller.reload("test")).isTrue();
            try (SSLSocket after = tlsConnect()) {
                assertThat(serial(after)).isNotEqualTo(oldSerial);
                assertThat(get(after)).contains("200");
            }
            // The connection made before the reload goes on with its old certificate.
            assertThat(get(before)).contains("200");
        }
    }

    private SSLSocket tlsConnect() throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        socket.startHandshake();
        return socket;
    }

    private static BigInteger serial(SSLSocket socket) throws Exception {
        return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSerialNumber();
    }

    private static String get(SSLSocket socket) throws IOException {
        socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: t\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        InputStream in = new BufferedInputStream(socket.getInputStream());
        HttpMessage response = HttpMessage.read(in, true, false);
        return response.startLine();
    }
}
