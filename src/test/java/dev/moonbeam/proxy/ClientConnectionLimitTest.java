package dev.moonbeam.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moonbeam.config.Limits;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** limits.max_client_connections over real sockets, plus the default's derivation. */
class ClientConnectionLimitTest {
    @TempDir
    Path dir;
    @RegisterExtension
    final Cleanup cleanup = new Cleanup();


    @Test
    void pastTheLimitNewClientsWaitInTheBacklogUntilAConnectionCloses() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        TestBackend backend = cleanup.track(new TestBackend("slow", (request, in, out, socket) -> {
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            TestBackend.respond(out, 200, "done".getBytes());
        }));
        ProxyHarness proxy = cleanup.track(ProxyHarness.start(dir, 2, "[\"" + backend.address() + "\"]",
                "\"limits\": {\"max_client_connections\": 3}"));
        List<RawClient> busy = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            busy.add(cleanup.track(proxy.client()).send("GET /busy HTTP/1.1\r\nHost: t\r\n\r\n"));
        }
        awaitCondition(() -> backend.inProgress.get() == 3);

        RawClient waiting = cleanup.track(proxy.client()); // the kernel completes the handshake; MoonBeam does not accept
        waiting.send("GET /waiting HTTP/1.1\r\nHost: t\r\n\r\n");
        Thread.sleep(400);
        assertThat(backend.requests.get()).as("the fourth request must not reach the backend yet").isEqualTo(3);
        assertThat(openClients(proxy)).isEqualTo(3);
        assertThat(proxy.proxy.metrics().prometheus()).contains("moonbeam_client_connection_limit_reached_total");

        busy.get(0).close(); // one slot comes free (its request is abandoned)
        release.countDown();
        assertThat(waiting.response().status()).isEqualTo(200);
        for (int i = 1; i < 3; i++) {
            assertThat(busy.get(i).response().status()).isEqualTo(200);
        }
        assertThat(backend.requests.get()).isEqualTo(4);

        waiting.close();
        for (RawClient client : busy) {
            client.close();
        }
        awaitCondition(() -> proxy.proxy.metrics().prometheus().contains("moonbeam_client_connections 0"));
    }

    @Test
    void atTheLimitTheLongestIdleKeepAliveConnectionIsClosedToMakeRoom() throws Exception {
        TestBackend backend = cleanup.track(new TestBackend("a", TestBackend.named("a")));
        ProxyHarness proxy = cleanup.track(ProxyHarness.start(dir, 1, "[\"" + backend.address() + "\"]",
                "\"limits\": {\"max_client_connections\": 3}"));
        List<RawClient> idle = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            RawClient client = cleanup.track(proxy.client());
            assertThat(client.get("/first").status()).isEqualTo(200);
            idle.add(client);
            Thread.sleep(30); // distinct idle ages: the first is idle longest
        }

        RawClient newcomer = cleanup.track(proxy.client());
        assertThat(newcomer.get("/new").status()).isEqualTo(200);

        assertThat(idle.get(0).isClosedByPeer()).as("the longest-idle connection made room").isTrue();
        assertThat(idle.get(1).get("/still-open").status()).isEqualTo(200);
        assertThat(idle.get(2).get("/still-open").status()).isEqualTo(200);
        assertThat(proxy.proxy.metrics().prometheus()).containsPattern("moonbeam_idle_connections_reclaimed_total\\S* [1-9]");
    }

    @Test
    void aRaisedLimitOnReloadLetsTheWaitingClientsIn() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        TestBackend backend = cleanup.track(new TestBackend("a", (request, in, out, socket) -> {
            if (request.target().equals("/hold")) {
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            TestBackend.respond(out, 200, "ok");
        }));
        ProxyHarness proxy = cleanup.track(ProxyHarness.start(dir, 1, "[\"" + backend.address() + "\"]",
                "\"limits\": {\"max_client_connections\": 1}"));
        RawClient holder = cleanup.track(proxy.client()).send("GET /hold HTTP/1.1\r\nHost: t\r\n\r\n"); // busy, never reclaimed
        awaitCondition(() -> backend.inProgress.get() == 1);
        RawClient waiting = cleanup.track(proxy.client()).send("GET /b HTTP/1.1\r\nHost: t\r\n\r\n");
        Thread.sleep(300);
        assertThat(backend.requests.get()).isEqualTo(1);

        proxy.proxy.reload(proxy.config.withLimits(new Limits(8192, 32768, 100, 4096, 0, 64, 10)));

        assertThat(waiting.response().status()).as("served while the first connection is still busy").isEqualTo(200);
        release.countDown();
        assertThat(holder.response().status()).isEqualTo(200);
    }

    @ParameterizedTest(name = "open files {0} -> {1}")
    @CsvSource({"1024, 448", "65536, 32704", "1048576, 524224", "100, 1", "-1, 2147483647"})
    void theDefaultIsHalfOfTheOpenFileLimitLessAReserve(long openFiles, int expected) {
        assertThat(ClientConnectionLimit.fromOpenFiles(openFiles)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "Max open files            1048576              1048576              files     | 1048576",
        "Max open files            1024                 4096                 files     | 1024",
        "Max open files            unlimited            unlimited            files     | -1",
        "Max processes             1000                 1000                 processes | -1",
    })
    void theOpenFileLimitIsReadFromProcLimits(String line, long expected) {
        String limits = "Limit                     Soft Limit           Hard Limit           Units     \n"
                + "Max cpu time              unlimited            unlimited            seconds   \n" + line + "\n";
        assertThat(ClientConnectionLimit.parseOpenFileLimit(limits)).isEqualTo(expected);
    }

    private static int openClients(ProxyHarness proxy) {
        return proxy.proxy.workers().stream().mapToInt(Worker::openClients).sum();
    }

    private static void awaitCondition(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(condition.getAsBoolean()).isTrue();
    }
}
