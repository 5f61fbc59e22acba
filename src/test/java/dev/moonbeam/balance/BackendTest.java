package dev.moonbeam.balance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.moonbeam.loop.FakeClock;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class BackendTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    @ParameterizedTest(name = "weight {0} valid={1}")
    @CsvSource({"0, false", "1, true", "100, true", "256, true", "257, false", "-3, false"})
    void weightMustBeOneTo256(int weight, boolean valid) {
        if (valid) {
            assertThat(Backends.spec(8080, weight).weight()).isEqualTo(weight);
        } else {
            assertThatThrownBy(() -> Backends.spec(8080, weight))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("weight");
        }
    }

    @Test
    void unresolvedAddressIsRejected() {
        assertThatThrownBy(() -> new BackendSpec("app:80", InetSocketAddress.createUnresolved("app", 80), 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("resolved");
    }

    @Test
    void releaseNeverGoesBelowZero() {
        Backend backend = Backends.backend(8080, 1);
        assertThat(backend.release()).isFalse();
        assertThat(backend.inflight()).isZero();
        backend.acquire();
        backend.acquire();
        assertThat(backend.inflight()).isEqualTo(2);
        assertThat(backend.release()).isTrue();
        assertThat(backend.release()).isTrue();
        assertThat(backend.release()).as("double release").isFalse();
        assertThat(backend.inflight()).isZero();
        assertThat(backend.requestCount()).isEqualTo(2);
    }

    @Test
    void concurrentAcquireReleaseEndsAtZero() throws Exception {
        Backend backend = Backends.backend(8080, 1);
        int threads = 6;
        int perThread = 50_000;
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
                    backend.acquire();
                    if (backend.inflight() <= 0) {
                        throw new AssertionError("in-flight must be positive while held");
                    }
                    backend.release();
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
        assertThat(backend.inflight()).isZero();
        assertThat(backend.requestCount()).isEqualTo((long) threads * perThread);
    }

    @ParameterizedTest(name = "{0} failures in a row -> {1} ms")
    @CsvSource({"0, 0", "1, 1000", "2, 2000", "3, 4000", "4, 8000", "5, 16000", "6, 30000", "7, 30000",
        "40, 30000", "2147483647, 30000"})
    void backoffDoublesUpToThirtySeconds(int failures, long millis) {
        assertThat(Backend.backoffNanos(failures)).isEqualTo(TimeUnit.MILLISECONDS.toNanos(millis));
    }

    @ParameterizedTest(name = "clock starting at {0}")
    @ValueSource(longs = {0L, Long.MAX_VALUE - 3_000_000_000L})
    void passiveBackoffProgressionWithFakeClock(long start) {
        FakeClock clock = new FakeClock(start);
        Backend backend = Backends.backend(8080, 1);
        assertThat(backend.isAvailable(clock.nanoTime())).isTrue();

        backend.markFailed(clock.nanoTime());
        assertThat(backend.isAvailable(clock.nanoTime())).isFalse();
        clock.advance(Duration.ofMillis(999));
        assertThat(backend.isAvailable(clock.nanoTime())).as("still in 1 s back-off").isFalse();
        clock.advance(Duration.ofMillis(1));
        assertThat(backend.isAvailable(clock.nanoTime())).as("1 s back-off over").isTrue();

        backend.markFailed(clock.nanoTime()); // the probe failed: 2 s
        assertThat(backend.consecutiveFailures()).isEqualTo(2);
        clock.advance(Duration.ofMillis(500));
        backend.markFailed(clock.nanoTime()); // a request already in flight: no escalation
        assertThat(backend.consecutiveFailures()).isEqualTo(2);
        clock.advance(Duration.ofMillis(1499));
        assertThat(backend.isAvailable(clock.nanoTime())).isFalse();
        clock.advance(Duration.ofMillis(1));
        assertThat(backend.isAvailable(clock.nanoTime())).as("2 s back-off over").isTrue();

        backend.markFailed(clock.nanoTime()); // 4 s
        clock.advance(Duration.ofSeconds(4));
        assertThat(backend.isAvailable(clock.nanoTime())).isTrue();
        backend.markSucceeded();
        assertThat(backend.consecutiveFailures()).isZero();

        backend.markFailed(clock.nanoTime()); // reset: 1 s again
        clock.advance(Duration.ofSeconds(1));
        assertThat(backend.isAvailable(clock.nanoTime())).isTrue();
        assertThat(backend.failureCount()).isEqualTo(5);
    }

    @Test
    void successDuringBackoffEndsIt() {
        Backend backend = Backends.backend(8080, 1);
        backend.markFailed(0);
        assertThat(backend.isAvailable(SECOND / 2)).isFalse();
        backend.markSucceeded(); // a request that was in flight got its response after all
        assertThat(backend.isAvailable(SECOND / 2)).isTrue();
    }

    @ParameterizedTest(name = "admin={0} active={1} failed={2} -> available={3}")
    @CsvSource({
        "false, false, false, true",
        "true,  false, false, false",
        "false, true,  false, false",
        "false, false, true,  false",
        "true,  true,  true,  false",
    })
    void availabilityCombinesAllThreeConditions(boolean admin, boolean active, boolean failed, boolean available) {
        Backend backend = Backends.backend(8080, 1);
        if (admin) {
            backend.markAdminDown();
        }
        if (active) {
            backend.markActiveDown();
        }
        if (failed) {
            backend.markFailed(0);
        }
        assertThat(backend.isAvailable(1)).isEqualTo(available);
    }

    @Test
    void activeUpClearsPassiveBackoffButNotAdminDown() {
        Backend backend = Backends.backend(8080, 1);
        backend.markFailed(0);
        backend.markFailed(SECOND); // 2 s back-off from t=1 s
        backend.markActiveDown();
        backend.markAdminDown();
        backend.markActiveUp();
        assertThat(backend.isAvailable(SECOND)).as("admin still down").isFalse();
        backend.markAdminUp();
        assertThat(backend.isAvailable(SECOND)).as("active check proved it alive").isTrue();
    }
}
