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
import java.net.Socket;
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

    /**
     * Length and period of the reloads under load: about 5 s in the suite. The "a reload
     * every second for a minute": {@code mvn test -Dtest=ReloadTest#reloadingUnderSteadyLoadFailsNoRequest
     * -Dmoonbeam.reload.seconds=60 -Dmoonbeam.reload.periodMillis=1000}.
     */
    private static final long RELOAD_SECONDS = Long.getLong("moonbeam.reload.seconds", 5);
    private static final long RELOAD_PERIOD_MILLIS = Long.getLong("moonbeam.reload.periodMillis", 250);

    /**
     * Reloads that swap the backend set (add, remove, reweigh) and the TLS certificate, one per
     * period, while clients load both listeners: plain HTTP (http_listener, proxying) and TLS, each
     * with a keep-alive client and one that connects anew per request, every fifth request a POST
     * with a body. No request may fail, and both the new backend and both certificates must serve.
     */
    @Test
    void reloadingUnderSteadyLoadFailsNoRequest() throws Exception {
        TestBackend a = track(new TestBackend("a", TestBackend.named("a")));
        TestBackend b = track(new TestBackend("b", TestBackend.named("b")));
        TestBackend c = track(new TestBackend("c", TestBackend.named("c")));
        String first = "[\"" + a.address() + "\", \"" + b.address() + "\"]";
        String second = "[{\"address\": \"" + a.address() + "\", \"weight\": 3}, \"" + c.address() + "\"]";
        // Two certificates to alternate, made at once (keytool takes about a second each).
        List<Thread> keytools = new ArrayList<>();
        for (String name : List.of("one", "two")) {
            Thread keytool = new Thread(() -> {
                try {
                    DevCertificate.ensure(dir.resolve("certs/" + name + ".pem"), dir.resolve("certs/" + name + ".key"));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            keytool.start();
            keytools.add(keytool);
        }
        for (Thread keytool : keytools) {
            keytool.join(60_000);
        }
        // Ports chosen first, so the file names the ports in force from the start (no "needs a restart").
        configFile = dir.resolve("proxy_config.json");
        loader = new ConfigLoader(dir, null);
        port = freePort();
        int plainPort = freePort();
        writeConfig(first, loadExtras("one", plainPort));
        proxy = track(MoonBeam.start(loader.load(configFile)));
        Controller controller = track(new Controller(proxy, loader, configFile, CommandLine.parse(), List.of()));

        AtomicInteger ok = new AtomicInteger();
        ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        java.util.Set<BigInteger> serials = java.util.concurrent.ConcurrentHashMap.newKeySet();
        AtomicLong stopAt = new AtomicLong(System.nanoTime() + TimeUnit.SECONDS.toNanos(RELOAD_SECONDS + 30));
        List<Thread> clients = new ArrayList<>();
        for (int t = 0; t < 6; t++) {
            boolean reconnectEachTime = t % 2 == 0;
            boolean tls = t >= 4;
            int clientPort = tls ? port : plainPort;
            Thread client = new Thread(() -> load(clientPort, tls, reconnectEachTime, ok, errors, serials, stopAt), "load-" + t);
            client.start();
            clients.add(client);
        }
        int reloads = (int) Math.max(2, TimeUnit.SECONDS.toMillis(RELOAD_SECONDS) / RELOAD_PERIOD_MILLIS);
        int applied = 0;
        for (int i = 0; i < reloads; i++) {
            Thread.sleep(RELOAD_PERIOD_MILLIS);
            writeConfig(i % 2 == 0 ? second : first, loadExtras(i % 2 == 0 ? "two" : "one", plainPort));
            applied += controller.reload("test") ? 1 : 0;
        }
        stopAt.set(System.nanoTime());
        for (Thread client : clients) {
            client.join(10_000);
        }
        System.out.println("reload under load: " + applied + " reloads in " + reloads * RELOAD_PERIOD_MILLIS + " ms, "
                + ok.get() + " requests, " + errors.size() + " failed");
        assertThat(applied).isEqualTo(reloads);
        assertThat(errors).isEmpty();
        assertThat(ok.get()).isGreaterThan(100);
        assertThat(c.requests.get()).isPositive(); // the new backend really took traffic
        assertThat(serials).as("both certificates served in turn").hasSize(2);
    }

    private static int freePort() throws IOException {
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    /** The TLS and plain-listener part of the load test's config. */
    private static String loadExtras(String certificate, int plainPort) {
        return "\"ssl\": {\"cert_file\": \"certs/" + certificate + ".pem\", \"key_file\": \"certs/" + certificate
                + ".key\"}, \"http_listener\": {\"listen\": \"127.0.0.1:" + plainPort + "\", \"action\": \"proxy\"},"
                + " \"http2\": {\"enabled\": false}, \"warmup\": {\"enabled\": false}";
    }

    private void load(int clientPort, boolean tls, boolean reconnectEachTime, AtomicInteger ok,
                      ConcurrentLinkedQueue<String> errors, java.util.Set<BigInteger> serials, AtomicLong stopAt) {
        Socket socket = null;
        InputStream in = null;
        byte[] body = new byte[10_000];
        for (int i = 0; i < 1_000_000 && System.nanoTime() - stopAt.get() < 0; i++) {
            try {
                if (socket == null) {
                    socket = tls ? tlsConnect(clientPort) : plainConnect(clientPort);
                    in = new BufferedInputStream(socket.getInputStream());
                    if (tls) {
                        serials.add(serial((SSLSocket) socket));
                    }
                }
                String request = i % 5 == 4
                        ? "POST /" + i + " HTTP/1.1\r\nHost: t\r\nContent-Length: " + body.length + "\r\n\r\n"
                        : "GET /" + i + " HTTP/1.1\r\nHost: t\r\n\r\n";
                socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
                if (i % 5 == 4) {
                    socket.getOutputStream().write(body);
                }
                socket.getOutputStream().flush();
                HttpMessage response = HttpMessage.read(in, true, false);
                if (response == null || response.status() != 200) {
                    errors.add((tls ? "tls " : "plain ") + (response == null ? "closed" : "status " + response.status()));
                } else {
                    ok.incrementAndGet();
                }
                if (reconnectEachTime) {
                    socket.close();
                    socket = null;
                }
            } catch (Exception e) {
                errors.add((tls ? "tls " : "plain ") + e);
                closeQuietly(socket);
                socket = null;
            }
        }
        closeQuietly(socket);
    }

    private static Socket plainConnect(int port) throws IOException {
        Socket socket = new Socket(java.net.InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout(10_000);
        return socket;
    }

    private static void closeQuietly(Socket socket) {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // done with it
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
        return tlsConnect(port);
    }

    private static SSLSocket tlsConnect(int port) throws Exception {
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
