package dev.moonbeam.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moonbeam.balance.HealthChecker;
import dev.moonbeam.config.HealthCheckConfig;
import dev.moonbeam.loop.Clock;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real proxy with two origins: the health checker, driven by hand, steers traffic away and back. */
class HealthCheckEndToEndTest {
    @TempDir
    Path dir;

    /** Serves {@code /healthz} with the status in {@code health[0]}, anything else with its name. */
    static TestBackend.Handler origin(String name, int[] health) {
        return (request, in, out, socket) -> {
            if (request.target().equals("/healthz")) {
                TestBackend.respond(out, health[0], "health");
            } else {
                TestBackend.respond(out, 200, name, "X-Backend: " + name);
            }
        };
    }

    static Set<String> servedBy(ProxyHarness proxy, int requests) throws IOException {
        Set<String> names = new HashSet<>();
        for (int i = 0; i < requests; i++) {
            // A new connection each time, so keep-alive cannot pin requests to one backend.
            try (RawClient client = proxy.client()) {
                HttpMessage response = client.get("/work");
                assertThat(response.status()).isEqualTo(200);
                names.add(response.header("X-Backend"));
            }
        }
        return names;
    }

    @Test
    void unhealthyBackendGetsNoRequestsUntilItRecovers() throws Exception {
        int[] healthA = {200};
        int[] healthB = {200};
        try (TestBackend a = new TestBackend("a", origin("a", healthA));
             TestBackend b = new TestBackend("b", origin("b", healthB));
             ProxyHarness proxy = ProxyHarness.start(dir, 2, "[\"" + a.address() + "\", \"" + b.address() + "\"]",
                     "\"health_check\": {\"path\": \"/healthz\", \"healthy_threshold\": 1, \"unhealthy_threshold\": 2}")) {
            HealthChecker checker = new HealthChecker(proxy.proxy.routing(), HealthCheckConfig.DISABLED,
                    HealthChecker.perBackend(proxy.config), Clock.SYSTEM);
            checker.runOnce();
            assertThat(servedBy(proxy, 10)).containsExactlyInAnyOrder("a", "b");

            healthA[0] = 503;
            checker.runOnce();
            assertThat(servedBy(proxy, 4)).as("one failed check of two: still in").contains("a");
            checker.runOnce();
            assertThat(servedBy(proxy, 20)).containsExactly("b");

            healthA[0] = 200;
            checker.runOnce();
            assertThat(servedBy(proxy, 10)).containsExactlyInAnyOrder("a", "b");
            checker.reconfigure(proxy.config.withThreads(2)); // same checks: nothing changes
            healthA[0] = 500;
            checker.runOnce();
            checker.runOnce();
            assertThat(servedBy(proxy, 6)).containsExactly("b");
            assertThat(a.received).anySatisfy(request -> {
                assertThat(request.target()).isEqualTo("/healthz");
                assertThat(request.header("User-Agent")).isEqualTo("MoonBeam-health-check");
            });
        }
    }
}
