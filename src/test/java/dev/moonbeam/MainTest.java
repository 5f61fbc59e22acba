package dev.moonbeam;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs {@link Main#run} in-process and checks exit codes and what the operator sees. */
class MainTest {
    @TempDir
    Path dir;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String stdout() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String stderr() {
        return err.toString(StandardCharsets.UTF_8);
    }

    private Path config(String json) throws IOException {
        Path file = dir.resolve("proxy_config.json");
        Files.writeString(file, json);
        return file;
    }

    @Test
    void badFlagPrintsUsageAndExits2() {
        assertThat(run("--nope")).isEqualTo(Main.EXIT_USAGE);
        assertThat(stderr()).startsWith("moonbeam: unknown option --nope").contains("Usage: moonbeam");
    }

    @Test
    void helpAndVersionExit0() {
        assertThat(run("--help")).isZero();
        assertThat(stdout()).contains("Usage: moonbeam");
        assertThat(run("--version")).isZero();
        assertThat(stdout()).containsPattern("MoonBeam \\S+ \\(Java 1?\\d");
    }

    @Test
    void checkAcceptsValidConfig() throws IOException {
        Path file = config("{\"listen\": \"127.0.0.1:8443\", \"backend_servers\": [\"127.0.0.1:8081\", \"127.0.0.1:8082\"]}");
        assertThat(run("--check", "--config", file.toString(), "--threads", "3")).isZero();
        assertThat(stdout()).contains("is valid", "listen 127.0.0.1:8443 (plain HTTP)", "2 backend(s)", "3 thread(s)");
        assertThat(stderr()).isEmpty();
    }

    @Test
    void checkRejectsBrokenConfigWithOneLineAndNoStackTrace() throws IOException {
        Path file = config("{\"backend_servers\": [\"127.0.0.1:8081\", \"127.0.0.1:99999\"]}");
        assertThat(run("--check", "--config", file.toString())).isEqualTo(Main.EXIT_FAILURE);
        assertThat(stderr().strip()).isEqualTo("moonbeam: " + file + ": backend_servers[1]: \"127.0.0.1:99999\": port 99999 is out of range (1-65535)");
    }

    @Test
    void debugAddsTheStackTrace() throws IOException {
        Path file = config("{\"backend_servers\": []}");
        assertThat(run("--check", "--debug", "--config", file.toString())).isEqualTo(Main.EXIT_FAILURE);
        assertThat(stderr()).contains("backend_servers: is empty").contains("at dev.moonbeam.config.ConfigLoader");
    }

    @Test
    void listenOverrideIsValidated() throws IOException {
        Path file = config("{\"backend_servers\": [\"127.0.0.1:8081\"]}");
        assertThat(run("--check", "--config", file.toString(), "--listen", "70000")).isEqualTo(Main.EXIT_FAILURE);
        assertThat(stderr()).contains(file + ": --listen: \"70000\": port 70000 is out of range (0-65535)");
    }

    @Test
    void portInUseIsOneClearLine() throws IOException {
        try (ServerSocketChannel holder = ServerSocketChannel.open()) {
            holder.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            int port = ((InetSocketAddress) holder.getLocalAddress()).getPort();
            Path file = config("{\"backend_servers\": [\"127.0.0.1:8081\"], \"log\": {\"file\": null}}");
            assertThat(run("--config", file.toString(), "--listen", "127.0.0.1:" + port, "--threads", "2")).isEqualTo(Main.EXIT_FAILURE);
            assertThat(stderr().strip()).startsWith("moonbeam: cannot listen on 127.0.0.1:" + port + ": the address is already in use")
                    .contains("--listen").doesNotContain("\n");
        }
    }
}
