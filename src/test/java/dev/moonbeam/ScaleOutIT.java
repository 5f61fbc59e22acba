package dev.moonbeam;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moonbeam.proxy.HttpMessage;
import dev.moonbeam.proxy.RawClient;
import dev.moonbeam.proxy.TestBackend;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two MoonBeam processes behind HAProxy in TCP mode, as docs/operations.md ("Scaling out")
 * describes: PROXY v2 from HAProxy carries each client's address through, HAProxy checks
 * /healthz on the admin port, and one instance stopped with SIGTERM drains (after its
 * shutdown_delay) while the other takes over, without a failed request. Skipped when haproxy is not installed (.ci/run installs it
 * where it can).
 */
class ScaleOutIT {
    private static final Path JAR = Path.of(System.getProperty("moonbeam.project.dir", "")).toAbsolutePath()
            .resolve("target/moonbeam.jar");

    @TempDir
    Path dir;
    private final List<Process> processes = new ArrayList<>();
    private final List<AutoCloseable> resources = new ArrayList<>();

    @AfterEach
    void cleanUp() throws Exception {
        for (Process process : processes) {
            if (process.isAlive()) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        }
        for (AutoCloseable resource : resources) {
            resource.close();
        }
    }

    @Test
    void clientAddressesSurviveTheBalancerAndDrainingOneInstanceFailsNoRequest() throws Exception {
        Path haproxy = findHaproxy();
        Assumptions.assumeTrue(haproxy != null, "haproxy is not installed (Debian package haproxy): scale-out test skipped");

        Instance a = startInstance("a");
        Instance b = startInstance("b");
        int front = freePort();
        Path haproxyConfig = dir.resolve("haproxy.cfg");
        Files.writeString(haproxyConfig, String.join("\n",
                "global",
                "  maxconn 2000",
                "defaults",
                "  mode tcp",
                "  timeout connect 2s",
                "  timeout client 30s",
                "  timeout server 30s",
                "  retries 3",
                "  option redispatch",
                "frontend fe",
                "  bind 127.0.0.1:" + front,
                "  default_backend moonbeams",
                "backend moonbeams",
                "  balance roundrobin",
                "  option httpchk GET /healthz",
                "  http-check expect status 200",
                "  server a 127.0.0.1:" + a.port + " send-proxy-v2 check port " + a.adminPort + " inter 200ms fall 1 rise 2",
                "  server b 127.0.0.1:" + b.port + " send-proxy-v2 check port " + b.adminPort + " inter 200ms fall 1 rise 2",
                ""));
        Process balancer = new ProcessBuilder(haproxy.toString(), "-db", "-f", haproxyConfig.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("haproxy.log").toFile()).start();
        processes.add(balancer);
        awaitListening(front, "haproxy", dir.resolve("haproxy.log"));

        // Client addresses: a client on 127.0.0.7 is 127.0.0.7 to the backend, not HAProxy's 127.0.0.1.
        Map<String, AtomicInteger> servedBy = new ConcurrentHashMap<>();
        for (int i = 0; i < 10; i++) {
            try (RawClient client = new RawClient(front, "127.0.0.7")) {
                HttpMessage response = client.send("GET /who HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").response();
                assertThat(response.status()).isEqualTo(200);
                String[] parts = response.bodyText().split(" ");
                assertThat(parts[1]).isEqualTo("xff=127.0.0.7");
                servedBy.computeIfAbsent(parts[0], k -> new AtomicInteger()).incrementAndGet();
            }
        }
        assertThat(servedBy.keySet()).as("round robin reaches both instances").containsExactlyInAnyOrder("a", "b");

        // Load through the balancer while instance a is stopped with SIGTERM.
        AtomicInteger failures = new AtomicInteger();
        AtomicInteger servedByBAfterStop = new AtomicInteger();
        List<String> failureReasons = java.util.Collections.synchronizedList(new ArrayList<>());
        long loadEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
        long[] stoppedAt = {Long.MAX_VALUE};
        ExecutorService clients = Executors.newFixedThreadPool(4);
        try {
            List<Future<Integer>> counts = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                counts.add(clients.submit(() -> {
                    int requests = 0;
                    for (int i = 0; i < 100_000 && System.nanoTime() - loadEnd < 0; i++) {
                        requests++;
                        try (RawClient client = new RawClient(front)) {
                            HttpMessage response = client.send("GET /load HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                                    .response();
                            if (response == null || response.status() != 200) {
                                failures.incrementAndGet();
                                failureReasons.add(response == null ? "no response" : "status " + response.status());
                            } else if (response.bodyText().startsWith("b ") && System.nanoTime() - stoppedAt[0] > 0) {
                                servedByBAfterStop.incrementAndGet();
                            }
                        } catch (IOException e) {
                            failures.incrementAndGet();
                            failureReasons.add(e.toString());
                        }
                    }
                    return requests;
                }));
            }
            Thread.sleep(1000);
            stoppedAt[0] = System.nanoTime();
            a.process.destroy(); // SIGTERM: drain, then exit
            int total = 0;
            for (Future<Integer> count : counts) {
                total += count.get(30, TimeUnit.SECONDS);
            }
            assertThat(total).as("requests sent during the test").isGreaterThan(50);
        } finally {
            clients.shutdownNow();
        }
        assertThat(a.process.waitFor(15, TimeUnit.SECONDS)).as("instance a exits after draining").isTrue();
        assertThat(a.process.exitValue()).isZero();
        assertThat(failureReasons).as("failed requests while an instance drained").isEmpty();
        assertThat(failures.get()).isZero();
        assertThat(servedByBAfterStop.get()).as("instance b took over").isPositive();
    }

    private record Instance(Process process, int port, int adminPort) { }

    private Instance startInstance(String name) throws Exception {
        TestBackend backend = new TestBackend(name, (request, in, out, socket) ->
                TestBackend.respond(out, 200, name + " xff=" + request.header("X-Forwarded-For")));
        resources.add(backend);
        int port = freePort();
        int adminPort = freePort();
        Path config = dir.resolve(name + ".json");
        Files.writeString(config, "{\"listen\": \"127.0.0.1:" + port + "\", \"threads\": 1,"
                + " \"backend_servers\": [\"" + backend.address() + "\"], \"log\": {\"file\": null},"
                + " \"proxy_protocol\": {\"from\": [\"127.0.0.1\"]},"
                + " \"admin\": {\"listen\": \"127.0.0.1:" + adminPort + "\"},"
                // The delay outlasts HAProxy's check (inter 200ms fall 1): it stops sending before the
                // listener closes. Without it, a connection HAProxy opens in the instant between the
                // drain's last accept and the close is reset after its bytes went out, which TCP-mode
                // HAProxy cannot retry ("no response", about one run in ten here).
                + " \"timeouts\": {\"shutdown_delay\": \"1s\", \"shutdown_drain\": \"5s\"}}");
        Path log = dir.resolve(name + ".log");
        Process process = new ProcessBuilder(javaBinary(), "-jar", JAR.toString(), "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        processes.add(process);
        awaitListening(port, "moonbeam " + name, log);
        return new Instance(process, port, adminPort);
    }

    private static void awaitListening(int port, String what, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() - deadline < 0) {
            try (Socket ignored = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return;
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        throw new AssertionError(what + " did not start: " + Files.readString(log));
    }

    private static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    private static Path findHaproxy() {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)));
        dirs.add("/usr/sbin");
        dirs.add("/usr/local/sbin");
        for (String d : dirs) {
            Path candidate = Path.of(d, "haproxy");
            if (!d.isEmpty() && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    private static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
