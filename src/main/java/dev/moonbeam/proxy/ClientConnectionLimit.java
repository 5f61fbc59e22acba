package dev.moonbeam.proxy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The process-wide cap on client connections ({@code limits.max_client_connections}). A loop takes
 * a slot before it accepts; with none left its acceptor stops accepting, so new clients wait in
 * the kernel's listen backlog instead of being accepted and dropped, and every loop is asked to
 * close its longest-idle keep-alive connections (as nginx does when it runs out of connections)
 * to make room. A closed connection gives its slot back and wakes the paused acceptors. Shared
 * by all loops: the count is one atomic integer, touched once per accept and once per close.
 */
public final class ClientConnectionLimit {
    private static final System.Logger LOG = System.getLogger(ClientConnectionLimit.class.getName());
    /** Descriptors kept for everything but client and backend sockets: listeners, selectors, logs, jars. */
    static final int RESERVED_DESCRIPTORS = 128;
    private static final long RECLAIM_INTERVAL_NANOS = 100_000_000L;
    private static final long LOG_INTERVAL_NANOS = 10_000_000_000L;
    private static final Pattern OPEN_FILES = Pattern.compile("(?m)^Max open files\\s+(\\S+)");

    private final AtomicInteger open = new AtomicInteger();
    private final ConcurrentLinkedQueue<Acceptor> paused = new ConcurrentLinkedQueue<>();
    private final AtomicLong timesReached = new AtomicLong();
    private final AtomicLong reclaimed = new AtomicLong();
    private final AtomicLong lastReclaim = new AtomicLong(System.nanoTime() - RECLAIM_INTERVAL_NANOS);
    private final AtomicLong lastLog = new AtomicLong(System.nanoTime() - LOG_INTERVAL_NANOS);
    private volatile int max;
    private volatile List<Worker> workers = List.of();

    public ClientConnectionLimit(int max) {
        max(max);
    }

    /** No limit; for workers built outside a MoonBeam (tests). */
    static ClientConnectionLimit unlimited() {
        return new ClientConnectionLimit(Integer.MAX_VALUE);
    }

    /** Changes the cap (a reload); connections above a lowered cap stay, new ones wait. */
    public void max(int newMax) {
        if (newMax < 1) {
            throw new IllegalArgumentException("max must be >= 1");
        }
        max = newMax;
        wakeIfRoom();
    }

    public int max() {
        return max;
    }

    /** The loops whose idle connections may be closed under pressure. */
    public void workers(List<Worker> all) {
        workers = List.copyOf(all);
    }

    public int open() {
        return open.get();
    }

    /** How often an acceptor began waiting for a slot (its re-checks while it waits not counted). */
    public long timesReached() {
        return timesReached.get();
    }

    /** Idle keep-alive connections closed to make room. */
    public long reclaimed() {
        return reclaimed.get();
    }

    /** A slot for one connection about to be accepted, or false at the cap. Any thread. */
    boolean tryAcquire() {
        while (true) {
            int now = open.get();
            if (now >= max) {
                return false;
            }
            if (open.compareAndSet(now, now + 1)) {
                return true;
            }
        }
    }

    /** A slot even past the cap: for the connections a stopping listener still takes from its backlog. */
    void acquireAnyway() {
        open.incrementAndGet();
    }

    void release() {
        open.decrementAndGet();
        if (!paused.isEmpty()) {
            wakeIfRoom();
        }
    }

    /**
     * {@code acceptor}, on {@code local}'s loop, has a client waiting and no slot for it, and stopped
     * accepting: remember it for the next release, make room (at most every 100 ms: the longest-idle
     * connections of this loop, or of the others when this one has none), and say so (at most once
     * per 10 s). Called on {@code local}'s loop.
     */
    void reached(Acceptor acceptor, Worker local) {
        if (acceptor.waitingForSlot.compareAndSet(false, true)) { // once in the queue, however often it re-pauses
            paused.add(acceptor);
            timesReached.incrementAndGet();
        }
        long now = System.nanoTime();
        long logged = lastLog.get();
        if (now - logged >= LOG_INTERVAL_NANOS && lastLog.compareAndSet(logged, now)) {
            LOG.log(System.Logger.Level.WARNING, "client connections at the limit (" + max
                    + ", limits.max_client_connections): accepting paused, new clients wait in the listen backlog;"
                    + " closing idle keep-alive connections, longest idle first (reached " + timesReached.get()
                    + " times so far)");
        }
        long reclaimedAt = lastReclaim.get();
        if (now - reclaimedAt >= RECLAIM_INTERVAL_NANOS && lastReclaim.compareAndSet(reclaimedAt, now)) {
            int closed = local.closeLongestIdle();
            reclaimed.addAndGet(closed);
            if (closed == 0) {
                for (Worker worker : workers) {
                    if (worker != local) {
                        worker.loop().execute(() -> reclaimed.addAndGet(worker.closeLongestIdle()));
                    }
                }
            }
        }
        wakeIfRoom(); // a slot freed between tryAcquire and add() would otherwise wake nobody
    }

    private void wakeIfRoom() {
        while (open.get() < max) {
            Acceptor acceptor = paused.poll();
            if (acceptor == null) {
                return;
            }
            acceptor.resumeSoon();
        }
    }

    /**
     * The default cap: half of what the open-file limit leaves after a reserve, since each client
     * connection may hold a backend connection too. Unlimited when the limit is unknown.
     */
    static int fromOpenFiles(long openFiles) {
        if (openFiles <= 0 || openFiles >= 2L * Integer.MAX_VALUE) {
            return Integer.MAX_VALUE;
        }
        return (int) Math.max(1, (openFiles - RESERVED_DESCRIPTORS) / 2);
    }

    /** This process's open-file limit from /proc/self/limits (Linux); -1 when unknown or unlimited. */
    static long openFileLimit() {
        try {
            return parseOpenFileLimit(Files.readString(Path.of("/proc/self/limits"), StandardCharsets.US_ASCII));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    static long parseOpenFileLimit(String limits) {
        Matcher matcher = OPEN_FILES.matcher(limits);
        if (!matcher.find() || !matcher.group(1).chars().allMatch(Character::isDigit)) {
            return -1;
        }
        return Long.parseLong(matcher.group(1));
    }

    /**
     * The cap for a configured value (0: derived from the open-file limit) and one line for the
     * start-up log saying where it came from.
     */
    public static Resolved resolve(int configured) {
        if (configured > 0) {
            return new Resolved(configured, "client connections: at most " + configured + " at once (limits.max_client_connections)");
        }
        long openFiles = openFileLimit();
        int derived = fromOpenFiles(openFiles);
        return new Resolved(derived, derived == Integer.MAX_VALUE
                ? "client connections: no limit (the open-file limit is unknown; set limits.max_client_connections)"
                : "client connections: at most " + derived + " at once (half of the open-file limit " + openFiles
                        + " less " + RESERVED_DESCRIPTORS + "; set limits.max_client_connections to change)");
    }

    /** A resolved cap and how it was chosen. */
    public record Resolved(int max, String description) {
    }
}
