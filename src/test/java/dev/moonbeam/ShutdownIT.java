package dev.moonbeam;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moonbeam.proxy.HttpMessage;
import dev.moonbeam.proxy.RawClient;
import dev.moonbeam.proxy.TestBackend;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SIGTERM against the real packaged proxy process: drain, then exit 0; a second signal exits at once. */
class ShutdownIT {
    private static final Path JAR = Path.of(System.getProperty("moonbeam.project.dir", "")).toAbsolutePath()
            .resolve("target/moonbeam.jar");

    @TempDir
    Path dir;
    Process process;
    TestBackend backend;

    @AfterEach
    void cleanUp() throws IOException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
        }
        if (backend != null) {
            backend.close();
        }
    }

    private int startProxy(long slowMillis) throws Exception {
        return startProxy(slowMillis, ", \"timeouts\": {\"shutdown_drain\": \"10s\"}");
    }

    /** {@code extraJson}: more top-level keys, after a comma; the timeouts section is this class's. */
    private int startProxy(long slowMillis, String extraJson) throws Exception {
        backend = new TestBackend("slow", (request, in, out, socket) -> {
            if (request.target().equals("/download")) {
                streamDownload(out);
                return;
            }
            if (request.target().equals("/upload")) {
                TestBackend.respond(out, 200, "got " + request.body().length + " " + java.util.Arrays.hashCode(request.body()));
                return;
            }
            if (request.target().equals("/slow")) {
                sleep(slowMillis);
            }
            TestBackend.respond(out, 200, "done " + request.target());
        });
        int port = freePort();
        Path config = dir.resolve("proxy_config.json");
        Files.writeString(config, "{\"listen\": \"127.0.0.1:" + port + "\", \"threads\": 2, \"backend_servers\": [\""
                + backend.address() + "\"], \"log\": {\"file\": null}" + extraJson + "}");
        process = new ProcessBuilder(javaBinary(), "-jar", JAR.toString(), "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("proxy.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() - deadline < 0) {
            try (Socket ignored = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return port;
            } catch (IOException notYet) {
                sleep(100);
            }
        }
        throw new AssertionError("proxy did not start: " + Files.readString(dir.resolve("proxy.log")));
    }

    private static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    private static void awaitListening(int port) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() - deadline < 0) {
            try (Socket ignored = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return;
            } catch (IOException notYet) {
                sleep(50);
            }
        }
        throw new AssertionError("nothing listens on " + port);
    }

    private static int healthzStatus(int adminPort) throws IOException {
        try (RawClient admin = new RawClient(adminPort)) {
            return admin.get("/healthz").status();
        }
    }

    /**
     * With timeouts.shutdown_delay, SIGTERM first only turns /healthz to 503: new connections are
     * still accepted and served, keep-alive connections stay open; after the delay the drain
     * closes the listener and the process exits 0.
     */
    @Test
    void sigtermWithAShutdownDelayServesOnWhileHealthzSays503ThenDrains() throws Exception {
        int adminPort = freePort();
        int port = startProxy(0, ", \"timeouts\": {\"shutdown_delay\": \"5s\", \"shutdown_drain\": \"5s\"}"
                + ", \"admin\": {\"listen\": \"127.0.0.1:" + adminPort + "\"}");
        awaitListening(adminPort); // bound a little after the main port
        try (RawClient kept = new RawClient(port)) {
            assertThat(healthzStatus(adminPort)).isEqualTo(200);
            assertThat(kept.get("/before").status()).isEqualTo(200);
            long signalled = System.nanoTime();
            process.destroy(); // SIGTERM
            long deadline = signalled + TimeUnit.SECONDS.toNanos(1);
            int health = 200;
            while (health == 200 && System.nanoTime() - deadline < 0) {
                sleep(10);
                health = healthzStatus(adminPort);
            }
            assertThat(health).as("/healthz once the signal is in").isEqualTo(503);
            HttpMessage onKept = kept.get("/during-kept");
            HttpMessage onNew;
            try (RawClient fresh = new RawClient(port)) {
                onNew = fresh.get("/during-new");
            }
            long servedWithin = System.nanoTime() - signalled;
            assertThat(servedWithin).as("both answered inside the delay, or the test proves nothing")
                    .isLessThan(TimeUnit.MILLISECONDS.toNanos(5000));
            assertThat(onKept.status()).isEqualTo(200);
            assertThat(onKept.header("Connection")).as("keep-alive as usual during the delay").isNull();
            assertThat(onNew.status()).isEqualTo(200);
            assertThat(onNew.bodyText()).isEqualTo("done /during-new");
            assertThat(process.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(System.nanoTime() - signalled).as("the drain waited for the delay")
                    .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(5000));
            assertThat(process.exitValue()).isZero();
            assertThat(kept.isClosedByPeer()).as("the kept connection, closed by the drain").isTrue();
        }
        assertThat(Files.readString(dir.resolve("proxy.log")))
                .contains("SIGTERM: stopping; /healthz answers 503 and clients are still served for 5000 ms", "stopped");
    }

    private static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    @Test
    void sigtermLetsTheInFlightRequestFinishClosesIdleConnectionsAndExitsZero() throws Exception {
        int port = startProxy(1500);
        try (RawClient idle = new RawClient(port); RawClient busy = new RawClient(port)) {
            assertThat(idle.get("/warm").status()).isEqualTo(200);
            busy.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (backend.inProgress.get() == 0 && System.nanoTime() - deadline < 0) {
                sleep(20);
            }
            process.destroy(); // SIGTERM
            assertThat(idle.isClosedByPeer()).as("idle keep-alive connection closed").isTrue();
            HttpMessage response = busy.response();
            assertThat(response).as("the in-flight request's response; proxy log:%n%s",
                    Files.readString(dir.resolve("proxy.log"))).isNotNull();
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.bodyText()).isEqualTo("done /slow");
            assertThat(response.header("Connection")).isEqualToIgnoringCase("close");
        }
        assertThat(process.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).isZero();
        List<String> log = Files.readAllLines(dir.resolve("proxy.log"));
        assertThat(String.join("\n", log)).contains("SIGTERM: stopping", "stopped");
    }

    @Test
    void aSecondSigtermExitsAtOnce() throws Exception {
        int port = startProxy(30_000);
        try (RawClient busy = new RawClient(port)) {
            busy.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (backend.inProgress.get() == 0 && System.nanoTime() - deadline < 0) {
                sleep(20);
            }
            process.destroy();
            sleep(300);
            assertThat(process.isAlive()).as("still draining after the first signal").isTrue();
            process.destroy();
            assertThat(process.waitFor(5, TimeUnit.SECONDS)).isTrue();
            assertThat(process.exitValue()).isNotZero();
        }
    }

    /** Transfers of 4 MiB paced at 64 KiB per 25 ms: about 1.6 s each way, so SIGTERM finds them running. */
    private static final int TRANSFER_BYTES = 4 * 1024 * 1024;
    private static final int CHUNK = 64 * 1024;
    private static final long CHUNK_PAUSE_MILLIS = 25;

    private static byte[] chunk(int index) {
        byte[] bytes = new byte[CHUNK];
        java.util.Arrays.fill(bytes, (byte) ('a' + index % 26));
        return bytes;
    }

    private static void streamDownload(java.io.OutputStream out) throws IOException {
        out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + TRANSFER_BYTES + "\r\n\r\n")
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        for (int i = 0; i < TRANSFER_BYTES / CHUNK; i++) {
            out.write(chunk(i));
            out.flush();
            sleep(CHUNK_PAUSE_MILLIS);
        }
    }

    /**
     * SIGTERM while a streaming upload and a streaming download are in the middle of their bodies:
     * both finish whole within the drain time (a response whose head comes after the signal says
     * Connection: close; the connection whose head went out before is closed after it), new connections are refused
     * (the listener is closed) or answered 503 with Connection: close, and the process exits 0.
     */
    @Test
    void sigtermLetsAStreamingUploadAndDownloadFinishAndRefusesNewConnections() throws Exception {
        int port = startProxy(0);
        java.util.concurrent.atomic.AtomicLong downloaded = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicLong uploaded = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.ExecutorService transfers = java.util.concurrent.Executors.newFixedThreadPool(2);
        try (RawClient down = new RawClient(port); RawClient up = new RawClient(port)) {
            java.util.concurrent.Future<String> download = transfers.submit(() -> {
                down.send("GET /download HTTP/1.1\r\nHost: t\r\n\r\n");
                HttpMessage head = HttpMessage.read(down.in, true, true);
                byte[] buffer = new byte[16 * 1024];
                int checked = 0;
                while (checked < TRANSFER_BYTES) {
                    int n = down.in.read(buffer, 0, Math.min(buffer.length, TRANSFER_BYTES - checked));
                    if (n < 0) {
                        return "cut at " + checked;
                    }
                    for (int i = 0; i < n; i++) {
                        if (buffer[i] != (byte) ('a' + (checked + i) / CHUNK % 26)) {
                            return "corrupt at " + (checked + i);
                        }
                    }
                    checked += n;
                    downloaded.set(checked);
                }
                // Its head went out before the signal (keep-alive then); the idle connection is closed after it.
                return head.status() + " " + checked + (down.isClosedByPeer() ? " then closed" : " left open");
            });
            java.util.concurrent.Future<String> upload = transfers.submit(() -> {
                up.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: " + TRANSFER_BYTES + "\r\n\r\n");
                byte[] all = new byte[TRANSFER_BYTES];
                for (int i = 0; i < TRANSFER_BYTES / CHUNK; i++) {
                    byte[] piece = chunk(i);
                    System.arraycopy(piece, 0, all, i * CHUNK, CHUNK);
                    up.send(piece);
                    uploaded.addAndGet(CHUNK);
                    sleep(CHUNK_PAUSE_MILLIS);
                }
                HttpMessage response = up.response();
                String expected = "got " + TRANSFER_BYTES + " " + java.util.Arrays.hashCode(all);
                return response.status() + " " + (response.bodyText().equals(expected) ? "intact" : response.bodyText())
                        + " " + response.header("Connection");
            });
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while ((downloaded.get() < TRANSFER_BYTES / 4 || uploaded.get() < TRANSFER_BYTES / 4)
                    && System.nanoTime() - deadline < 0) {
                sleep(10);
            }
            assertThat(downloaded.get()).as("download under way").isBetween((long) TRANSFER_BYTES / 4, TRANSFER_BYTES - 1L);
            assertThat(uploaded.get()).as("upload under way").isBetween((long) TRANSFER_BYTES / 4, TRANSFER_BYTES - 1L);
            long signalled = System.nanoTime();
            process.destroy(); // SIGTERM

            // New clients, while the two transfers drain: refused, or told 503 and closed.
            sleep(300); // the loops take what the kernel queued, then close their listeners
            java.util.List<String> newcomers = new java.util.ArrayList<>();
            while (!download.isDone() || !upload.isDone()) {
                newcomers.add(newcomer(port));
                sleep(100);
                if (newcomers.size() > 200) {
                    break;
                }
            }
            assertThat(download.get(10, TimeUnit.SECONDS)).isEqualTo("200 " + TRANSFER_BYTES + " then closed");
            assertThat(upload.get(10, TimeUnit.SECONDS)).isEqualTo("200 intact close");
            long drainedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - signalled);
            assertThat(drainedMillis).as("both finished within the 10 s drain").isLessThan(10_000);
            assertThat(newcomers).as("new connections during the drain").isNotEmpty()
                    .allMatch(outcome -> outcome.equals("refused") || outcome.equals("503 close"));
            System.out.println("transfers done " + drainedMillis + " ms after SIGTERM; new connections: " + newcomers);
        } finally {
            transfers.shutdownNow();
        }
        assertThat(process.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).isZero();
        String log = Files.readString(dir.resolve("proxy.log"));
        assertThat(log).contains("SIGTERM: stopping", "stopped").doesNotContain("still busy after");
    }

    /** A new connection and request: "refused", "503 close", or what else happened. */
    private static String newcomer(int port) {
        try (RawClient client = new RawClient(port)) {
            HttpMessage response = client.get("/late");
            return response == null ? "closed without a response"
                    : response.status() + " " + response.header("Connection");
        } catch (java.net.ConnectException e) {
            return "refused";
        } catch (IOException e) {
            return e.toString();
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
