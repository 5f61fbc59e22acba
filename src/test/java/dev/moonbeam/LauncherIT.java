package dev.moonbeam;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the real {@code scripts/moonbeam.sh} against the packaged jar, from a foreign directory. */
class LauncherIT {
    private static final Path PROJECT = Path.of(System.getProperty("moonbeam.project.dir", "")).toAbsolutePath();
    private static final Path LAUNCHER = PROJECT.resolve("scripts/moonbeam.sh");

    @TempDir
    Path elsewhere;
    private final Map<String, String> environment = new HashMap<>();

    record Result(int exitCode, String stdout, String stderr) {
    }

    private Result launch(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add("bash");
        command.add(LAUNCHER.toString());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(elsewhere.toFile())
                .redirectOutput(elsewhere.resolve("out.txt").toFile())
                .redirectError(elsewhere.resolve("err.txt").toFile());
        builder.environment().remove("MOONBEAM_JIT"); // the launcher's own choice unless a test sets one
        builder.environment().remove("MOONBEAM_JAVA_OPTS");
        builder.environment().putAll(environment);
        Process process = builder.start();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("launcher did not finish within 120 s");
        }
        return new Result(process.exitValue(), Files.readString(elsewhere.resolve("out.txt"), StandardCharsets.UTF_8),
                Files.readString(elsewhere.resolve("err.txt"), StandardCharsets.UTF_8));
    }

    @Test
    void checkPassesOnTheShippedConfig() throws Exception {
        Result result = launch("--check");
        assertThat(result.exitCode()).as(result.stderr()).isZero();
        assertThat(result.stdout()).contains(PROJECT.resolve("conf/proxy_config.json").toString(), "is valid", "(TLS)");
        assertThat(PROJECT.resolve("conf/certs/server.pem")).isRegularFile();
        assertThat(PROJECT.resolve("conf/certs/server.key")).isRegularFile();
    }

    @Test
    void checkFailsOnABrokenConfigWithAPreciseMessage() throws Exception {
        Path broken = elsewhere.resolve("broken.json");
        Files.writeString(broken, "{\"backend_servers\": [\"127.0.0.1:8081\"], \"threds\": 2}");
        Result result = launch("--check", "--config", "broken.json");
        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.stderr().strip()).isEqualTo("moonbeam: " + broken + ": threds: unknown key; did you mean \"threads\"?");
    }

    @Test
    void badFlagExits2WithUsage() throws Exception {
        Result result = launch("--frobnicate");
        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.stderr()).contains("unknown option --frobnicate", "Usage: moonbeam");
    }

    @Test
    void versionPassesThrough() throws Exception {
        Result result = launch("--version");
        assertThat(result.exitCode()).isZero();
        assertThat(result.stdout()).startsWith("MoonBeam ");
    }

    /** The launcher runs C1 alone unless JSSE will serve TLS (docs/operations.md, "JIT: C1 only"). */
    @Test
    void jitIsC1OnlyUnlessTheConfigAsksForJsse() throws Exception {
        boolean nativeCovered = System.getProperty("os.name").startsWith("Linux")
                && List.of("x86_64", "amd64", "aarch64").contains(System.getProperty("os.arch"));
        Result shipped = launch("--jvm-flags");
        assertThat(shipped.exitCode()).as(shipped.stderr()).isZero();
        if (nativeCovered) {
            assertThat(shipped.stdout()).contains("-XX:TieredStopAtLevel=1", "-Dmoonbeam.jit=c1", "-XX:+UseSerialGC");
        }

        Path jdk = elsewhere.resolve("jdk.json");
        Files.writeString(jdk, "{\"backend_servers\": [\"127.0.0.1:8081\"], \"ssl\": {\"provider\" :  \"jdk\"}}");
        Result jsse = launch("--jvm-flags", "--config", "jdk.json");
        assertThat(jsse.exitCode()).isZero();
        assertThat(jsse.stdout()).contains("-XX:+UseSerialGC").doesNotContain("TieredStopAtLevel", "moonbeam.jit");

        Path auto = elsewhere.resolve("auto.json");
        Files.writeString(auto, "{\"backend_servers\": [\"127.0.0.1:8081\"], \"ssl\": {\"provider\": \"auto\"}}");
        Result automatic = launch("--jvm-flags", "-c", "auto.json");
        assertThat(automatic.stdout().contains("-XX:TieredStopAtLevel=1")).isEqualTo(nativeCovered);
    }

    @Test
    void moonbeamJitChoosesTheJitOrFailsOnAnUnknownValue() throws Exception {
        assertThat(launchWith("MOONBEAM_JIT", "c1", "--jvm-flags").stdout())
                .contains("-XX:TieredStopAtLevel=1", "-Dmoonbeam.jit=c1").doesNotContain("compilerNice");
        assertThat(launchWith("MOONBEAM_JIT", "tiered", "--jvm-flags").stdout())
                .doesNotContain("TieredStopAtLevel", "moonbeam.jit");
        assertThat(launchWith("MOONBEAM_JIT", "tiered-nice", "--jvm-flags").stdout())
                .contains("-Dmoonbeam.jit=tiered-nice", "-Dmoonbeam.jit.compilerNice=10", "-XX:-UseDynamicNumberOfCompilerThreads")
                .doesNotContain("TieredStopAtLevel");
        Result bad = launchWith("MOONBEAM_JIT", "c2", "--jvm-flags");
        assertThat(bad.exitCode()).isNotZero();
        assertThat(bad.stderr()).contains("MOONBEAM_JIT must be c1, tiered or tiered-nice, not 'c2'");
    }

    private Result launchWith(String variable, String value, String... args) throws IOException, InterruptedException {
        environment.put(variable, value);
        try {
            return launch(args);
        } finally {
            environment.remove(variable);
        }
    }
}
