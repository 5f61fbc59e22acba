package dev.moonbeam.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A graceful drain (SIGTERM) answers every client it has accepted or the kernel has queued for it,
 * however early in its life the connection is, before it closes the listeners and loops.
 */
class GracefulDrainTest {
    private static final String REQUEST = "GET /d HTTP/1.1\r\nHost: t\r\n\r\n";

    @TempDir
    Path dir;
    @RegisterExtension
    final Cleanup cleanup = new Cleanup();

    private ProxyHarness proxy(String extraJson) throws Exception {
        TestBackend backend = cleanup.track(new TestBackend("b", (request, in, out, socket) ->
                TestBackend.respond(out, 200, "served")));
        return cleanup.track(ProxyHarness.start(dir, 1, "[\"" + backend.address() + "\"]", extraJson));
    }

    /**
     * The drain starts while the connection is still in the kernel's accept queue and no client
     * is open: the proxy must take it from the queue and answer it, not close the listener under
     * it (which resets it).
     */
    @Test
    void aConnectionStillInTheAcceptQueueWhenTheDrainStartsIsAnswered() throws Exception {
        ProxyHarness proxy = proxy("");
        Worker worker = proxy.proxy.workers().get(0);
        CountDownLatch loopBusy = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        worker.loop().execute(() -> {
            loopBusy.countDown();
            awaitQuietly(release, 5);
        });
        assertThat(loopBusy.await(5, TimeUnit.SECONDS)).isTrue();
        RawClient client = cleanup.track(proxy.client()).send(REQUEST); // queued: the loop cannot accept now
        CompletableFuture<Void> drained = CompletableFuture.runAsync(() -> proxy.proxy.drainAndClose(Duration.ofSeconds(10)));
        Thread.sleep(100); // long enough for a drain that does not wait for the loops to close everything
        release.countDown();

        HttpMessage response = client.response();
        assertThat(response).as("answer to the queued connection").isNotNull();
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.header("Connection")).isEqualToIgnoringCase("close");
        client.close(); // else the drain waits out the lingering close of a Connection: close answer
        drained.get(15, TimeUnit.SECONDS);
    }

    /**
     * Behind a balancer, a connection accepted just before the drain may still wait for its PROXY
     * header. It counts as open, so the drain waits for it and answers its request.
     */
    @Test
    void aConnectionWaitingForItsProxyHeaderWhenTheDrainStartsIsAnswered() throws Exception {
        ProxyHarness proxy = proxy("\"proxy_protocol\": {\"from\": [\"127.0.0.1\"]}");
        RawClient client = cleanup.track(proxy.client());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (proxy.proxy.openClients() == 0 && System.nanoTime() - deadline < 0) {
            Thread.sleep(5);
        }
        assertThat(proxy.proxy.openClients()).as("a connection waiting for its PROXY header is open").isEqualTo(1);

        CompletableFuture<Void> drained = CompletableFuture.runAsync(() -> proxy.proxy.drainAndClose(Duration.ofSeconds(10)));
        Thread.sleep(200);
        assertThat(drained).as("the drain waits for the connection").isNotDone();
        client.send("PROXY TCP4 203.0.113.7 192.0.2.1 51000 443\r\n" + REQUEST);

        HttpMessage response = client.response();
        assertThat(response).as("answer after the PROXY header").isNotNull();
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.header("Connection")).isEqualToIgnoringCase("close");
        client.close(); // else the drain waits out the lingering close of a Connection: close answer
        drained.get(15, TimeUnit.SECONDS);
        assertThat(proxy.proxy.openClients()).isZero();
    }

    private static void awaitQuietly(CountDownLatch latch, int seconds) {
        try {
            latch.await(seconds, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
