package dev.moonbeam;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real MoonBeam process started as {@code MOONBEAM_JIT=tiered-nice} starts it (the launcher's
 * flags, this test's classpath): once it listens, its C2 compiler threads run at nice 10 and its
 * event loops and C1 thread keep their priority. On Java below 22 the log says why nothing changed.
 * A unit test rather than an IT so that .ci/run's Java 22+ pass, whose build has the
 * {@code java.lang.foreign} classes, runs it too.
 */
class CompilerThreadPriorityEndToEndTest {
    private static final int NICE = 10;

    @TempDir
    Path dir;
    private Process process;

    @AfterEach
    void stop() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void onceListeningOnlyTheC2ThreadsRunAtNice10() throws Exception {
        Assumptions.assumeTrue(Files.isDirectory(Path.of("/proc/self/task")), "no /proc/self/task (not Linux): skipped");
        Path log = start();
        String output = Files.readString(log, StandardCharsets.UTF_8);
        Path tasks = Path.of("/proc", Long.toString(process.pid()), "task");
        int loopNice = niceOfThreadsNamed(tasks, "loop-0").get(0);

        if (Runtime.version().feature() >= 22) {
            List<Integer> c2 = niceOfThreadsNamed(tasks, "C2 CompilerThre");
            assertThat(output).contains("C2 compiler threads (" + c2.size() + ") at nice " + NICE);
            assertThat(c2).isNotEmpty().allMatch(nice -> nice == NICE);
            assertThat(loopNice).isNotEqualTo(NICE);
            assertThat(niceOfThreadsNamed(tasks, "C1 CompilerThre")).allMatch(nice -> nice == loopNice);
        } else {
            assertThat(output).contains("C2 compiler threads keep their priority: Java "
                    + Runtime.version().feature() + " has no java.lang.foreign (needs 22+)");
            assertThat(niceOfThreadsNamed(tasks, "C2 CompilerThre")).allMatch(nice -> nice == loopNice);
        }
    }

    /** Starts MoonBeam with tiered-nice's properties; returns its log once it listens. */
    private Path start() throws IOException, InterruptedException {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        Path config = dir.resolve("proxy_config.json");
        Files.writeString(config, "{\"listen\": \"127.0.0.1:" + port + "\", \"threads\": 1, \"backend_servers\": [\"127.0.0.1:9\"],"
                + " \"log\": {\"file\": null}, \"warmup\": {\"enabled\": false}}");
        Path log = dir.resolve("proxy.log");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:-UseDynamicNumberOfCompilerThreads", "-D" + CompilerThreadPriority.NICE_PROPERTY + "=" + NICE));
        if (Runtime.version().feature() >= 22) {
            command.add("--enable-native-access=ALL-UNNAMED");
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "--config", config.toString()));
        process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() - deadline < 0 && process.isAlive()) {
            if (Files.readString(log, StandardCharsets.UTF_8).contains(" listening on ")) {
                return log;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("MoonBeam did not start listening:\n" + Files.readString(log, StandardCharsets.UTF_8));
    }

    /** Nice values of the process's threads whose name starts with {@code prefix}. */
    private static List<Integer> niceOfThreadsNamed(Path tasks, String prefix) throws IOException {
        List<Integer> nices = new ArrayList<>();
        try (Stream<Path> threads = Files.list(tasks)) {
            for (Path thread : threads.toList()) {
                try {
                    if (Files.readString(thread.resolve("comm"), StandardCharsets.UTF_8).startsWith(prefix)) {
                        nices.add(CompilerThreadPriority.niceOf(thread));
                    }
                } catch (IOException gone) {
                    // a thread that ended while we looked
                }
            }
        }
        return nices;
    }
}
