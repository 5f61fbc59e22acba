package dev.moonbeam.balance;

/**
 * Chooses a backend for a new request. Implementations are shared by all loops and thread-safe; a
 * pick allocates nothing.
 */
public interface LoadBalancer {
    /**
     * The backend for the next request at {@code nowNanos}, or null when none is available (the
     * caller answers 503 at once).
     *
     * @param avoid a backend to stay away from (the one a retry just failed on), or null. It is
     *     never returned while any other backend is available; it is returned only as the last
     *     available one, because a retry on a fresh connection to the same backend beats a 503 (a
     *     connect failure will already have marked it unavailable).
     */
    Backend pick(long nowNanos, Backend avoid);

    /**
     * Whether any backend is available at all, full or not: when {@link #pick} finds none, this
     * tells "all at their {@code max_connections}" (wait in the queue) from "none up" (503 now).
     */
    boolean anyAvailable(long nowNanos);

    /**
     * {@link #pick} then {@link Backend#tryAcquire()}, picking again when another loop took the
     * last slot in between (bounded: each failed try means that backend is now full, and a full
     * backend is not picked again).
     *
     * @return the backend, with a slot taken for the caller, or null when none has room
     */
    default Backend acquire(long nowNanos, Backend avoid) {
        for (int tries = 0; tries < 64; tries++) {
            Backend backend = pick(nowNanos, avoid);
            if (backend == null || backend.tryAcquire()) {
                return backend;
            }
        }
        return null;
    }

    /**
     * {@link #pick} then {@link Backend#acquire()}. Picking and acquiring are two steps, so two loops
     * picking at the same instant may both choose the same least-loaded backend; nginx and HAProxy
     * accept the same window. The skew is at most one request per concurrently picking loop and
     * corrects itself on the next pick, while a lock would serialise every loop on every request.
     */
    default Backend pickAndAcquire(long nowNanos, Backend avoid) {
        Backend backend = pick(nowNanos, avoid);
        if (backend != null) {
            backend.acquire();
        }
        return backend;
    }
}
