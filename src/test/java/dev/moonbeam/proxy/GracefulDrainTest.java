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
        Thread drainer = startDrain(proxy, Duration.ofSeconds(10));
        awaitWaiting(drainer); // the drain task is queued behind the blocker; a drain that did not wait for it would close now
        Thread.sleep(100);
        release.countDown();

        HttpMessage response = client.response();
        assertThat(response).as("answer to the queued connection").isNotNull();
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.header("Connection")).isEqualToIgnoringCase("close");
        client.close(); // else the drain waits out the lingering close of a Connection: close answer
        drainer.join(15_000);
        assertThat(drainer.isAlive()).as("drain finished").isFalse();
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

        Thread drainer = startDrain(proxy, Duration.ofSeconds(10));
        awaitDraining(proxy.proxy.workers().get(0));
        Thread.sleep(200);
        assertThat(drainer.isAlive()).as("the drain waits for the connection").isTrue();
        client.send("PROXY TCP4 203.0.113.7 192.0.2.1 51000 443\r\n" + REQUEST);

        HttpMessage response = client.response();
        assertThat(response).as("answer after the PROXY header").isNotNull();
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.header("Connection")).isEqualToIgnoringCase("close");
        client.close(); // else the drain waits out the lingering close of a Connection: close answer
        drainer.join(15_000);
        assertThat(drainer.isAlive()).as("drain finished").isFalse();
        assertThat(proxy.proxy.openClients()).isZero();
    }

    /**
     * A connection that sends nothing while it would owe a PROXY header (a preconnect) must not
     * hold the drain for its whole header timeout (client_head, 10 s here): it gets the 1 s grace
     * of an idle keep-alive connection, then is closed, uncounted as a balancer's fault.
     */
    @Test
    void aSilentConnectionWaitingForItsProxyHeaderDoesNotHoldTheDrain() throws Exception {
        ProxyHarness proxy = proxy("\"proxy_protocol\": {\"from\": [\"127.0.0.1\"]}");
        RawClient silent = cleanup.track(proxy.client());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (proxy.proxy.openClients() == 0 && System.nanoTime() - deadline < 0) {
            Thread.sleep(5);
        }
        assertThat(proxy.proxy.openClients()).isEqualTo(1);

        long started = System.nanoTime();
        Thread drainer = startDrain(proxy, Duration.ofSeconds(30));
        drainer.join(8_000);
        assertThat(drainer.isAlive()).as("drain finished well before the 10 s header timeout").isFalse();
        assertThat(System.nanoTime() - started).as("the grace was given").isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(900));
        assertThat(silent.isClosedByPeer()).isTrue();
        assertThat(proxy.proxy.workers().get(0).proxyProtocolStats().refusedCount(ProxyProtocolStats.Refusal.TIMEOUT))
                .as("not a balancer's timeout").isZero();
    }

    private static Thread startDrain(ProxyHarness proxy, Duration drain) {
        Thread drainer = new Thread(() -> proxy.proxy.drainAndClose(drain), "test-drain");
        drainer.setDaemon(true);
        drainer.start();
        return drainer;
    }

    /** Until the drain thread blocks (on the loops' drain tasks or between its polls): its tasks are posted. */
    private static void awaitWaiting(Thread drainer) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (drainer.getState() != Thread.State.TIMED_WAITING && System.nanoTime() - deadline < 0) {
            Thread.sleep(2);
        }
        assertThat(drainer.getState()).isEqualTo(Thread.State.TIMED_WAITING);
    }

    /** Until the loop has run its drain task (asked on the loop itself). */
    private static void awaitDraining(Worker worker) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        boolean draining = false;
        while (!draining && System.nanoTime() - deadline < 0) {
            CompletableFuture<Boolean> asked = new CompletableFuture<>();
            worker.loop().execute(() -> asked.complete(worker.isDraining()));
            draining = asked.get(5, TimeUnit.SECONDS);
        }
        assertThat(draining).as("the loop drains").isTrue();
    }

    private static void awaitQuietly(CountDownLatch latch, int seconds) {
        try {
            latch.await(seconds, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
