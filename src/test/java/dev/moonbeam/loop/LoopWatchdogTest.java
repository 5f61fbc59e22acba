package dev.moonbeam.loop;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A real loop, a real watchdog thread; the stalls are real sleeps on the loop thread. */
class LoopWatchdogTest {
    private final Logger logger = Logger.getLogger(LoopWatchdog.class.getName());
    private final List<String> warnings = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                warnings.add(record.getMessage());
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private EventLoop loop;
    private LoopWatchdog watchdog;

    @BeforeEach
    void startLoop() throws Exception {
        logger.addHandler(capture);
        loop = new EventLoop("loop-under-watch", Clock.SYSTEM, BufferPool.withDefaults());
        loop.start();
    }

    @AfterEach
    void stop() throws Exception {
        if (watchdog != null) {
            watchdog.close();
        }
        loop.shutdown();
        loop.awaitTermination(5, TimeUnit.SECONDS);
        logger.removeHandler(capture);
    }

    @Test
    void aRoundStuckPastTheThresholdIsReportedOnceWithWhereTheLoopIs() throws Exception {
        watchdog = new LoopWatchdog(List.of(loop), Duration.ofMillis(100)).start();
        CountDownLatch done = new CountDownLatch(1);
        loop.execute(() -> {
            stuckInAHandler(700);
            done.countDown();
        });
        assertThat(done.await(5, TimeUnit.SECONDS)).isTrue();
        awaitWarnings(2);

        assertThat(watchdog.stalls(0)).isEqualTo(1);
        assertThat(warnings.get(0)).contains("loop-under-watch has been busy in one round for")
                .contains("stuckInAHandler").contains("Thread.sleep");
        assertThat(warnings.get(1)).contains("loop-under-watch is turning again");
    }

    @Test
    void aLoopWaitingForWorkIsNotStalled() throws Exception {
        watchdog = new LoopWatchdog(List.of(loop), Duration.ofMillis(50)).start();
        Thread.sleep(600); // the loop waits in select all along

        assertThat(watchdog.stalls(0)).isZero();
        assertThat(warnings).isEmpty();
    }

    @Test
    void manyShortRoundsAreNotOneLongOne() throws Exception {
        watchdog = new LoopWatchdog(List.of(loop), Duration.ofMillis(150)).start();
        CountDownLatch done = new CountDownLatch(1);
        // Each piece a timer 1 ms ahead, so each runs in a round of its own (tasks posted by a task
        // would run in the same round).
        Runnable piece = new Runnable() {
            private final Timeout next = new Timeout(this);
            private int rounds;

            @Override
            public void run() {
                stuckInAHandler(30);
                if (++rounds < 20) {
                    loop.timers().schedule(next, System.nanoTime() + 1_000_000);
                } else {
                    done.countDown();
                }
            }
        };
        loop.execute(piece);
        assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
        Thread.sleep(200);

        assertThat(watchdog.stalls(0)).isZero();
        assertThat(warnings).isEmpty();
    }

    @Test
    void aZeroThresholdWatchesNothingUntilSetAgain() throws Exception {
        watchdog = new LoopWatchdog(List.of(loop), Duration.ZERO).start();
        CountDownLatch first = new CountDownLatch(1);
        loop.execute(() -> {
            stuckInAHandler(300);
            first.countDown();
        });
        assertThat(first.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(watchdog.stalls(0)).isZero();

        watchdog.threshold(Duration.ofMillis(50)); // as a reload does
        CountDownLatch second = new CountDownLatch(1);
        loop.execute(() -> {
            stuckInAHandler(1_500); // the watchdog may still sleep its "off" second first
            second.countDown();
        });
        assertThat(second.await(5, TimeUnit.SECONDS)).isTrue();
        awaitWarnings(1);
        assertThat(watchdog.stalls(0)).isEqualTo(1);
    }

    private static void stuckInAHandler(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void awaitWarnings(int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (warnings.size() < count && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(warnings).hasSizeGreaterThanOrEqualTo(count);
    }
}
