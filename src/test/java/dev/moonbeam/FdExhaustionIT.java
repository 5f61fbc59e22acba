package dev.moonbeam;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moonbeam.proxy.RawClient;
import dev.moonbeam.proxy.TestBackend;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The proxy run with a tiny file-descriptor limit and flooded with connections: it must not spin
 * on the failing accept (the listener stays readable) and must serve again once descriptors free up.
 */
class FdExhaustionIT {
    private static final Path JAR = Path.of(System.getProperty("moonbeam.project.dir", "")).toAbsolutePath()
            .resolve("target/moonbeam.jar");

    @TempDir
    Path dir;
    Process process;
    TestBackend backend;
    final List<Socket> flood = new ArrayList<>();

    @AfterEach
    void cleanUp() throws IOException {
        for (Socket socket : flood) {
            socket.close();
        }
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
        }
        if (backend != null) {
            backend.close();
        }
    }

    /**
     * With a cap above what the descriptors allow, accept() itself fails (EMFILE) and pauses; with
     * the default cap (derived from the same limit) MoonBeam stops accepting before that. Either
     * way the loop does not spin and service resumes once the flood is gone.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "cap above the descriptor limit | \"limits\": {\"max_client_connections\": 100000}, | accept failed   | pausing accepts",
        "default cap                    |                                                   | at the limit (16 | listen backlog",
    })
    void acceptFailuresPauseInsteadOfSpinningAndServiceResumes(String name, String limits, String logged,
                                                              String alsoLogged) throws Exception {
        backend = new TestBackend("a", TestBackend.named("a"));
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        Path config = dir.resolve("proxy_config.json");
        Files.writeString(config, "{\"listen\": \"127.0.0.1:" + port + "\", \"threads\": 1, \"backend_servers\": [\""
                + backend.address() + "\"], " + (limits == null ? "" : limits) + " \"warmup\": {\"enabled\": false},"
                + " \"log\": {\"file\": null}}");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        process = new ProcessBuilder("bash", "-c", "ulimit -n 160 && exec \"$0\" -jar \"$1\" --config \"$2\"", java,
                JAR.toString(), config.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("proxy.log").toFile()).start();
        waitForPort(port);
        try (RawClient client = new RawClient(port)) {
            assertThat(client.get("/").status()).isEqualTo(200);
        }
        for (int i = 0; i < 300; i++) {
            Socket socket = new Socket();
            try {
                socket.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
                flood.add(socket);
            } catch (IOException backlogFull) {
                socket.close();
                break;
            }
        }
        Thread.sleep(500);
        long before = cpuTicks(process.pid());
        Thread.sleep(2000);
        long used = cpuTicks(process.pid()) - before;
        // A spinning loop would burn ~200 ticks (2 s at 100 Hz); paused accepts burn next to none.
        assertThat(used).as("CPU ticks over 2 s with the descriptor limit reached").isLessThan(60);
        assertThat(Files.readString(dir.resolve("proxy.log"))).contains(logged, alsoLogged);

        for (Socket socket : flood) {
            socket.close();
        }
        flood.clear();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int status = 0;
        while (status != 200 && System.nanoTime() - deadline < 0) {
            try (RawClient client = new RawClient(port)) {
                status = client.get("/").status();
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        assertThat(status).isEqualTo(200);
    }

    private static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime + stime
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
        throw new AssertionError("proxy did not start: " + Files.readString(dir.resolve("proxy.log")));
    }
}
