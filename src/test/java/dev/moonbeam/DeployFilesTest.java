package dev.moonbeam;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moonbeam.config.ConfigLoader;
import dev.moonbeam.config.ProxyConfig;
import dev.moonbeam.config.Timeouts;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The files in deploy/ agree with MoonBeam and with each other: the shipped config loads, the
 * stop timeouts outlast the drain, the probes hit the admin port, and systemd accepts the unit.
 */
class DeployFilesTest {
    private static final Path DEPLOY = Path.of(System.getProperty("moonbeam.project.dir", "")).toAbsolutePath().resolve("deploy");

    @TempDir
    Path dir;

    private static String read(String name) throws Exception {
        return Files.readString(DEPLOY.resolve(name));
    }

    private static int number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertThat(m.find()).as("%s in the file", regex).isTrue();
        return Integer.parseInt(m.group(1));
    }

    /** The proxy_config.json block of the ConfigMap, unindented. */
    private static String configMapJson() throws Exception {
        String yaml = read("kubernetes/configmap.yaml");
        int start = yaml.indexOf("proxy_config.json: |");
        assertThat(start).isNotNegative();
        StringBuilder json = new StringBuilder();
        for (String line : yaml.substring(start).split("\n", -1)) {
            if (line.startsWith("    ")) {
                json.append(line.substring(4)).append('\n');
            } else if (!json.isEmpty() && !line.isBlank()) {
                break;
            }
        }
        return json.toString();
    }

    @Test
    void theConfigMapsConfigLoadsAndItsDrainFitsTheGracePeriod() throws Exception {
        // The pod's certificate paths, pointed at the test pair.
        Path tls = dir.resolve("tls");
        Files.createDirectories(tls);
        Files.copy(Path.of(DeployFilesTest.class.getResource("/dev/moonbeam/tls/ec.crt").toURI()), tls.resolve("tls.crt"));
        Files.copy(Path.of(DeployFilesTest.class.getResource("/dev/moonbeam/tls/ec-sec1.key").toURI()), tls.resolve("tls.key"));
        Path file = dir.resolve("proxy_config.json");
        Files.writeString(file, configMapJson().replace("/etc/moonbeam/tls", tls.toString()));
        ProxyConfig config = new ConfigLoader(dir, null).load(file);
        assertThat(config.backends().get(0).isDiscovered()).as("the headless Service is followed through DNS").isTrue();
        assertThat(config.observe().admin().address().getPort()).isEqualTo(9901);

        String deployment = read("kubernetes/deployment.yaml");
        int grace = number(deployment, "terminationGracePeriodSeconds: (\\d+)");
        int preStop = number(deployment, "command: \\[\"sleep\", \"(\\d+)\"\\]");
        long drain = config.timeouts().shutdownDrain().toSeconds();
        assertThat(grace).as("grace period > preStop sleep + shutdown_drain").isGreaterThan((int) (preStop + drain));
        assertThat(deployment).contains("containerPort: " + config.listen().address().getPort()).contains("containerPort: 9901").contains("path: /healthz, port: admin");
        assertThat(deployment).contains("mountPath: /etc/moonbeam/config").doesNotContain("subPath");
        assertThat(read("kubernetes/service.yaml")).contains("targetPort: https");
    }

    @Test
    void theSystemdUnitOutlastsTheDrainReloadsWithSighupAndVerifies() throws Exception {
        String unit = read("moonbeam.service");
        int stopTimeout = number(unit, "(?m)^TimeoutStopSec=(\\d+)");
        assertThat(stopTimeout).isGreaterThan((int) Timeouts.DEFAULTS.shutdownDrain().toSeconds());
        assertThat(unit).contains("ExecReload=/bin/kill -HUP $MAINPID").contains("KillSignal=SIGTERM")
                .contains("AmbientCapabilities=CAP_NET_BIND_SERVICE");

        Path analyze = onPath("systemd-analyze");
        Assumptions.assumeTrue(analyze != null, "systemd-analyze is not installed: the unit's syntax is not verified");
        // The unit as installed, with its paths pointed at this checkout and a scratch folder.
        Path home = DEPLOY.getParent();
        Files.createDirectories(dir.resolve("logs"));
        Path copy = dir.resolve("moonbeam.service");
        Files.writeString(copy, unit.replace("/opt/moonbeam/scripts", home.resolve("scripts").toString())
                .replace("/opt/moonbeam/logs", dir.resolve("logs").toString())
                .replace("/opt/moonbeam", home.toString()));
        Process verify = new ProcessBuilder(analyze.toString(), "verify", copy.toString()).redirectErrorStream(true).start();
        assertThat(verify.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String output = new String(verify.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        List<String> problems = new ArrayList<>();
        for (String line : output.split("\n")) {
            // Users and groups need not exist on a build machine; anything about the unit itself counts.
            if (line.contains("moonbeam.service") && !line.contains("User") && !line.contains("Group")) {
                problems.add(line);
            }
        }
        assertThat(problems).as("systemd-analyze verify:\n%s", output).isEmpty();
    }

    private static Path onPath(String command) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(d.isEmpty() ? "." : d, command);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }
}
