package dev.moonbeam.loop;

import java.util.Arrays;

/**
 * Deadline-ordered binary min-heap of {@link Timeout}s, checked once per select round.
 *
 * <p>Owned by one loop thread: no locks, no atomics. Each timeout stores its own heap index, so
 * {@link #schedule} is O(log n) at worst, {@link #cancel} O(1), and neither allocates; the backing
 * array only grows (doubling) when more entries are in it at once than ever before.
 *
 * <p>Postponing is O(1): most re-arms move an inactivity timeout later (every read or write of
 * every connection does), so a postponed timeout keeps its heap place, ordered by its old deadline,
 * and is moved to its real one only when its old deadline passes. Expiry order is exactly that of
 * the real deadlines; {@link #nanosUntilNext} is never later than the real next deadline.
 *
 * <p>Cancelling is O(1) too: a cancelled timeout is only marked, and keeps its heap place until it
 * reaches the top (then it is dropped) or is scheduled again (then it is postponed from there). Every
 * request cancels and re-arms the same few timeouts (its exchange's, its pooled backend connection's
 * idle one), so in steady state a request costs no heap operation at all. When cancelled entries
 * outnumber the live ones (and number over 64) the heap is rebuilt without them (O(n), amortised
 * O(1) per cancel), so it holds at most the live timeouts plus max(64, live) cancelled ones, and a
 * closed connection stays reachable through its timeout only that long. A cancelled timeout still
 * belongs to this {@code Timers} until it is dropped: it can be scheduled again here, not elsewhere.
 *
 * <p>Why a heap rather than a hashed wheel: deadlines here span 10 ms to minutes, a heap needs no
 * tick or resolution choice, and {@link #nanosUntilNext} is known, so {@code select} sleeps until
 * the next deadline instead of waking every tick.
 *
 * <p>A timeout is expired when {@code deadline - now <= 0}. Typical loop round:
 *
 * <pre>{@code
 * long wait = timers.nanosUntilNext(clock.nanoTime());   // -1: none, 0: overdue
 * ... select for at most 'wait' (see selectTimeoutMillis) ...
 * timers.runExpired(clock.nanoTime());
 * }</pre>
 */
public final class Timers {
    private static final System.Logger LOG = System.getLogger(Timers.class.getName());
    /**
     * Room for a loop's usual crowd from the start (8 KiB): growing the heap is a branch the JIT
     * compiles as a trap when the warm-up never took it, and the first crowd of clients after
     * start-up would take it, deoptimising the loop's hottest methods.
     */
    private static final int INITIAL_CAPACITY = 1024;
    private static final long NANOS_PER_MILLI = 1_000_000L;
    /** Cancelled entries a heap may keep before they are purged, however few the live ones. */
    private static final int PURGE_MIN_CANCELLED = 64;

    private Timeout[] heap;
    /** Entries in {@link #heap}, cancelled ones included. */
    private int size;
    /** Entries marked cancelled but still in {@link #heap}. */
    private int cancelled;
    private long nextSequence;
    /** True while {@link #runExpired} runs callbacks; see {@link #schedule}. */
    private boolean running;
    private long runningNow;
    private long failedCallbacks;

    public Timers() {
        this(INITIAL_CAPACITY);
    }

    public Timers(int initialCapacity) {
        if (initialCapacity < 1) {
            throw new IllegalArgumentException("initialCapacity must be >= 1");
        }
        heap = new Timeout[initialCapacity];
    }

    /**
     * Schedules {@code t} to expire at {@code deadlineNanos}, moving it if it is already scheduled.
     *
     * <p>Called from an expiry callback with a deadline that is already due, the timeout fires in
     * the next {@link #runExpired} round, not this one: a callback that re-arms itself with a zero
     * delay therefore cannot keep the loop inside one round forever (its {@link
     * Timeout#deadlineNanos()} then reads one nanosecond after that round's {@code now}).
     *
     * @throws IllegalArgumentException if {@code t} is scheduled in another {@code Timers}
     */
    public void schedule(Timeout t, long deadlineNanos) {
        long deadline = deadlineNanos;
        if (running && deadline - runningNow <= 0) {
            deadline = runningNow + 1;
        }
        if (t.heapIndex == Timeout.NOT_SCHEDULED) {
            t.deadlineNanos = deadline;
            t.sequence = nextSequence++;
            t.keyNanos = deadline;
            t.keySequence = t.sequence;
            if (size == heap.length) {
                heap = Arrays.copyOf(heap, size * 2);
            }
            int index = size++;
            heap[index] = t;
            t.heapIndex = index;
            siftUp(index);
            return;
        }
        checkOwned(t);
        if (t.cancelled) {
            t.cancelled = false; // back from a lazy cancel: its heap place is kept, as for a postponement
            cancelled--;
        }
        t.deadlineNanos = deadline;
        t.sequence = nextSequence++;
        if (deadline - t.keyNanos < 0) {
            // Earlier than its heap place: move it up now. Later: settleTop moves it once its old deadline passes.
            t.keyNanos = deadline;
            t.keySequence = t.sequence;
            siftUp(t.heapIndex);
        }
    }

    /**
     * Drops cancelled timeouts and moves postponed ones found at the top to their real deadlines,
     * until the top is a live timeout at its exact place.
     */
    private void settleTop() {
        while (size > 0) {
            Timeout top = heap[0];
            if (top.cancelled) {
                removeAt(0);
                continue;
            }
            if (top.isSettled()) {
                return;
            }
            top.keyNanos = top.deadlineNanos;
            top.keySequence = top.sequence;
            siftDown(0);
        }
    }

    /** Cancels {@code t}; returns false if it was not scheduled (already fired or cancelled). */
    public boolean cancel(Timeout t) {
        if (t.heapIndex == Timeout.NOT_SCHEDULED || t.cancelled) {
            return false;
        }
        checkOwned(t);
        t.cancelled = true;
        cancelled++;
        if (cancelled > PURGE_MIN_CANCELLED && cancelled > size - cancelled) {
            purgeCancelled();
        }
        return true;
    }

    /** Rebuilds the heap from its live entries (Floyd's heap construction, O(n)). */
    private void purgeCancelled() {
        int live = 0;
        for (int i = 0; i < size; i++) {
            Timeout t = heap[i];
            if (t.cancelled) {
                t.cancelled = false;
                t.heapIndex = Timeout.NOT_SCHEDULED;
            } else {
                heap[live] = t;
                t.heapIndex = live;
                live++;
            }
        }
        Arrays.fill(heap, live, size, null);
        size = live;
        cancelled = 0;
        for (int i = (live >>> 1) - 1; i >= 0; i--) {
            siftDown(i);
        }
    }

    /**
     * Nanoseconds until the earliest deadline: {@code -1} when nothing is scheduled (select may block
     * indefinitely), {@code 0} when a timeout is already due (use {@code selectNow}), else the
     * positive remaining time, or less (see the postponing note on the class).
     */
    public long nanosUntilNext(long nowNanos) {
        while (size > 0 && heap[0].cancelled) {
            removeAt(0); // the loop must not wake for a cancelled timeout
        }
        if (size > 0 && heap[0].keyNanos - nowNanos <= 0) {
            settleTop(); // a postponed timeout's old deadline passed: find what is really due
        }
        if (size == 0) {
            return -1;
        }
        // Never after the real next deadline; earlier when a postponed timeout's old deadline comes
        // first (the loop then wakes to an empty round: one per postponed timeout per period).
        long remaining = heap[0].keyNanos - nowNanos;
        return remaining <= 0 ? 0 : remaining;
    }

    /**
     * Converts {@link #nanosUntilNext} to the argument of {@code Selector.select(long)}: {@code 0}
     * (block) for {@code -1}, otherwise rounded <em>up</em> to whole milliseconds so the loop does
     * not wake just before a deadline and spin; {@code 0} nanos must be handled by the caller with
     * {@code selectNow()} because {@code select(0)} would block.
     */
    public static long selectTimeoutMillis(long nanosUntilNext) {
        if (nanosUntilNext < 0) {
            return 0;
        }
        long millis = (nanosUntilNext + NANOS_PER_MILLI - 1) / NANOS_PER_MILLI;
        return Math.max(1, millis);
    }

    /**
     * Runs the callbacks of every timeout due at {@code nowNanos}, earliest first (equal deadlines
     * in scheduling order). Each timeout is unscheduled before its callback runs, so the callback may
     * re-arm it; callbacks may also schedule or cancel any other timeout. A callback that throws is
     * logged and counted, and the remaining ones still run.
     *
     * @return the number of callbacks run
     */
    public int runExpired(long nowNanos) {
        if (running) {
            throw new IllegalStateException("runExpired called from a timeout callback");
        }
        running = true;
        runningNow = nowNanos;
        int ran = 0;
        try {
            while (size > 0 && heap[0].keyNanos - nowNanos <= 0) {
                Timeout due = heap[0];
                if (due.cancelled || !due.isSettled()) {
                    settleTop(); // cancelled, or postponed: not due yet, or due behind others
                    continue;
                }
                removeAt(0);
                ran++;
                try {
                    due.fire();
                } catch (RuntimeException | Error e) {
                    if (e instanceof VirtualMachineError) {
                        throw e;
                    }
                    failedCallbacks++;
                    LOG.log(System.Logger.Level.ERROR, "timeout callback failed", e);
                }
            }
        } finally {
            running = false;
        }
        return ran;
    }

    /** Scheduled timeouts (cancelled ones still waiting in the heap not counted). */
    public int size() {
        return size - cancelled;
    }

    /** Entries in the heap, cancelled ones not yet dropped included (for tests). */
    int entries() {
        return size;
    }

    /** Callbacks that threw since creation (for tests and metrics). */
    public long failedCallbacks() {
        return failedCallbacks;
    }

    private void checkOwned(Timeout t) {
        int index = t.heapIndex;
        if (index >= size || heap[index] != t) {
            throw new IllegalArgumentException("timeout is scheduled in another Timers");
        }
    }

    private void removeAt(int index) {
        Timeout removed = heap[index];
        removed.heapIndex = Timeout.NOT_SCHEDULED;
        if (removed.cancelled) {
            removed.cancelled = false;
            cancelled--;
        }
        int last = --size;
        if (index == last) {
            heap[last] = null;
            return;
        }
        Timeout moved = heap[last];
        heap[last] = null;
        heap[index] = moved;
        moved.heapIndex = index;
        siftUp(index);
        siftDown(moved.heapIndex);
    }

    private void siftUp(int index) {
        Timeout t = heap[index];
        int i = index;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            Timeout p = heap[parent];
            if (!before(t, p)) {
                break;
            }
            heap[i] = p;
            p.heapIndex = i;
            i = parent;
        }
        heap[i] = t;
        t.heapIndex = i;
    }

    private void siftDown(int index) {
        Timeout t = heap[index];
        int i = index;
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            int right = child + 1;
            if (right < size && before(heap[right], heap[child])) {
                child = right;
            }
            Timeout c = heap[child];
            if (!before(c, t)) {
                break;
            }
            heap[i] = c;
            c.heapIndex = i;
            i = child;
        }
        heap[i] = t;
        t.heapIndex = i;
    }

    /**
     * Orders by deadline, then by scheduling order. Subtraction keeps the order right across
     * {@code nanoTime} wrap-around as long as all deadlines lie within 2^62 ns (146 years) of each
     * other.
     */
    private static boolean before(Timeout a, Timeout b) {
        long diff = a.keyNanos - b.keyNanos;
        if (diff != 0) {
            return diff < 0;
        }
        return a.keySequence < b.keySequence;
    }
}
