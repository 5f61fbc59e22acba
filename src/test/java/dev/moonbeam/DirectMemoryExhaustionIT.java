package dev.moonbeam;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moonbeam.proxy.HttpMessage;
import dev.moonbeam.proxy.RawClient;
import dev.moonbeam.proxy.TestBackend;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged proxy with a tiny direct-memory budget (-XX:MaxDirectMemorySize=2m, about 115 of
 * its 17.5 KiB buffers) and more large downloads held open by clients that do not read than those
 * buffers can carry. A request that finds no buffer must be refused (503, or its connection
 * closed), an error must say why, the loop must go on serving the requests that hold buffers and,
 * once the hogs leave, every later request; the watchdog must not see the loop stuck (each failed
 * ByteBuffer.allocateDirect used to sleep up to half a second in the JDK, on the loop thread).
 */
class DirectMemoryExhaustionIT {
    private static final Path JAR = Path.of(System.getProperty("moonbeam.project.dir", "")).toAbsolutePath()
            .resolve("target/moonbeam.jar");
    /** Larger than what the kernel's socket buffers take, so each download keeps two proxy buffers full. */
    private static final byte[] BIG = new byte[4 * 1024 * 1024];
    private static final int HOGS = 120;

    @TempDir
    Path dir;
    Process process;
    TestBackend backend;
    final List<Socket> hogs = new ArrayList<>();

    @AfterEach
    void cleanUp() throws IOException {
        for (Socket socket : hogs) {
            socket.close();
        }
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
        }
        if (backend != null) {
            backend.close();
        }
    }

    @Test
    void aRequestThatFindsNoBufferIsRefusedAndTheLoopServesOn() throws Exception {
        backend = new TestBackend("a", (request, in, out, socket) -> {
            if (request.target().equals("/big")) {
                TestBackend.respond(out, 200, BIG);
            } else {
                TestBackend.respond(out, 200, "small");
            }
        });
        int port = freePort();
        int adminPort = freePort();
        Path config = dir.resolve("proxy_config.json");
        Files.writeString(config, "{\"listen\": \"127.0.0.1:" + port + "\", \"threads\": 1, \"backend_servers\": [\""
                + backend.address() + "\"], \"admin\": {\"listen\": \"127.0.0.1:" + adminPort + "\"},"
                + " \"warmup\": {\"enabled\": false}, \"log\": {\"file\": null}}");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // The launcher's flags (C1 only, serial GC), with a budget of about 115 buffers.
        process = new ProcessBuilder(java, "-XX:MaxDirectMemorySize=2m", "-Xmx64m", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-jar", JAR.toString(), "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("proxy.log").toFile()).start();
        waitForPort(port);
        // Warm the paths the test takes (the warm-up phase is off: it would spend the small budget
        // itself), so that no round of the loop is slow for cold code rather than for memory.
        try (RawClient client = new RawClient(port)) {
            for (int i = 0; i < 50; i++) {
                assertThat(client.get("/small").status()).isEqualTo(200);
            }
            assertThat(client.get("/big").body()).hasSize(BIG.length);
        }
        try (RawClient client = new RawClient(port)) {
            assertThat(client.send("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").response().status()).isEqualTo(400);
        }
        // No /metrics before the trouble: the first admin response must not need the JDK's
        // temporary direct buffer (none can be had later), see the end.

        // Hogs: each asks for 4 MiB and reads nothing, so its response fills the proxy's buffer to
        // it and the backend connection's buffer behind that.
        for (int i = 0; i < HOGS; i++) {
            Socket socket = new Socket();
            socket.setReceiveBufferSize(4096);
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2000);
            socket.setSoTimeout(20_000);
            socket.getOutputStream().write("GET /big HTTP/1.1\r\nHost: t\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            hogs.add(socket);
            Thread.sleep(5); // a crowd arriving, not one round of 120 connections
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!log().contains("direct buffer memory") && System.nanoTime() - deadline < 0) {
            Thread.sleep(100);
        }
        assertThat(log()).as("an error names the exhausted direct memory").contains("direct buffer memory");

        // New requests now: refused one way or another, never left hanging.
        List<String> during = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            during.add(get(port));
        }
        assertThat(during).as("outcomes while every buffer is taken").doesNotContain("timeout")
                .allMatch(outcome -> outcome.equals("503") || outcome.equals("closed") || outcome.equals("reset")
                        || outcome.equals("200"))
                .anyMatch(outcome -> !outcome.equals("200"));

        // A download that holds its buffers is served to its end meanwhile.
        Socket first = hogs.remove(0);
        try (first) {
            HttpMessage response = HttpMessage.read(first.getInputStream(), true, false);
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.body()).hasSize(BIG.length);
        }

        for (Socket socket : hogs) {
            socket.close();
        }
        hogs.clear();
        // Later requests are all served again.
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!get(port).equals("200") && System.nanoTime() - deadline < 0) {
            Thread.sleep(100);
        }
        List<String> after = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            after.add(get(port));
        }
        assertThat(after).as("outcomes once the hogs left").containsOnly("200");

        // The admin page still answers though the pools now hold the whole budget.
        String metrics = metrics(adminPort);
        assertThat(counter(metrics, "moonbeam_buffer_allocation_failures_total")).isPositive();
        long refused503 = during.stream().filter("503"::equals).count();
        assertThat(counter(metrics, "moonbeam_request_terminations_total{reason=\"out_of_buffer_memory\"}"))
                .isGreaterThanOrEqualTo(refused503);
        System.out.println("while exhausted: " + during + "; buffer allocation failures "
                + counter(metrics, "moonbeam_buffer_allocation_failures_total") + ", out_of_buffer_memory terminations "
                + counter(metrics, "moonbeam_request_terminations_total{reason=\"out_of_buffer_memory\"}"));
        String log = log();
        assertThat(log).as("the watchdog saw no stuck loop; nothing escaped a handler")
                .doesNotContain("has been busy in one round", "unexpected failure in event loop round",
                        "loop task failed", "timeout callback failed");

        process.destroy(); // SIGTERM: still a clean stop
        assertThat(process.waitFor(15, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).isZero();
    }

    /** One GET /small on a new connection: its status, or how it failed (closed, reset, timeout). */
    private static String get(int port) {
        try (RawClient client = new RawClient(port)) {
            client.socket.setSoTimeout(5000);
            HttpMessage response = client.get("/small");
            return response == null ? "closed" : String.valueOf(response.status());
        } catch (SocketTimeoutException e) {
            return "timeout";
        } catch (IOException e) {
            return e.getMessage() != null && e.getMessage().contains("reset") ? "reset" : "closed";
        }
    }

    private static String metrics(int adminPort) throws IOException {
        try (RawClient client = new RawClient(adminPort)) {
            HttpMessage response = client.get("/metrics");
            assertThat(response).as("/metrics answered").isNotNull();
            return response.bodyText();
        }
    }

    private static long counter(String metrics, String sample) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(sample) + " (\\d+)").matcher(metrics);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    private String log() throws IOException {
        return Files.readString(dir.resolve("proxy.log"));
    }

    private static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    private void waitForPort(int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() - deadline < 0) {
            try (Socket ignored = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return;
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        throw new AssertionError("proxy did not start: " + log());
    }
}
