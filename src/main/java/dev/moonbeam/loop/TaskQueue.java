package dev.moonbeam.loop;

import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one way into a loop from other threads: a multi-producer, single-consumer task queue that
 * wakes the loop's selector only when the loop is selecting.
 *
 * <p>Threads: {@link #post} may be called from any thread. {@link #runAll}, {@link #beginSelect}
 * and {@link #endSelect} belong to the owning loop thread alone. This class is the loop's boundary,
 * so unlike loop-owned classes it uses a lock-free queue and an atomic flag.
 *
 * <p>Wakeups (the idea of Jetty's {@code ManagedSelector}): {@code Selector.wakeup()} is a system
 * call, so a burst of posts must not issue one each. The loop raises a {@code selecting} flag before
 * it selects; the first poster to lower it calls {@code wakeup}, later posters see it lowered and
 * do not. The loop then re-checks the queue after raising the flag, so a post that raced with the
 * flag is never left waiting for the next I/O event. So there is at most one wakeup per select
 * round, however many tasks are posted. Loop round:
 *
 * <pre>{@code
 * if (tasks.beginSelect()) selector.select(ms); else selector.selectNow();
 * tasks.endSelect();
 * ... handle selected keys ...
 * tasks.runAll();
 * }</pre>
 *
 * <p>The queue is unbounded on purpose: producers are the control thread and other loops posting
 * rare control work (reload, shutdown, close); dropping a shutdown would be worse than memory. Data
 * never travels through it. Draining is bounded per round ({@code maxTasksPerRound}) so a flood of
 * tasks cannot starve I/O.
 */
public final class TaskQueue {
    public static final int DEFAULT_MAX_TASKS_PER_ROUND = 1024;
    private static final System.Logger LOG = System.getLogger(TaskQueue.class.getName());

    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    /** Tasks the loop posts to itself (e.g. "run this connection again after the others"): no node per post. */
    private final java.util.ArrayDeque<Runnable> local = new java.util.ArrayDeque<>();
    private final AtomicBoolean selecting = new AtomicBoolean();
    private final AtomicLong wakeups = new AtomicLong();
    private final Runnable wakeup;
    private final int maxTasksPerRound;
    /** Loop-owned counter; read it only on the loop thread. */
    private long failedTasks;

    /**
     * @param wakeup called (from a posting thread) to interrupt a blocking select, e.g. {@code
     *     selector::wakeup}
     * @param maxTasksPerRound upper bound of tasks one {@link #runAll} runs
     */
    public TaskQueue(Runnable wakeup, int maxTasksPerRound) {
        if (maxTasksPerRound < 1) {
            throw new IllegalArgumentException("maxTasksPerRound must be >= 1");
        }
        this.wakeup = Objects.requireNonNull(wakeup, "wakeup");
        this.maxTasksPerRound = maxTasksPerRound;
    }

    public TaskQueue(Runnable wakeup) {
        this(wakeup, DEFAULT_MAX_TASKS_PER_ROUND);
    }

    /** Queues {@code task} for the loop; any thread. Wakes the selector if the loop is selecting. */
    public void post(Runnable task) {
        tasks.offer(Objects.requireNonNull(task, "task"));
        // Read-after-write on two volatiles pairs with beginSelect's write-then-read: at least one
        // side sees the other, so a task is never stranded behind a blocking select.
        if (selecting.get() && selecting.compareAndSet(true, false)) {
            wakeups.incrementAndGet();
            wakeup.run();
        }
    }

    /**
     * Loop thread only: queues {@code task} to run after this round's events, without the
     * cross-thread queue (and its allocation per post) and without a wakeup (the loop is awake).
     */
    public void postLocal(Runnable task) {
        local.addLast(Objects.requireNonNull(task, "task"));
    }

    /**
     * Loop thread, just before selecting. Returns true if the loop may block in {@code select};
     * false if tasks are already waiting, in which case the loop should {@code selectNow()}.
     */
    public boolean beginSelect() {
        if (!local.isEmpty() || !tasks.isEmpty()) {
            return false; // cheap early out, and no flag a poster could waste a wakeup on
        }
        selecting.set(true);
        if (tasks.isEmpty()) {
            return true;
        }
        // A poster may have lowered the flag (and woken the selector) already; either way, don't block.
        selecting.set(false);
        return false;
    }

    /** Loop thread, right after select returns: posts from now on need no wakeup. */
    public void endSelect() {
        selecting.set(false);
    }

    /**
     * Loop thread: runs queued tasks in posting order, at most {@code maxTasksPerRound}. A task that
     * throws is logged and counted; the rest still run. Tasks posted while draining may run in the
     * same round, within the bound.
     *
     * @return the number of tasks run
     */
    public int runAll() {
        int ran = 0;
        // Only those posted before this drain: a local task that posts itself again runs next round.
        for (int due = local.size(); due > 0 && ran < maxTasksPerRound; due--) {
            ran++;
            run(local.pollFirst());
        }
        while (ran < maxTasksPerRound) {
            Runnable task = tasks.poll();
            if (task == null) {
                break;
            }
            ran++;
            run(task);
        }
        return ran;
    }

    private void run(Runnable task) {
        try {
            task.run();
        } catch (RuntimeException | Error e) {
            if (e instanceof VirtualMachineError) {
                throw e;
            }
            failedTasks++;
            LOG.log(System.Logger.Level.ERROR, "loop task failed", e);
        }
    }

    /** True if tasks are waiting (the loop should not block). */
    public boolean hasPending() {
        return !local.isEmpty() || !tasks.isEmpty();
    }

    /** Number of times {@link #post} woke the selector (for tests: no wakeup storm). */
    public long wakeupCount() {
        return wakeups.get();
    }

    /** Tasks that threw; loop thread only. */
    public long failedTasks() {
        return failedTasks;
    }
}
