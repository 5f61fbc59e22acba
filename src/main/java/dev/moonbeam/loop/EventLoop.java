package dev.moonbeam.loop;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One selector thread and everything it owns: its {@link Selector}, {@link Timers},
 * {@link BufferPool} and {@link TaskQueue}. Every connection registered here is touched only by
 * this thread; other threads reach it only through {@link #execute}.
 *
 * <p>Each round: select (bounded by the next timer), handle ready keys, run posted tasks, run
 * expired timers. A failure in one handler aborts that handler only; the loop never dies of it.
 */
public final class EventLoop {
    private static final System.Logger LOG = System.getLogger(EventLoop.class.getName());

    private final String name;
    private final Selector selector;
    private final Clock clock;
    private final Timers timers = new Timers();
    private final BufferPool buffers;
    private final TaskQueue tasks;
    private final Thread thread;
    private final CountDownLatch terminated = new CountDownLatch(1);
    /** Bound once so the per-round select allocates no lambda. */
    private final Consumer<SelectionKey> dispatch = this::dispatch;
    private long now;
    private boolean running = true;
    private boolean stopping;
    /** For {@link LoopWatchdog}: when this round's work began (System.nanoTime), 0 while waiting. */
    private volatile long busySinceNanos;
    /** The loop thread's own copy of "busySinceNanos != 0", so marking costs no volatile read. */
    private boolean busy;
    private final List<Runnable> shutdownHooks = new ArrayList<>();

    public EventLoop(String name, Clock clock, BufferPool buffers) throws IOException {
        this.name = name;
        this.selector = Selector.open();
        this.clock = clock;
        this.buffers = buffers;
        this.tasks = new TaskQueue(selector::wakeup);
        this.thread = new Thread(this::run, name);
        this.now = clock.nanoTime();
    }

    public String name() {
        return name;
    }

    public Timers timers() {
        return timers;
    }

    public BufferPool buffers() {
        return buffers;
    }

    public Clock clock() {
        return clock;
    }

    /** The time at the start of this round's work; cheap, and good enough for timeouts. */
    public long now() {
        return now;
    }

    public boolean inLoop() {
        return Thread.currentThread() == thread;
    }

    public void start() {
        thread.start();
    }

    /** Runs {@code task} on this loop's thread soon. Callable from any thread. */
    public void execute(Runnable task) {
        tasks.post(task);
    }

    /** Loop thread only: runs {@code task} after this round's events (see {@link TaskQueue#postLocal}). */
    public void executeLocal(Runnable task) {
        tasks.postLocal(task);
    }

    public SelectionKey register(SelectableChannel channel, int ops, IoHandler handler) throws ClosedChannelException {
        return channel.register(selector, ops, handler);
    }

    /** Runs on the loop thread when the loop stops, before the selector closes. Loop thread only. */
    public void onShutdown(Runnable hook) {
        shutdownHooks.add(hook);
    }

    /** Asks the loop to stop after this round; it closes every channel still registered. */
    public void shutdown() {
        execute(() -> running = false);
    }

    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        return terminated.await(timeout, unit);
    }

    /** Calls {@code action} for every registered handler. Loop thread only. */
    public void forEachHandler(java.util.function.Consumer<IoHandler> action) {
        for (SelectionKey key : new ArrayList<>(selector.keys())) {
            if (key.isValid() && key.attachment() instanceof IoHandler handler) {
                action.accept(handler);
            }
        }
    }

    /** Number of channels registered (connections plus listeners); for metrics and tests. */
    public int registeredChannels() {
        return selector.keys().size();
    }

    private void run() {
        try {
            while (running) {
                runOnce();
            }
        } finally {
            closeAll();
            markWaiting(); // a stopped loop is not a stuck one
            terminated.countDown();
        }
    }

    private void runOnce() {
        try {
            now = clock.nanoTime();
            long wait = timers.nanosUntilNext(now);
            markWaiting();
            if (wait == 0 || !tasks.beginSelect()) {
                selector.selectNow(dispatch);
            } else {
                selector.select(dispatch, Timers.selectTimeoutMillis(wait));
            }
            markBusy();
            tasks.endSelect();
            now = clock.nanoTime();
            tasks.runAll();
            timers.runExpired(now);
        } catch (IOException | RuntimeException | Error e) {
            if (e instanceof OutOfMemoryError || e instanceof StackOverflowError) {
                // Keep serving the other connections; the offending one is gone with its stack.
                LOG.log(System.Logger.Level.ERROR, name + ": " + e, e);
            } else {
                LOG.log(System.Logger.Level.ERROR, name + ": unexpected failure in event loop round", e);
            }
        }
    }

    /** When the current round's work began (System.nanoTime), or 0 while the loop waits for work. */
    long busySinceNanos() {
        return busySinceNanos;
    }

    Thread thread() {
        return thread;
    }

    private void markWaiting() {
        busy = false;
        busySinceNanos = 0;
    }

    /** Ready keys are handled inside select(), so the first one marks the round's work begun. */
    private void markBusy() {
        if (!busy) {
            busy = true;
            long started = System.nanoTime();
            busySinceNanos = started == 0 ? 1 : started;
        }
    }

    private void dispatch(SelectionKey key) {
        if (!busy) {
            // The first ready key of the round: select may have slept until now, and handlers arm
            // their timeouts from now() (a stale one made a 400 ms response timeout fire at once
            // after the loop had slept 800 ms).
            now = clock.nanoTime();
        }
        markBusy();
        Object attachment = key.attachment();
        if (!(attachment instanceof IoHandler handler)) {
            return;
        }
        try {
            if (key.isValid()) {
                handler.onReady(key, key.readyOps());
            }
        } catch (Exception | Error e) {
            if (e instanceof VirtualMachineError && !(e instanceof OutOfMemoryError)) {
                throw (Error) e;
            }
            LOG.log(System.Logger.Level.DEBUG, () -> name + ": connection failed: " + e);
            abort(handler, e);
        }
    }

    private void abort(IoHandler handler, Throwable cause) {
        try {
            handler.abort(cause);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, name + ": abort failed", e);
        }
    }

    /** True once the loop has begun closing its channels: nothing new may be started. Loop thread. */
    public boolean isStopping() {
        return stopping;
    }

    private void closeAll() {
        stopping = true;
        for (Runnable hook : shutdownHooks) {
            try {
                hook.run();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, name + ": shutdown hook failed", e);
            }
        }
        for (SelectionKey key : new ArrayList<>(selector.keys())) {
            if (key.attachment() instanceof IoHandler handler) {
                abort(handler, new ClosedChannelException());
            }
            try {
                key.channel().close();
            } catch (IOException ignored) {
                // Shutting down: nothing useful to do with a close failure.
            }
        }
        try {
            selector.close();
        } catch (IOException ignored) {
            // Shutting down.
        }
    }
}
