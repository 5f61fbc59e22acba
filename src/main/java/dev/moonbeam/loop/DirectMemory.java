package dev.moonbeam.loop;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The process's direct-memory budget ({@code -XX:MaxDirectMemorySize}) as the buffer pools see it.
 *
 * <p>Why: when the budget is used up, {@code ByteBuffer.allocateDirect} does not fail at once. The
 * JDK first runs {@code System.gc()}, then sleeps and retries for about half a second, before it
 * throws {@code OutOfMemoryError}, on the calling thread: an event loop. Each connection that asked
 * for a buffer stalled its whole loop that long (several in one round: seconds, and the watchdog
 * reported the loop stuck). So {@link #mayAllocate} first asks the JDK's direct buffer pool how much
 * is in use and refuses at once what cannot fit. The budget is read on a thread of its own when
 * the first buffer is allocated (the management classes cost ~70 ms to load: not on a loop, not
 * on the start-up path); until then, or where it cannot be read, a failed allocation is not
 * retried for {@link #BACKOFF_NANOS}. While refusing, a collection is requested off the loops
 * every {@link #COLLECT_INTERVAL_NANOS}, as the JDK would have done on the loop: buffers a full pool
 * let go of are freed only when collected.
 *
 * <p>Every refusal is counted ({@code moonbeam_buffer_allocation_failures_total}) and an error
 * says so at most once per {@link #LOG_INTERVAL_NANOS}. Shared by every loop's pools, hence the
 * atomics; the cost is one volatile read and one atomic read per buffer allocated (not per buffer
 * taken from a pool's free list).
 */
final class DirectMemory {
    private static final System.Logger LOG = System.getLogger(DirectMemory.class.getName());
    static final long BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(1);
    static final long COLLECT_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);
    static final long LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

    private static final AtomicLong FAILURES = new AtomicLong();
    private static final AtomicLong LOGGED_FAILURES = new AtomicLong();
    /** Deadlines (System.nanoTime); each valid only while its flag below says so. */
    private static final AtomicLong NEXT_LOG = new AtomicLong();
    private static final AtomicLong NEXT_COLLECT = new AtomicLong();
    private static volatile long retryAfterNanos;
    private static volatile boolean backingOff;
    private static final AtomicBoolean LOGGED_ONCE = new AtomicBoolean();
    private static final AtomicBoolean COLLECTED_ONCE = new AtomicBoolean();
    private static final AtomicBoolean READING = new AtomicBoolean();
    /** Null until read; then the limit and the JDK's direct pool (either may be unknown). */
    private static volatile Budget budget;

    private record Budget(long limit, BufferPoolMXBean pool) {
        boolean known() {
            return pool != null && limit > 0;
        }

        boolean fits(long bytes) {
            return pool.getTotalCapacity() + bytes <= limit;
        }

        long used() {
            return pool == null ? -1 : pool.getTotalCapacity();
        }
    }

    private DirectMemory() {
    }

    /** Whether a direct buffer of {@code bytes} may be allocated now; a refusal is counted and logged. */
    static boolean mayAllocate(int bytes) {
        Budget current = budget;
        if (current == null && READING.compareAndSet(false, true)) {
            Thread reader = new Thread(() -> budget = readBudget(), "moonbeam-direct-memory");
            reader.setDaemon(true);
            reader.start();
        }
        if (current != null && current.known()) {
            if (current.fits(bytes)) {
                return true;
            }
        } else if (!backingOff || System.nanoTime() - retryAfterNanos >= 0) {
            return true;
        }
        collectSoon();
        count(bytes, null);
        return false;
    }

    /** A direct allocation of {@code bytes} failed in the JDK (after its own collection and wait). */
    static void failed(int bytes, OutOfMemoryError error) {
        retryAfterNanos = System.nanoTime() + BACKOFF_NANOS;
        backingOff = true;
        count(bytes, error);
    }

    /** Direct allocations refused or failed since start (every pool, every loop). */
    static long failures() {
        return FAILURES.get();
    }

    private static void count(int bytes, OutOfMemoryError error) {
        long total = FAILURES.incrementAndGet();
        if (!due(NEXT_LOG, LOGGED_ONCE, LOG_INTERVAL_NANOS)) {
            return;
        }
        long since = total - LOGGED_FAILURES.getAndSet(total);
        Budget current = budget;
        LOG.log(System.Logger.Level.ERROR, "direct buffer memory exhausted ("
                + (current == null || !current.known() ? "limit unknown"
                        : mib(current.used()) + " in use of " + mib(current.limit()))
                + ", -XX:MaxDirectMemorySize): " + since + " buffer(s) of " + bytes + " bytes refused since the last"
                + " report; the connections that needed them got 503 or were closed. Raise -XX:MaxDirectMemorySize"
                + " (MOONBEAM_JAVA_OPTS) or lower the load" + (error != null ? " (" + error.getMessage() + ")" : ""));
    }

    /** Asks for a collection on a thread of its own, at most once per interval. */
    private static void collectSoon() {
        if (due(NEXT_COLLECT, COLLECTED_ONCE, COLLECT_INTERVAL_NANOS)) {
            Thread collector = new Thread(System::gc, "moonbeam-direct-memory-gc");
            collector.setDaemon(true);
            collector.start();
        }
    }

    /** True the first time, then once {@code interval} has passed since it last was (one caller wins). */
    private static boolean due(AtomicLong deadline, AtomicBoolean started, long interval) {
        long now = System.nanoTime();
        if (started.compareAndSet(false, true)) {
            deadline.set(now + interval);
            return true;
        }
        long next = deadline.get();
        return now - next >= 0 && deadline.compareAndSet(next, now + interval);
    }

    private static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / 1048576.0);
    }

    private static Budget readBudget() {
        BufferPoolMXBean direct = null;
        long limit = -1;
        try {
            for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
                if (pool.getName().equals("direct")) {
                    direct = pool;
                }
            }
            com.sun.management.HotSpotDiagnosticMXBean hotspot =
                    ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            limit = Long.parseLong(hotspot.getVMOption("MaxDirectMemorySize").getValue());
            if (limit == 0) {
                limit = Runtime.getRuntime().maxMemory(); // the JDK's default budget
            }
        } catch (RuntimeException | LinkageError e) {
            // No management beans (a trimmed runtime): failures back off instead (see mayAllocate).
            LOG.log(System.Logger.Level.DEBUG, () -> "direct memory budget unknown: " + e);
        }
        return new Budget(limit, direct);
    }
}
