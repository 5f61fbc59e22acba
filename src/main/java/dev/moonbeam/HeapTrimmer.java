package dev.moonbeam;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * Gives memory back after a crowd has gone. Thousands of connections at once grow the Java heap
 * (and the collector keeps what it grew: nothing shrinks it while the old generation is quiet,
 * since only a full collection shrinks the heap). When the open client connections have fallen
 * to a quarter of a peak of at least {@link #MIN_PEAK} and stayed there for two checks, one full
 * collection runs, off the loops, so the heap shrinks to what is live (the launcher's
 * {@code -XX:MaxHeapFreeRatio} says how far). Like HAProxy trimming its pools after a spike: once
 * per spike, never periodically, so a steady load never pays for it. The pause (tens of
 * milliseconds on a heap of a few MB live) lands when little traffic is left to notice it.
 */
final class HeapTrimmer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(HeapTrimmer.class.getName());
    static final int MIN_PEAK = 2000;
    private static final long CHECK_MILLIS = 5000;

    private final IntSupplier openConnections;
    private final CountDownLatch stop = new CountDownLatch(1);
    private final Thread thread;
    private int peak;
    private int lowChecks;

    HeapTrimmer(IntSupplier openConnections) {
        this.openConnections = openConnections;
        this.thread = new Thread(this::run, "heap-trimmer");
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    private void run() {
        try {
            while (!stop.await(CHECK_MILLIS, TimeUnit.MILLISECONDS)) {
                check(openConnections.getAsInt());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One check; true when it trimmed. Package-private for tests. */
    boolean check(int open) {
        if (open > peak) {
            peak = open;
            lowChecks = 0;
            return false;
        }
        if (peak < MIN_PEAK || open > peak / 4) {
            lowChecks = 0;
            return false;
        }
        if (++lowChecks < 2) {
            return false;
        }
        Runtime runtime = Runtime.getRuntime();
        long before = runtime.totalMemory();
        long started = System.nanoTime();
        System.gc();
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        long after = runtime.totalMemory();
        int was = peak;
        LOG.log(System.Logger.Level.INFO, () -> "client connections fell from " + was + " to " + open
                + ": trimmed the heap from " + before / (1024 * 1024) + " to " + after / (1024 * 1024)
                + " MB committed (one full collection, " + millis + " ms)");
        peak = open;
        lowChecks = 0;
        return true;
    }

    @Override
    public void close() {
        stop.countDown();
    }
}
