package dev.moonbeam.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moonbeam.balance.Backend;
import dev.moonbeam.observe.RequestListener;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code "resolve": "dns"} backend over real sockets, with a resolver stand-in (no network):
 * members follow the name's addresses, one that disappears finishes its in-flight request and
 * loses its pooled connections, and a failed lookup keeps the last good set.
 */
class DnsDiscoveryEndToEndTest {
    private static final String NAME = "api.test";

    @TempDir
    Path dir;
    @RegisterExtension
    final Cleanup cleanup = new Cleanup();
    /** What the stand-in resolver answers for NAME now; null = the lookup fails. */
    private final AtomicReference<List<InetAddress>> records = new AtomicReference<>();
    private final AtomicInteger lookups = new AtomicInteger();


    private List<InetAddress> resolve(String host) throws IOException {
        lookups.incrementAndGet();
        List<InetAddress> now = records.get();
        if (!host.equals(NAME) || now == null) {
            throw new UnknownHostException(host);
        }
        return now;
    }

    @Test
    void membersFollowTheRecordsAndOneThatLeavesFinishesItsRequest() throws Exception {
        CountDownLatch releaseSlow = new CountDownLatch(1);
        TestBackend[] members = twoMembersOnOnePort(releaseSlow);
        TestBackend first = members[0];
        TestBackend second = members[1];
        InetAddress firstAddress = InetAddress.getByName("127.0.0.2");
        InetAddress secondAddress = InetAddress.getByName("127.0.0.3");
        records.set(List.of(firstAddress));
        ProxyHarness proxy = cleanup.track(ProxyHarness.start(dir, 1,
                "[{\"address\": \"" + NAME + ":" + first.port() + "\", \"resolve\": \"dns\", \"resolve_interval\": \"1s\","
                        + " \"weight\": 3}]", "", i -> RequestListener.NONE, this::resolve));

        // Resolved before listening: the first request already has a member.
        assertThat(cleanup.track(proxy.client()).get("/one").bodyText()).isEqualTo("127.0.0.2");
        assertThat(names(proxy)).containsExactly(NAME + ":" + first.port() + "@127.0.0.2");
        assertThat(proxy.proxy.routing().current().backends()).allSatisfy(b -> assertThat(b.spec().weight()).isEqualTo(3));

        // A second record appears: it becomes a member within about one interval.
        records.set(List.of(secondAddress, firstAddress));
        awaitCondition(() -> names(proxy).size() == 2, 5);
        Set<String> servedBy = new HashSet<>();
        for (int i = 0; i < 20 && servedBy.size() < 2; i++) {
            try (RawClient client = proxy.client()) {
                servedBy.add(client.get("/spread").bodyText());
            }
        }
        assertThat(servedBy).containsExactlyInAnyOrder("127.0.0.2", "127.0.0.3");

        // A request in flight on the first member, which then leaves the records.
        RawClient slow = cleanup.track(proxy.client()).send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
        awaitCondition(() -> first.inProgress.get() == 1, 5);
        records.set(List.of(secondAddress));
        awaitCondition(() -> names(proxy).size() == 1, 5);
        assertThat(names(proxy)).containsExactly(NAME + ":" + first.port() + "@127.0.0.3");
        releaseSlow.countDown();
        assertThat(slow.response().bodyText()).as("the leaving member finishes what it has").isEqualTo("127.0.0.2");
        int firstServed = first.requests.get();
        for (int i = 0; i < 5; i++) {
            try (RawClient client = proxy.client()) {
                assertThat(client.get("/after").bodyText()).isEqualTo("127.0.0.3");
            }
        }
        assertThat(first.requests.get()).isEqualTo(firstServed);
        awaitCondition(() -> inflight(proxy) == 0, 5);
        // Its pooled keep-alive connections are closed, not left to time out.
        awaitCondition(() -> first.openConnections() == 0, 5);

        // DNS fails: the last good set stays.
        records.set(null);
        int before = lookups.get();
        awaitCondition(() -> lookups.get() >= before + 2, 5);
        assertThat(names(proxy)).containsExactly(NAME + ":" + first.port() + "@127.0.0.3");
        try (RawClient client = proxy.client()) {
            assertThat(client.get("/still").bodyText()).isEqualTo("127.0.0.3");
        }
        assertThat(second.requests.get()).isPositive();
    }

    @Test
    void aNameThatDoesNotResolveAtStartGives503UntilItDoes() throws Exception {
        TestBackend member = cleanup.track(new TestBackend("late", (request, in, out, socket) -> TestBackend.respond(out, 200, "late"),
                new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0)));
        records.set(null);
        ProxyHarness proxy = cleanup.track(ProxyHarness.start(dir, 1,
                "[{\"address\": \"" + NAME + ":" + member.port() + "\", \"resolve\": \"dns\", \"resolve_interval\": \"1s\"}]",
                "", i -> RequestListener.NONE, this::resolve));
        assertThat(cleanup.track(proxy.client()).get("/").status()).isEqualTo(503);
        records.set(List.of(InetAddress.getByName("127.0.0.2")));
        awaitCondition(() -> names(proxy).size() == 1, 5);
        assertThat(cleanup.track(proxy.client()).get("/").bodyText()).isEqualTo("late");
    }

    /** Two members on one port, at 127.0.0.2 and 127.0.0.3, answering with their own address. */
    private TestBackend[] twoMembersOnOnePort(CountDownLatch releaseSlow) throws Exception {
        TestBackend.Handler handler = (request, in, out, socket) -> {
            if (request.target().equals("/slow")) {
                try {
                    releaseSlow.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            TestBackend.respond(out, 200, socket.getLocalAddress().getHostAddress());
        };
        for (int attempt = 0; attempt < 10; attempt++) {
            TestBackend first = cleanup.track(new TestBackend("first", handler, new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0)));
            try (ServerSocket probe = new ServerSocket()) {
                probe.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.3"), first.port()));
            } catch (IOException taken) {
                continue; // the port is in use on 127.0.0.3: try another
            }
            TestBackend second = cleanup.track(new TestBackend("second", handler,
                    new InetSocketAddress(InetAddress.getByName("127.0.0.3"), first.port())));
            return new TestBackend[] {first, second};
        }
        throw new AssertionError("no port free on both 127.0.0.2 and 127.0.0.3 in 10 tries");
    }

    private static List<String> names(ProxyHarness proxy) {
        return proxy.proxy.routing().current().backends().stream().map(b -> b.spec().hostPort()).toList();
    }

    private static int inflight(ProxyHarness proxy) {
        return proxy.proxy.routing().current().backends().stream().mapToInt(Backend::inflight).sum();
    }

    private static void awaitCondition(BooleanSupplier condition, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("condition not met within " + seconds + " s");
            }
            Thread.sleep(20);
        }
    }
}
