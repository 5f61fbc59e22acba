package dev.moonbeam.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Per-backend {@code max_connections} and the process-wide queue, over real sockets with two event
 * loops (so requests wait on one loop for slots freed on the other).
 */
class BackendQueueEndToEndTest {
    @TempDir
    Path dir;
    @RegisterExtension
    final Cleanup cleanup = new Cleanup();


    private ProxyHarness proxy(TestBackend backend, int maxConnections, String queueJson) throws Exception {
        return cleanup.track(ProxyHarness.start(dir, 2,
                "[{\"address\": \"" + backend.address() + "\", \"max_connections\": " + maxConnections + "}]",
                "\"queue\": " + queueJson));
    }

    @Test
    void aBackendLimitedToTwoNeverSeesMoreThanTwoAndEveryRequestIsServed() throws Exception {
        AtomicInteger concurrent = new AtomicInteger();
        AtomicInteger mostConcurrent = new AtomicInteger();
        TestBackend backend = cleanup.track(new TestBackend("limited", (request, in, out, socket) -> {
            mostConcurrent.accumulateAndGet(concurrent.incrementAndGet(), Math::max);
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            concurrent.decrementAndGet();
            TestBackend.respond(out, 200, request.target());
        }));
        ProxyHarness proxy = proxy(backend, 2, "{\"timeout\": \"30s\"}");
        int clients = 50;
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Integer>> statuses = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                String target = "/c" + i;
                statuses.add(pool.submit(() -> {
                    start.await();
                    try (RawClient client = new RawClient(proxy.port())) {
                        return client.get(target).status();
                    }
                }));
            }
            start.countDown();
            for (Future<Integer> status : statuses) {
                assertThat(status.get(30, TimeUnit.SECONDS)).isEqualTo(200);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(backend.requests.get()).isEqualTo(clients);
        assertThat(mostConcurrent.get()).as("requests in flight at the backend at once").isBetween(1, 2);
        String metrics = proxy.proxy.metrics().prometheus();
        assertThat(metric(metrics, "moonbeam_queued_requests_total")).as("some requests must have waited").isPositive();
        assertThat(metric(metrics, "moonbeam_queue_wait_seconds_count"))
                .isEqualTo(metric(metrics, "moonbeam_queued_requests_total"));
        assertThat(metric(metrics, "moonbeam_queue_length")).isZero();
        awaitCondition(() -> proxy.proxy.routing().current().backends().get(0).inflight() == 0);
    }

    @Test
    void aRequestWaitsNoLongerThanTheQueueTimeoutAndGets503WithRetryAfter() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        TestBackend backend = cleanup.track(new TestBackend("slow", blockUntil(release)));
        ProxyHarness proxy = proxy(backend, 1, "{\"timeout\": \"300ms\"}");
        RawClient holder = cleanup.track(proxy.client()).send("GET /holder HTTP/1.1\r\nHost: t\r\n\r\n");
        awaitCondition(() -> backend.inProgress.get() == 1);

        RawClient waiter = cleanup.track(proxy.client());
        long started = System.nanoTime();
        HttpMessage response = waiter.get("/waiter");
        long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertThat(response.status()).isEqualTo(503);
        assertThat(response.header("Retry-After")).isEqualTo("1");
        assertThat(waitedMillis).as("waited about the queue timeout").isBetween(250L, 3000L);
        assertThat(waiter.isClosedByPeer()).isTrue();
        assertThat(metric(proxy.proxy.metrics().prometheus(), "moonbeam_queue_timeouts_total")).isEqualTo(1);

        release.countDown();
        assertThat(holder.response().status()).isEqualTo(200);
        assertThat(backend.requests.get()).as("the timed-out request never reached the backend").isEqualTo(1);
    }

    @Test
    void waitingRequestsAreServedInArrivalOrderAndOneMoreThanMaxWaitingIsRefusedAtOnce() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        TestBackend backend = cleanup.track(new TestBackend("slow", blockUntil(release)));
        ProxyHarness proxy = proxy(backend, 1, "{\"max_waiting\": 2, \"timeout\": \"20s\"}");
        RawClient holder = cleanup.track(proxy.client()).send("GET /first HTTP/1.1\r\nHost: t\r\n\r\n");
        awaitCondition(() -> backend.inProgress.get() == 1);
        // One connection per request: the two loops take turns accepting, so they wait on both.
        RawClient second = cleanup.track(proxy.client()).send("GET /second HTTP/1.1\r\nHost: t\r\n\r\n");
        awaitCondition(() -> metric(proxy.proxy.metrics().prometheus(), "moonbeam_queue_length") == 1);
        RawClient third = cleanup.track(proxy.client()).send("GET /third HTTP/1.1\r\nHost: t\r\n\r\n");
        awaitCondition(() -> metric(proxy.proxy.metrics().prometheus(), "moonbeam_queue_length") == 2);

        long started = System.nanoTime();
        HttpMessage refused = cleanup.track(proxy.client()).get("/fourth");
        assertThat(refused.status()).isEqualTo(503);
        assertThat(refused.header("Retry-After")).isEqualTo("1");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).as("refused at once").isLessThan(2000);
        assertThat(metric(proxy.proxy.metrics().prometheus(), "moonbeam_queue_overflows_total")).isEqualTo(1);

        release.countDown();
        assertThat(holder.response().status()).isEqualTo(200);
        assertThat(second.response().status()).isEqualTo(200);
        assertThat(third.response().status()).isEqualTo(200);
        assertThat(backend.received).extracting(HttpMessage::target).containsExactly("/first", "/second", "/third");
    }

    @Test
    void aClientThatLeavesWhileWaitingGivesUpItsPlaceAndNoSlotIsLost() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        TestBackend backend = cleanup.track(new TestBackend("slow", blockUntil(release)));
        ProxyHarness proxy = proxy(backend, 1, "{\"timeout\": \"20s\"}");
        RawClient holder = cleanup.track(proxy.client()).send("GET /holder HTTP/1.1\r\nHost: t\r\n\r\n");
        awaitCondition(() -> backend.inProgress.get() == 1);
        RawClient leaver = cleanup.track(proxy.client()).send("GET /leaver HTTP/1.1\r\nHost: t\r\n\r\n");
        awaitCondition(() -> metric(proxy.proxy.metrics().prometheus(), "moonbeam_queue_length") == 1);
        leaver.close();
        awaitCondition(() -> metric(proxy.proxy.metrics().prometheus(), "moonbeam_queue_length") == 0);
        RawClient stayer = cleanup.track(proxy.client()).send("GET /stayer HTTP/1.1\r\nHost: t\r\n\r\n");
        awaitCondition(() -> metric(proxy.proxy.metrics().prometheus(), "moonbeam_queue_length") == 1);

        release.countDown();
        assertThat(holder.response().status()).isEqualTo(200);
        assertThat(stayer.response().status()).isEqualTo(200);
        assertThat(backend.received).extracting(HttpMessage::target).containsExactly("/holder", "/stayer");
        // The slot is whole again: a new request goes straight through.
        assertThat(cleanup.track(proxy.client()).get("/after").status()).isEqualTo(200);
        awaitCondition(() -> proxy.proxy.routing().current().backends().get(0).inflight() == 0);
    }

    @Test
    void aReloadThatRaisesTheLimitLetsWaitingRequestsThrough() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        TestBackend backend = cleanup.track(new TestBackend("slow", (request, in, out, socket) -> {
            if (request.target().equals("/holder")) {
                blockUntil(release).handle(request, in, out, socket);
            } else {
                TestBackend.respond(out, 200, request.target());
            }
        }));
        ProxyHarness proxy = proxy(backend, 1, "{\"timeout\": \"20s\"}");
        RawClient holder = cleanup.track(proxy.client()).send("GET /holder HTTP/1.1\r\nHost: t\r\n\r\n");
        awaitCondition(() -> backend.inProgress.get() == 1);
        RawClient waiter = cleanup.track(proxy.client()).send("GET /waiter HTTP/1.1\r\nHost: t\r\n\r\n");
        awaitCondition(() -> metric(proxy.proxy.metrics().prometheus(), "moonbeam_queue_length") == 1);

        java.nio.file.Files.writeString(proxy.config.source(), java.nio.file.Files.readString(proxy.config.source())
                .replace("\"max_connections\": 1", "\"max_connections\": 2"));
        proxy.proxy.reload(new dev.moonbeam.config.ConfigLoader(dir, null).load(proxy.config.source()));
        assertThat(waiter.response().status()).as("served without waiting for the holder").isEqualTo(200);
        release.countDown();
        assertThat(holder.response().status()).isEqualTo(200);
    }

    /** With every backend down, a new request gets 503 at once even while others wait in the queue. */
    @Test
    void withEveryBackendDownANewRequestIsRefusedAtOnceEvenIfOthersWait() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        TestBackend backend = cleanup.track(new TestBackend("slow", blockUntil(release)));
        ProxyHarness proxy = proxy(backend, 1, "{\"timeout\": \"5s\"}");
        RawClient holder = cleanup.track(proxy.client()).send("GET /holder HTTP/1.1\r\nHost: t\r\n\r\n");
        awaitCondition(() -> backend.inProgress.get() == 1);
        RawClient waiter = cleanup.track(proxy.client()).send("GET /waiter HTTP/1.1\r\nHost: t\r\n\r\n");
        awaitCondition(() -> metric(proxy.proxy.metrics().prometheus(), "moonbeam_queue_length") == 1);
        // The only backend goes down, as a passive failure or a health check would mark it.
        proxy.proxy.routing().current().backends().get(0).markFailed(System.nanoTime());
        long started = System.nanoTime();
        assertThat(cleanup.track(proxy.client()).get("/late").status()).isEqualTo(503);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).as("no backend is up: 503 at once").isLessThan(2000);
        assertThat(metric(proxy.proxy.metrics().prometheus(), "moonbeam_queue_length")).as("the waiter keeps its place")
                .isEqualTo(1);
        release.countDown();
        assertThat(holder.response().status()).isEqualTo(200);
        waiter.socket.setSoTimeout(10_000);
        assertThat(waiter.response().status()).as("served or timed out, never lost").isIn(200, 503);
    }

    private static TestBackend.Handler blockUntil(CountDownLatch release) {
        return (request, in, out, socket) -> {
            try {
                release.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            TestBackend.respond(out, 200, request.target());
        };
    }

    /** The value of an unlabelled sample in Prometheus text, or -1 when absent. */
    private static long metric(String text, String name) {
        for (String line : text.split("\n")) {
            if (line.startsWith(name + " ")) {
                return (long) Double.parseDouble(line.substring(name.length() + 1).trim());
            }
        }
        return -1;
    }

    private static void awaitCondition(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(condition.getAsBoolean()).isTrue();
    }
}
