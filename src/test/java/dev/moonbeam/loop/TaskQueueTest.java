package dev.moonbeam.loop;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TaskQueueTest {

    /** Counts wakeups instead of touching a selector. */
    private static final class WakeupCounter implements Runnable {
        final AtomicInteger count = new AtomicInteger();

        @Override
        public void run() {
            count.incrementAndGet();
        }
    }

    @Test
    void localPostsRunFirstWithoutWakeupsAndKeepTheLoopFromBlocking() {
        WakeupCounter wakeup = new WakeupCounter();
        TaskQueue queue = new TaskQueue(wakeup);
        java.util.List<String> ran = new java.util.ArrayList<>();
        queue.post(() -> ran.add("cross-thread"));
        queue.postLocal(() -> ran.add("local 1"));
        queue.postLocal(() -> {
            ran.add("local 2");
            queue.postLocal(() -> ran.add("posted while draining")); // next round, not this one
        });
        assertThat(queue.beginSelect()).as("pending local tasks: selectNow, not select").isFalse();
        assertThat(queue.runAll()).isEqualTo(3);
        assertThat(ran).containsExactly("local 1", "local 2", "cross-thread");
        assertThat(queue.hasPending()).isTrue();
        assertThat(queue.runAll()).isEqualTo(1);
        assertThat(ran).endsWith("posted while draining");
        assertThat(queue.hasPending()).isFalse();
        assertThat(wakeup.count.get()).isZero();
    }

    @Test
    void postWhileLoopIsRunningDoesNotWake() {
        WakeupCounter wakeup = new WakeupCounter();
        TaskQueue queue = new TaskQueue(wakeup);
        queue.post(() -> {});
        queue.post(() -> {});
        assertThat(wakeup.count).hasValue(0);
        assertThat(queue.hasPending()).isTrue();
        assertThat(queue.runAll()).isEqualTo(2);
        assertThat(queue.hasPending()).isFalse();
    }

    @Test
    void firstPostDuringSelectWakesOnceNoStorm() {
        WakeupCounter wakeup = new WakeupCounter();
        TaskQueue queue = new TaskQueue(wakeup);
        assertThat(queue.beginSelect()).as("empty queue: may block").isTrue();
        for (int i = 0; i < 100; i++) {
            queue.post(() -> {});
        }
        assertThat(wakeup.count).hasValue(1);
        queue.endSelect();
        assertThat(queue.runAll()).isEqualTo(100);

        assertThat(queue.beginSelect()).isTrue();
        queue.post(() -> {});
        assertThat(wakeup.count).as("one wakeup per select round").hasValue(2);
        assertThat(queue.wakeupCount()).isEqualTo(2);
    }

    @Test
    void postAfterSelectEndedDoesNotWake() {
        WakeupCounter wakeup = new WakeupCounter();
        TaskQueue queue = new TaskQueue(wakeup);
        queue.beginSelect();
        queue.endSelect();
        queue.post(() -> {});
        assertThat(wakeup.count).hasValue(0);
    }

    @Test
    void pendingTaskMeansDoNotBlock() {
        WakeupCounter wakeup = new WakeupCounter();
        TaskQueue queue = new TaskQueue(wakeup);
        queue.post(() -> {});
        assertThat(queue.beginSelect()).as("task waiting: selectNow").isFalse();
        queue.post(() -> {});
        assertThat(wakeup.count).as("loop is not blocking, no wakeup needed").hasValue(0);
    }

    @ParameterizedTest(name = "{0} tasks, bound {1} -> rounds {2}")
    @CsvSource({
        "0, 4, ''",
        "3, 4, '3'",
        "4, 4, '4'",
        "10, 4, '4 4 2'",
        "5, 1, '1 1 1 1 1'",
    })
    void drainIsBoundedPerRound(int tasks, int bound, String expectedRounds) {
        TaskQueue queue = new TaskQueue(() -> {}, bound);
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < tasks; i++) {
            int id = i;
            queue.post(() -> order.add(id));
        }
        List<String> rounds = new ArrayList<>();
        for (int round = 0; round < tasks + 1; round++) {
            int ran = queue.runAll();
            if (ran == 0) {
                break;
            }
            rounds.add(Integer.toString(ran));
        }
        assertThat(String.join(" ", rounds)).isEqualTo(expectedRounds);
        assertThat(order).isSorted().hasSize(tasks);
    }

    @Test
    void selfRepostingTaskCannotStarveTheLoop() {
        TaskQueue queue = new TaskQueue(() -> {}, 8);
        AtomicInteger runs = new AtomicInteger();
        Runnable[] task = new Runnable[1];
        task[0] = () -> {
            runs.incrementAndGet();
            queue.post(task[0]);
        };
        queue.post(task[0]);
        assertThat(queue.runAll()).isEqualTo(8);
        assertThat(queue.hasPending()).isTrue();
    }

    @Test
    void throwingTaskIsLoggedAndTheRestRun() {
        TaskQueue queue = new TaskQueue(() -> {});
        List<String> ran = new ArrayList<>();
        queue.post(() -> ran.add("a"));
        queue.post(() -> {
            throw new IllegalStateException("expected by test: broken task");
        });
        queue.post(() -> ran.add("c"));
        assertThat(queue.runAll()).isEqualTo(3);
        assertThat(ran).containsExactly("a", "c");
        assertThat(queue.failedTasks()).isEqualTo(1);
    }

    /**
     * Several producers post to a loop that blocks in a real {@link Selector} (no channels, no
     * network): every task runs exactly once, and wakeups never exceed the number of select rounds.
     */
    @Test
    void manyProducersEveryTaskRunsExactlyOnce() throws Exception {
        int producers = 4;
        int perProducer = 20_000;
        int[] runs = new int[producers * perProducer]; // written by the loop (this) thread only
        try (Selector selector = Selector.open()) {
            TaskQueue queue = new TaskQueue(selector::wakeup, 256);
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
                int base = p * perProducer;
                Thread thread = new Thread(() -> {
                    awaitQuietly(start);
                    for (int i = 0; i < perProducer; i++) {
                        int id = base + i;
                        queue.post(() -> runs[id]++);
                        if (i % 1000 == 0) {
                            Thread.yield(); // let the loop block now and then, to exercise wakeups
                        }
                    }
                }, "producer-" + p);
                thread.setDaemon(true);
                threads.add(thread);
                thread.start();
            }
            start.countDown();

            long total = 0;
            long rounds = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (total < runs.length && System.nanoTime() - deadline < 0) {
                rounds++;
                if (queue.beginSelect()) {
                    selector.select(100);
                } else {
                    selector.selectNow();
                }
                queue.endSelect();
                total += queue.runAll();
            }
            for (Thread thread : threads) {
                thread.join(TimeUnit.SECONDS.toMillis(5));
                assertThat(thread.isAlive()).isFalse();
            }
            total += queue.runAll();

            assertThat(total).isEqualTo(runs.length);
            for (int i = 0; i < runs.length; i++) {
                if (runs[i] != 1) {
                    assertThat(runs[i]).as("runs of task %d", i).isEqualTo(1);
                }
            }
            assertThat(queue.hasPending()).isFalse();
            assertThat(queue.wakeupCount()).as("at most one wakeup per round").isLessThanOrEqualTo(rounds);
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
