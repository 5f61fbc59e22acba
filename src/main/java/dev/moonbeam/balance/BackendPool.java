package dev.moonbeam.balance;

import java.util.function.Consumer;

/**
 * Idle keep-alive connections to one backend, for one loop: LIFO, bounded, with expiry.
 *
 * <p>Owned by one loop thread: no locks, no atomics. Generic in the connection type so it is
 * tested without sockets.
 *
 * <p>Why LIFO: the most recently used connection is the least likely to have been closed by the
 * backend's own idle timeout, and under light load the older ones expire and are closed instead of
 * all being kept barely alive. Full pool: the <em>oldest</em> is evicted (as nginx's keepalive
 * module does), since it is the one nearest its expiry.
 *
 * <p>Storage is a ring of parallel arrays that start small and double up to {@code maxIdle} as
 * the load fills them (a pool per backend and loop must not cost {@code maxIdle} slots up front);
 * once grown, offer, poll and eviction allocate nothing. The oldest entry sits at {@code head}, the newest just before {@code head +
 * size}. Expiry compares by subtraction ({@code now - expiresAt >= 0} is expired) so nanoTime
 * wrap-around is harmless.
 *
 * @param <C> the connection type
 */
public final class BackendPool<C> {
    private static final int INITIAL_SLOTS = 16;

    private final int maxIdle;
    private Object[] connections;
    private long[] expiresAt;
    private int head;
    private int size;

    public BackendPool(int maxIdle) {
        if (maxIdle < 0) {
            throw new IllegalArgumentException("maxIdle must be >= 0");
        }
        this.maxIdle = maxIdle;
        int slots = Math.min(maxIdle, INITIAL_SLOTS);
        connections = new Object[slots];
        expiresAt = new long[slots];
    }

    /**
     * Parks an idle connection until {@code expiresAtNanos}.
     *
     * @return the connection the caller must now close, or null: the oldest one when the pool was
     *     full, or {@code conn} itself when {@code maxIdle} is 0
     */
    public C offer(C conn, long expiresAtNanos) {
        if (conn == null) {
            throw new NullPointerException("conn");
        }
        if (maxIdle == 0) {
            return conn;
        }
        C evicted = null;
        if (size == connections.length) {
            if (connections.length < maxIdle) {
                grow();
            } else {
                evicted = removeOldest();
            }
        }
        int slot = slot(size);
        connections[slot] = conn;
        expiresAt[slot] = expiresAtNanos;
        size++;
        return evicted;
    }

    /**
     * The most recently offered connection not expired at {@code nowNanos}, or null. Expired ones
     * met on the way (newer than the one returned) are removed and handed to {@code closer}.
     */
    public C poll(long nowNanos, Consumer<? super C> closer) {
        while (size > 0) {
            int slot = slot(size - 1);
            C conn = at(slot);
            long expiry = expiresAt[slot];
            connections[slot] = null;
            size--;
            if (nowNanos - expiry < 0) {
                return conn;
            }
            closer.accept(conn);
        }
        return null;
    }

    /**
     * Removes {@code conn} (by identity) because it became readable or closed while idle: a
     * backend's close or stray bytes make it unusable. O(maxIdle), which is small.
     *
     * @return true if it was in the pool
     */
    public boolean remove(C conn) {
        for (int i = 0; i < size; i++) {
            if (connections[slot(i)] == conn) {
                removeAt(i);
                return true;
            }
        }
        return false;
    }

    /**
     * Removes every connection expired at {@code nowNanos} and hands each to {@code closer}, keeping
     * the order of the rest.
     *
     * @return the number removed
     */
    public int evictExpired(long nowNanos, Consumer<? super C> closer) {
        int kept = 0;
        int removed = 0;
        int originalSize = size;
        for (int i = 0; i < originalSize; i++) {
            int from = slot(i);
            C conn = at(from);
            long expiry = expiresAt[from];
            connections[from] = null;
            if (nowNanos - expiry >= 0) {
                removed++;
                closer.accept(conn);
            } else {
                int to = slot(kept++);
                connections[to] = conn;
                expiresAt[to] = expiry;
            }
        }
        size = kept;
        return removed;
    }

    /** Removes all connections, handing each to {@code closer} (loop shutdown, backend removed). */
    public int clear(Consumer<? super C> closer) {
        int removed = 0;
        while (size > 0) {
            C conn = removeOldest();
            removed++;
            closer.accept(conn);
        }
        return removed;
    }

    public int size() {
        return size;
    }

    public int maxIdle() {
        return maxIdle;
    }

    /** Doubles the ring (up to maxIdle), laying the entries out oldest first. */
    private void grow() {
        int slots = Math.min(maxIdle, connections.length * 2);
        Object[] moreConnections = new Object[slots];
        long[] moreExpiries = new long[slots];
        for (int i = 0; i < size; i++) {
            moreConnections[i] = connections[slot(i)];
            moreExpiries[i] = expiresAt[slot(i)];
        }
        connections = moreConnections;
        expiresAt = moreExpiries;
        head = 0;
    }

    private C removeOldest() {
        C oldest = at(head);
        connections[head] = null;
        head = head + 1 == connections.length ? 0 : head + 1;
        size--;
        if (size == 0) {
            head = 0;
        }
        return oldest;
    }

    /** Removes the entry at logical position {@code index} (0 = oldest), shifting newer ones down. */
    private void removeAt(int index) {
        for (int i = index; i < size - 1; i++) {
            int to = slot(i);
            int from = slot(i + 1);
            connections[to] = connections[from];
            expiresAt[to] = expiresAt[from];
        }
        connections[slot(size - 1)] = null;
        size--;
    }

    private int slot(int index) {
        int slot = head + index;
        return slot >= connections.length ? slot - connections.length : slot;
    }

    @SuppressWarnings("unchecked")
    private C at(int slot) {
        return (C) connections[slot];
    }
}
