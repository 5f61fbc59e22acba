package dev.moonbeam.proxy;

import static org.assertj.core.api.Assertions.fail;

import dev.moonbeam.balance.Backend;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What a proxy holds after its clients have gone: buffers lent out, client connections open,
 * requests in flight per backend. Read on each loop through a posted task (the loops own these
 * counts), so a test can assert that a fault left nothing behind.
 */
final class LeakCheck {
    /** Totals over all loops and backends. */
    record Held(int buffers, int clients, int inflight) {
        boolean nothing() {
            return buffers == 0 && clients == 0 && inflight == 0;
        }
    }

    private LeakCheck() {
    }

    static Held held(ProxyHarness proxy) throws Exception {
        int buffers = 0;
        int clients = 0;
        for (Worker worker : proxy.proxy.workers()) {
            CompletableFuture<int[]> counts = new CompletableFuture<>();
            worker.loop().execute(() -> counts.complete(new int[] {worker.outstandingBuffers(), worker.openClients()}));
            int[] read = counts.get(5, TimeUnit.SECONDS);
            buffers += read[0];
            clients += read[1];
        }
        int inflight = 0;
        for (Backend backend : proxy.proxy.workers().get(0).routing().current().backends()) {
            inflight += backend.inflight();
        }
        return new Held(buffers, clients, inflight);
    }

    /**
     * Waits (at most {@code within}) until the proxy holds no buffer, no client connection and no
     * in-flight request; fails with what it still held. Close the test's clients first.
     */
    static void assertNothingHeld(ProxyHarness proxy, Duration within) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        Held last = held(proxy);
        while (!last.nothing() && System.nanoTime() < deadline) {
            Thread.sleep(20);
            last = held(proxy);
        }
        if (!last.nothing()) {
            fail("after " + within.toMillis() + " ms the proxy still holds " + last);
        }
    }

    /** Open file descriptors of this JVM (Linux); -1 where /proc is not there. */
    static long openDescriptors() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        } catch (IOException | UncheckedIOException e) {
            return -1;
        }
    }

    /**
     * Waits (at most {@code within}) until this JVM has at most {@code baseline + slack} open
     * descriptors: the proxy, the test's backends and clients all live in it, so slack covers
     * sockets the test still means to hold.
     */
    static void assertDescriptorsBackTo(long baseline, int slack, Duration within) throws InterruptedException {
        if (baseline < 0) {
            return;
        }
        long deadline = System.nanoTime() + within.toNanos();
        long now = openDescriptors();
        while (now > baseline + slack && System.nanoTime() < deadline) {
            Thread.sleep(20);
            now = openDescriptors();
        }
        if (now > baseline + slack) {
            fail("open descriptors " + now + " did not come back to " + baseline + " (+" + slack + ")");
        }
    }
}
