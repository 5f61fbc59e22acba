package dev.moonbeam.balance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.moonbeam.loop.Allocations;
import dev.moonbeam.loop.FakeClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LeastConnectionsTest {
    private static final long NOW = 42;

    /**
     * Backends as {@code inflight/weight}, {@code !} marks one unavailable; {@code avoid} is an index
     * or -1; expected is every index a pick may return (ties rotate, so over n picks each of the
     * tied ones must come up), or {@code none}.
     */
    @ParameterizedTest(name = "[{index}] {0} avoid {1} -> {2}")
    @CsvSource(delimiter = ';', value = {
        "0/1 0/1 0/1;        -1; 0|1|2",
        "3/1 1/1 2/1;        -1; 1",
        "0/1 5/1 0/1!;       -1; 0",
        "1/1 1/2;            -1; 1",         // (1+1)/2 < (1+1)/1
        "2/2 1/1;            -1; 0",         // 3/2 < 2/1
        "1/2 0/1;            -1; 0|1",       // 2/2 == 1/1: a tie
        "0/1 0/3;            -1; 1",         // idle heavy beats idle light
        "4/1 14/3 24/5;      -1; 0|1|2",     // 5/1 == 15/3 == 25/5: a three-way tie
        "5/1 14/3 24/5;      -1; 1|2",
        "1000000/256 3910/1; -1; 0",         // large products, no overflow
        "0/1! 0/1!;          -1; none",      // all down: 503
        "0/1 9/1;             0; 1",         // avoided never returned while another is up
        "0/1 9/1 9/1;         0; 1|2",
        "0/1 0/1!;            0; 0",         // ...but is the last resort
        "0/1! 0/1!;           0; none",
        "0/1! 3/1;            0; 1",
    })
    void picksLeastLoadedRelativeToWeight(String backends, int avoid, String expected) {
        List<Backend> list = parse(backends);
        LeastConnections balancer = new LeastConnections(list);
        Backend avoided = avoid < 0 ? null : list.get(avoid);
        TreeSet<String> picked = new TreeSet<>();
        for (int i = 0; i < 2 * list.size(); i++) {
            Backend pick = balancer.pick(NOW, avoided);
            picked.add(pick == null ? "none" : Integer.toString(list.indexOf(pick)));
        }
        assertThat(String.join("|", picked)).isEqualTo(expected);
    }

    @Test
    void noBackendsPicksNull() {
        assertThat(new LeastConnections(List.of()).pick(NOW, null)).isNull();
        assertThat(new LeastConnections(List.of()).pickAndAcquire(NOW, null)).isNull();
    }

    @Test
    void pickDoesNotAcquireButPickAndAcquireDoes() {
        List<Backend> list = Backends.equal(2);
        LeastConnections balancer = new LeastConnections(list);
        balancer.pick(NOW, null);
        assertThat(list).allMatch(b -> b.inflight() == 0);
        Backend acquired = balancer.pickAndAcquire(NOW, null);
        assertThat(acquired.inflight()).isEqualTo(1);
    }

    @Test
    void equalBackendsShareEvenlyWhenRequestsFinishAtOnce() {
        List<Backend> list = Backends.equal(4);
        LeastConnections balancer = new LeastConnections(list);
        int[] picks = new int[4];
        for (int i = 0; i < 10_000; i++) {
            Backend b = balancer.pickAndAcquire(NOW, null);
            picks[list.indexOf(b)]++;
            b.release();
        }
        // Every pick is a 4-way tie; the rotating start shares them exactly.
        assertThat(picks).containsExactly(2500, 2500, 2500, 2500);
    }

    @Test
    void equalBackendsShareWithinAFewPercentUnderRandomCompletion() {
        List<Backend> list = Backends.equal(4);
        LeastConnections balancer = new LeastConnections(list);
        Random random = new Random(7);
        List<Backend> held = new ArrayList<>();
        int[] picks = new int[4];
        for (int i = 0; i < 10_000; i++) {
            Backend b = balancer.pickAndAcquire(NOW, null);
            picks[list.indexOf(b)]++;
            held.add(b);
            if (held.size() > 16) {
                held.remove(random.nextInt(held.size())).release();
            }
        }
        for (int count : picks) {
            assertThat(count).isBetween(2375, 2625); // 2500 +- 5 %
        }
    }

    @Test
    void weightTwoToOneCarriesTwiceTheInflight() {
        Backend heavy = Backends.backend(9000, 2);
        Backend light = Backends.backend(9001, 1);
        LeastConnections balancer = new LeastConnections(List.of(light, heavy));
        List<Backend> held = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            held.add(balancer.pickAndAcquire(NOW, null));
        }
        assertThat(heavy.inflight()).isEqualTo(200);
        assertThat(light.inflight()).isEqualTo(100);

        // Steady state: random requests finish, new ones arrive; the 2:1 split holds.
        Random random = new Random(11);
        for (int i = 0; i < 5_000; i++) {
            held.remove(random.nextInt(held.size())).release();
            held.add(balancer.pickAndAcquire(NOW, null));
            assertThat(heavy.inflight()).isBetween(198, 202);
        }
    }

    /** Round robin would send every other request to the backend stuck with slow requests. */
    @Test
    void slowBackendHoldingRequestsGetsNoNewOnes() {
        Backend slow = Backends.backend(9000, 1);
        Backend fast = Backends.backend(9001, 1);
        Backends.acquire(slow, 50);
        LeastConnections balancer = new LeastConnections(List.of(slow, fast));
        int toSlow = 0;
        for (int i = 0; i < 100; i++) {
            Backend b = balancer.pickAndAcquire(NOW, null);
            if (b == slow) {
                toSlow++;
            }
            b.release();
        }
        assertThat(toSlow).as("round robin would give 50").isZero();

        // Without releases the fast one fills up to the slow one's level first.
        for (int i = 0; i < 50; i++) {
            assertThat(balancer.pickAndAcquire(NOW, null)).isSameAs(fast);
        }
    }

    @Test
    void backedOffBackendIsSkippedUntilItsBackoffEnds() {
        FakeClock clock = new FakeClock();
        List<Backend> list = Backends.equal(2);
        LeastConnections balancer = new LeastConnections(list);
        list.get(0).markFailed(clock.nanoTime());
        for (int i = 0; i < 10; i++) {
            assertThat(balancer.pick(clock.nanoTime(), null)).isSameAs(list.get(1));
        }
        clock.advance(Duration.ofSeconds(1));
        TreeSet<Integer> picked = new TreeSet<>();
        for (int i = 0; i < 4; i++) {
            picked.add(list.indexOf(balancer.pick(clock.nanoTime(), null)));
        }
        assertThat(picked).containsExactly(0, 1);
    }

    @Test
    void concurrentPickersLeaveNoInflightAndShareTheLoad() throws Exception {
        List<Backend> list = Backends.equal(3);
        LeastConnections balancer = new LeastConnections(list);
        int threads = 4;
        int perThread = 30_000;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread worker = new Thread(() -> {
                try {
                    start.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < perThread; i++) {
                    balancer.pickAndAcquire(System.nanoTime(), null).release();
                }
            });
            worker.setDaemon(true);
            workers.add(worker);
            worker.start();
        }
        start.countDown();
        for (Thread worker : workers) {
            worker.join(TimeUnit.SECONDS.toMillis(20));
            assertThat(worker.isAlive()).isFalse();
        }
        long total = (long) threads * perThread;
        assertThat(list).allSatisfy(b -> assertThat(b.inflight()).isZero());
        assertThat(list.stream().mapToLong(Backend::requestCount).sum()).isEqualTo(total);
        // Only a loose share bound: a picker thread preempted while holding a request really does
        // make that backend busier, so least connections rightly sends the others elsewhere.
        assertThat(list).allSatisfy(b -> assertThat(b.requestCount()).isGreaterThan(total / 20));
    }

    @Test
    void pickingAllocatesNothing() {
        assumeTrue(Allocations.supported(), "thread allocation counter not available");
        List<Backend> list = Backends.equal(8);
        LeastConnections balancer = new LeastConnections(list);
        Backend avoid = list.get(3);
        churn(balancer, avoid, 10_000);
        long before = Allocations.allocatedBytes();
        churn(balancer, avoid, 100_000);
        assertThat(Allocations.allocatedBytes() - before).isLessThan(4096);
    }

    private static void churn(LeastConnections balancer, Backend avoid, int picks) {
        for (int i = 0; i < picks; i++) {
            Backend b = balancer.pickAndAcquire(i, avoid);
            if ((i & 1) == 0) {
                b.release();
            }
        }
        for (int i = 0; i < picks; i++) {
            balancer.pick(i, null).release();
        }
    }

    private static List<Backend> parse(String backends) {
        List<Backend> list = new ArrayList<>();
        int port = 9000;
        for (String item : backends.trim().split("\\s+")) {
            boolean down = item.endsWith("!");
            String[] parts = item.replace("!", "").split("/");
            Backend backend = Backends.backend(port++, Integer.parseInt(parts[1]));
            Backends.acquire(backend, Integer.parseInt(parts[0]));
            if (down) {
                backend.markAdminDown();
            }
            list.add(backend);
        }
        return list;
    }
}
