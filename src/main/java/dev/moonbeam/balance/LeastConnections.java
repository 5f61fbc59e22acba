package dev.moonbeam.balance;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Weighted least connections: the available backend whose load after taking one more request,
 * {@code (inflight + 1) / weight}, is smallest (HAProxy {@code lb_fwlc.c} orders servers by this
 * key, so an idle heavy server beats an idle light one and equal ones alternate).
 *
 * <p>Compared crosswise without division, as nginx's {@code least_conn} does: {@code a} beats
 * {@code b} when {@code (a.inflight + 1) * b.weight < (b.inflight + 1) * a.weight}. Ties keep the
 * first candidate seen, and the scan starts at a rotating index, so equal backends share load
 * evenly instead of the first one in the list taking every tie.
 *
 * <p>Weights are {@link Backend#effectiveWeight}, so a backend in slow start gets its growing share.
 * A backend at its {@code max_connections} is skipped like an unavailable one ({@link #anyAvailable}
 * tells the two apart).
 *
 * <p>Thread-safe: the backend array is immutable, the rotor is atomic. One {@code
 * getAndIncrement} and one scan over the backends per pick; no allocation.
 */
public final class LeastConnections implements LoadBalancer {
    private final Backend[] backends;
    private final AtomicInteger rotor = new AtomicInteger();

    public LeastConnections(List<Backend> backends) {
        this.backends = backends.toArray(new Backend[0]);
    }

    @Override
    public Backend pick(long nowNanos, Backend avoid) {
        int n = backends.length;
        if (n == 0) {
            return null;
        }
        int index = Math.floorMod(rotor.getAndIncrement(), n);
        Backend best = null;
        long bestLoad = 0; // inflight + 1 of best
        long bestWeight = 1;
        boolean avoidAvailable = false;
        for (int i = 0; i < n; i++) {
            Backend candidate = backends[index];
            index = index + 1 == n ? 0 : index + 1;
            if (!candidate.isAvailable(nowNanos) || candidate.isFull()) {
                continue;
            }
            if (candidate == avoid) {
                avoidAvailable = true;
                continue;
            }
            long load = candidate.inflight() + 1L;
            long weight = candidate.effectiveWeight(nowNanos);
            if (best == null || load * bestWeight < bestLoad * weight) {
                best = candidate;
                bestLoad = load;
                bestWeight = weight;
            }
        }
        if (best == null && avoidAvailable) {
            return avoid;
        }
        return best;
    }

    @Override
    public boolean anyAvailable(long nowNanos) {
        for (Backend backend : backends) {
            if (backend.isAvailable(nowNanos)) {
                return true;
            }
        }
        return false;
    }

    public int size() {
        return backends.length;
    }
}
