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
        backend = new TestBackend("slow", (request, in, out, socket) -> {
            if (request.target().equals("/slow")) {
                sleep(slowMillis);
            }
            TestBackend.respond(out, 200, "done " + request.target());
        });
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        Path config = dir.resolve("proxy_config.json");
        Files.writeString(config, "{\"listen\": \"127.0.0.1:" + port + "\", \"threads\": 2, \"backend_servers\": [\""
                + backend.address() + "\"], \"log\": {\"file\": null}, \"timeouts\": {\"shutdown_drain\": \"10s\"}}");
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

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
