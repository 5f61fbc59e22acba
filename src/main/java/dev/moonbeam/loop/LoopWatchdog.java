package dev.moonbeam.loop;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Reports an event loop stuck in one round. A handler that blocks or spins (a slow disk under a
 * log file, a bug) stalls every connection on its loop, and nothing else would say so. A daemon
 * thread looks at every loop several times per threshold; a round busy for longer than the
 * threshold is logged once, as a warning with the loop thread's stack (where it is stuck), and
 * counted; when the loop turns again, that is logged too. The loops pay one clock read and two
 * volatile writes per round for this (see {@link EventLoop#busySinceNanos}), nothing per request.
 * Like HAProxy's {@code warn-blocked-traffic-after}, it reports and does not kill: a stuck loop
 * may still finish its round, and killing the process would drop every other loop's clients.
 */
public final class LoopWatchdog implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(LoopWatchdog.class.getName());
    private static final int MAX_STACK_FRAMES = 32;
    private static final long MIN_PERIOD_NANOS = 10_000_000L;
    private static final long OFF_PERIOD_NANOS = 1_000_000_000L;

    private final List<EventLoop> loops;
    /** Per loop: the busy-since stamp of the round last reported as stalled, 0 when none is open. */
    private final long[] reported;
    private final AtomicLongArray stalls;
    private final Thread thread;
    private volatile long thresholdNanos;
    private volatile boolean running = true;

    /** @param threshold how long one round may run before it is reported; zero: watch nothing */
    public LoopWatchdog(List<EventLoop> loops, Duration threshold) {
        this.loops = List.copyOf(loops);
        this.reported = new long[this.loops.size()];
        this.stalls = new AtomicLongArray(this.loops.size());
        threshold(threshold);
        this.thread = new Thread(this::run, "moonbeam-watchdog");
        thread.setDaemon(true);
    }

    /** Takes effect at the next look; zero switches the reports off (a reload may change it). */
    public void threshold(Duration threshold) {
        if (threshold.isNegative()) {
            throw new IllegalArgumentException("threshold must not be negative");
        }
        thresholdNanos = threshold.toNanos();
    }

    public LoopWatchdog start() {
        thread.start();
        return this;
    }

    /** Rounds of the loop at {@code index} (in the order given) that ran past the threshold. */
    public long stalls(int index) {
        return stalls.get(index);
    }

    private void run() {
        while (running) {
            long threshold = thresholdNanos;
            // At most a second, so that a reload's new threshold takes effect soon.
            long period = threshold == 0 ? OFF_PERIOD_NANOS
                    : Math.min(OFF_PERIOD_NANOS, Math.max(MIN_PERIOD_NANOS, threshold / 4));
            try {
                Thread.sleep(period / 1_000_000);
            } catch (InterruptedException e) {
                return;
            }
            check(System.nanoTime());
        }
    }

    /** One look at every loop at time {@code now} (System.nanoTime). */
    void check(long now) {
        long threshold = thresholdNanos;
        for (int i = 0; i < loops.size(); i++) {
            EventLoop loop = loops.get(i);
            long busySince = loop.busySinceNanos();
            if (reported[i] != 0 && busySince != reported[i]) {
                LOG.log(System.Logger.Level.WARNING, loop.name() + " is turning again; its stalled round lasted "
                        + millis(now - reported[i]) + " ms or a little less");
                reported[i] = 0;
            }
            if (threshold != 0 && busySince != 0 && reported[i] == 0 && now - busySince > threshold) {
                reported[i] = busySince;
                stalls.incrementAndGet(i);
                LOG.log(System.Logger.Level.WARNING, loop.name() + " has been busy in one round for " + millis(now - busySince)
                        + " ms (loop_stall_warning " + millis(threshold) + " ms): its connections wait meanwhile."
                        + " Its thread is at:" + stack(loop.thread()));
            }
        }
    }

    private static long millis(long nanos) {
        return nanos / 1_000_000;
    }

    private static String stack(Thread thread) {
        StackTraceElement[] frames = thread.getStackTrace();
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < Math.min(frames.length, MAX_STACK_FRAMES); i++) {
            text.append("\n\tat ").append(frames[i]);
        }
        if (frames.length > MAX_STACK_FRAMES) {
            text.append("\n\t... ").append(frames.length - MAX_STACK_FRAMES).append(" more");
        }
        return text.toString();
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}
