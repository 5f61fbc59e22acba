package dev.moonbeam.balance;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class BackendQueueTest {
    private static Backend limited(int port, int weight, int maxConnections) {
        return new Backend(new BackendSpec("127.0.0.1:" + port,
                new InetSocketAddress(InetAddress.getLoopbackAddress(), port), weight, maxConnections));
    }

    private static BackendQueue queue(List<Backend> backends, int maxWaiting) {
        LeastConnections balancer = new LeastConnections(backends);
        return new BackendQueue(() -> balancer, maxWaiting, TimeUnit.SECONDS.toNanos(5));
    }

    @Test
    void tryAcquireStopsAtTheLimitAndLeastConnectionsSkipsAFullBackend() {
        Backend a = limited(1, 1, 2);
        Backend b = limited(2, 1, 0);
        assertThat(a.tryAcquire()).isTrue();
        assertThat(a.tryAcquire()).isTrue();
        assertThat(a.tryAcquire()).isFalse();
        assertThat(a.inflight()).isEqualTo(2);
        assertThat(a.isFull()).isTrue();
        Backends.acquire(b, 10); // unlimited: busier, but the only one with room
        LeastConnections balancer = new LeastConnections(List.of(a, b));
        assertThat(balancer.acquire(0, null)).isSameAs(b);
        b.markAdminDown();
        assertThat(balancer.acquire(0, null)).as("full and down: nothing has room").isNull();
        assertThat(balancer.anyAvailable(0)).as("but a is up, so the request should wait").isTrue();
        a.markAdminDown();
        assertThat(balancer.anyAvailable(0)).isFalse();
    }

    @Test
    void freedSlotsGoToTicketsInTheOrderTheyJoined() {
        Backend a = limited(1, 1, 1);
        BackendQueue queue = queue(List.of(a), 10);
        assertThat(a.tryAcquire()).isTrue();
        List<String> granted = new ArrayList<>();
        BackendQueue.Ticket first = new BackendQueue.Ticket(() -> granted.add("first"));
        BackendQueue.Ticket second = new BackendQueue.Ticket(() -> granted.add("second"));
        assertThat(queue.enqueue(first)).isEqualTo(BackendQueue.Admission.WAITING);
        assertThat(queue.enqueue(second)).isEqualTo(BackendQueue.Admission.WAITING);
        queue.dispatch(0);
        assertThat(granted).as("no room yet").isEmpty();

        a.release();
        queue.dispatch(0);
        assertThat(granted).containsExactly("first");
        assertThat(queue.claim(first)).isSameAs(a);
        assertThat(queue.claim(first)).as("claimed once").isNull();
        assertThat(a.inflight()).as("the slot was handed over, not freed").isEqualTo(1);
        assertThat(queue.length()).isEqualTo(1);

        a.release();
        queue.dispatch(0);
        assertThat(granted).containsExactly("first", "second");
        assertThat(queue.isEmpty()).isTrue();
    }

    @Test
    void pastMaxWaitingATicketIsRefusedAndCountedAndZeroMeansNoQueue() {
        BackendQueue queue = queue(List.of(limited(1, 1, 1)), 1);
        assertThat(queue.enqueue(new BackendQueue.Ticket(() -> { }))).isEqualTo(BackendQueue.Admission.WAITING);
        assertThat(queue.enqueue(new BackendQueue.Ticket(() -> { }))).isEqualTo(BackendQueue.Admission.FULL);
        assertThat(queue.overflowCount()).isEqualTo(1);
        queue.configure(0, TimeUnit.SECONDS.toNanos(5));
        assertThat(queue.enqueue(new BackendQueue.Ticket(() -> { }))).isEqualTo(BackendQueue.Admission.FULL);
        assertThat(queue.length()).as("a smaller limit keeps who already waits").isEqualTo(1);
    }

    @Test
    void aCancelledTicketLeavesTheLineAndACancelAfterTheGrantSaysSo() {
        Backend a = limited(1, 1, 1);
        BackendQueue queue = queue(List.of(a), 10);
        a.tryAcquire();
        AtomicInteger grants = new AtomicInteger();
        BackendQueue.Ticket leaving = new BackendQueue.Ticket(grants::incrementAndGet);
        BackendQueue.Ticket staying = new BackendQueue.Ticket(grants::incrementAndGet);
        queue.enqueue(leaving);
        queue.enqueue(staying);
        assertThat(queue.cancel(leaving)).isTrue();
        assertThat(queue.length()).isEqualTo(1);
        a.release();
        queue.dispatch(0);
        assertThat(grants.get()).isEqualTo(1);
        assertThat(queue.cancel(staying)).as("granted already: the caller must claim and pass the slot on").isFalse();
        assertThat(queue.claim(staying)).isSameAs(a);
        assertThat(queue.claim(leaving)).isNull();
        // A ticket is reusable once it has left the line.
        assertThat(queue.enqueue(leaving)).isEqualTo(BackendQueue.Admission.WAITING);
    }

    @Test
    void manyThreadsNeverTakeALimitedBackendPastItsLimitAndEveryTicketIsServed() throws Exception {
        Backend a = limited(1, 1, 2);
        Backend b = limited(2, 3, 3);
        BackendQueue queue = queue(List.of(a, b), 100_000);
        LeastConnections balancer = new LeastConnections(List.of(a, b));
        int threads = 4;
        int perThread = 2_000;
        AtomicInteger mostA = new AtomicInteger();
        AtomicInteger mostB = new AtomicInteger();
        AtomicInteger served = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread worker = new Thread(() -> {
                // Each thread plays an event loop: its own grants arrive through its own inbox.
                ConcurrentLinkedQueue<BackendQueue.Ticket> inbox = new ConcurrentLinkedQueue<>();
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < perThread; i++) {
                    Backend slot = queue.isEmpty() ? balancer.acquire(System.nanoTime(), null) : null;
                    if (slot == null) {
                        BackendQueue.Ticket[] self = new BackendQueue.Ticket[1];
                        self[0] = new BackendQueue.Ticket(() -> inbox.add(self[0]));
                        queue.enqueue(self[0]);
                        queue.dispatch(System.nanoTime());
                        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                        while (inbox.poll() == null && System.nanoTime() < deadline) {
                            queue.dispatch(System.nanoTime());
                            Thread.onSpinWait();
                        }
                        slot = queue.claim(self[0]);
                        if (slot == null) {
                            return; // not served in time: the assertion on `served` below fails
                        }
                    }
                    mostA.accumulateAndGet(a.inflight(), Math::max);
                    mostB.accumulateAndGet(b.inflight(), Math::max);
                    served.incrementAndGet();
                    slot.release();
                    queue.dispatch(System.nanoTime());
                }
            });
            workers.add(worker);
            worker.start();
        }
        start.countDown();
        for (Thread worker : workers) {
            worker.join(TimeUnit.SECONDS.toMillis(60));
        }
        assertThat(served.get()).isEqualTo(threads * perThread);
        assertThat(mostA.get()).isLessThanOrEqualTo(2);
        assertThat(mostB.get()).isLessThanOrEqualTo(3);
        assertThat(a.inflight() + b.inflight()).isZero();
        assertThat(queue.length()).isZero();
    }
}
