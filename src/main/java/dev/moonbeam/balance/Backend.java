package dev.moonbeam.balance;

import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * One backend server as all loops see it: its configuration, the in-flight count that least
 * connections compares, and its health.
 *
 * <p>Shared by every loop and the control thread; thread-safe with atomics and volatiles only, no
 * locks. Identity matters: a reload that keeps the address keeps this object (see {@link
 * Routing#rebuild}), so in-flight counts and health survive it.
 *
 * <p>Health is three independent conditions; the backend is available only if none holds:
 *
 * <ul>
 *   <li><b>passive back-off</b> (set by the loops): {@link #markFailed} after a connect failure or
 *       timeout takes it out for 1 s, doubling on each consecutive failure up to 30 s. When the
 *       back-off ends, it is picked again (one request acts as the probe); success resets the
 *       count via {@link #markSucceeded}, another failure doubles the back-off.
 *   <li><b>active health down</b> (set by a health checker): {@link #markActiveDown}/{@link
 *       #markActiveUp}; coming up also clears the passive back-off.
 *   <li><b>admin down</b> (drained by configuration or an admin request).
 * </ul>
 *
 * <p><b>Slow start</b> (off unless {@link #slowStartNanos(long)} is set, by the health checker):
 * after coming back from active down or a passive back-off, {@link #effectiveWeight} ramps from
 * ~10% to 100% of the weight, so a cold backend (empty caches, JIT not warm) is not handed its
 * full share at once while least connections sees it idle.
 */
public final class Backend {
    public static final long INITIAL_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(1);
    public static final long MAX_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(30);
    /**
     * {@link #effectiveWeight} is in 1/16ths of a weight unit (HAProxy's {@code BE_WEIGHT_SCALE}), so
     * a backend of weight 1 can still ramp instead of rounding to all or nothing.
     */
    public static final int WEIGHT_SCALE = 16;
    /** A ramp starts at this share of the weight: zero would starve it, as nobody would ever pick it. */
    private static final int RAMP_START_PERCENT = 10;

    private volatile BackendSpec spec;
    private final AtomicInteger inflight = new AtomicInteger();
    private final AtomicInteger consecutiveFailures = new AtomicInteger();
    /** Meaningful only while {@code consecutiveFailures > 0}; nanoTime values compare by subtraction. */
    private final AtomicLong downUntilNanos = new AtomicLong();
    private volatile boolean activeDown;
    /** Dropped from the routing (reload, DNS): requests in flight finish, its connections are not pooled again. */
    private volatile boolean retired;
    private volatile boolean adminDown;
    private volatile long slowStartNanos;
    /** The current or last slow-start ramp; null when none has run. Replaced whole, never mutated. */
    private volatile Ramp ramp;
    private final LongAdder requests = new LongAdder();
    private final LongAdder failures = new LongAdder();

    public Backend(BackendSpec spec) {
        this.spec = Objects.requireNonNull(spec, "spec");
    }

    public BackendSpec spec() {
        return spec;
    }

    public int weight() {
        return spec.weight();
    }

    /**
     * Takes the new configuration of the same address on reload (weight or host text may change).
     * Package-private: only {@link Routing#rebuild} does this, on the control thread.
     */
    void updateSpec(BackendSpec newSpec) {
        if (!newSpec.address().equals(spec.address())) {
            throw new IllegalArgumentException("address of a backend never changes");
        }
        this.spec = newSpec;
    }

    /** A request starts using this backend; counts it in flight and in the request total. */
    public void acquire() {
        inflight.incrementAndGet();
        requests.increment();
    }

    /**
     * {@link #acquire()} unless the backend is at its {@code max_connections}: a compare-and-set,
     * so concurrent loops can never take it past the cap.
     *
     * @return false (and nothing taken) when it is full
     */
    public boolean tryAcquire() {
        int max = spec.maxConnections();
        if (max <= 0) {
            acquire();
            return true;
        }
        for (;;) {
            int current = inflight.get();
            if (current >= max) {
                return false;
            }
            if (inflight.compareAndSet(current, current + 1)) {
                requests.increment();
                return true;
            }
        }
    }

    /** At its {@code max_connections}: requests for it must wait for a slot. */
    public boolean isFull() {
        int max = spec.maxConnections();
        return max > 0 && inflight.get() >= max;
    }

    /** The cap on requests in flight here, 0 when there is none. */
    public int maxConnections() {
        return spec.maxConnections();
    }

    /**
     * The request is done with this backend. Never goes below zero: a double release (a bug in the
     * caller) must not make this backend look emptier than idle and attract all traffic.
     *
     * @return false if nothing was in flight
     */
    public boolean release() {
        return inflight.getAndUpdate(Backend::decrementToZero) > 0;
    }

    public int inflight() {
        return inflight.get();
    }

    /**
     * Passive health: a connect failure or timeout at {@code nowNanos}. Failures while the backend is
     * already backed off (requests that were in flight when it went away) are counted but do not
     * lengthen the back-off; only a failure after the back-off ended escalates it.
     *
     * <p>Two loops failing at the same instant may both escalate (2 s instead of 1 s); that is
     * harmless and avoids a lock.
     */
    public void markFailed(long nowNanos) {
        failures.increment();
        if (consecutiveFailures.get() > 0 && nowNanos - downUntilNanos.get() < 0) {
            return;
        }
        int failuresInARow = consecutiveFailures.incrementAndGet();
        downUntilNanos.set(nowNanos + backoffNanos(failuresInARow));
    }

    /** Passive health: a request to this backend got a response; ends any back-off. */
    public void markSucceeded() {
        if (consecutiveFailures.get() != 0) {
            consecutiveFailures.set(0);
            // The back-off ended at downUntil, which is when this backend started taking requests
            // again: the ramp is timed from there, so no clock is needed here.
            startRamp(downUntilNanos.get());
        }
    }

    /** Active health checker says down. */
    public void markActiveDown() {
        activeDown = true;
    }

    /** Active health checker says up: also forgets the passive back-off, the probe proved it alive. */
    public void markActiveUp() {
        activeDown = false;
        consecutiveFailures.set(0);
    }

    /** {@link #markActiveUp()} at {@code nowNanos}, starting the slow-start ramp if one is configured. */
    public void markActiveUp(long nowNanos) {
        startRamp(nowNanos);
        markActiveUp();
    }

    /** Slow-start duration for future recoveries; 0 turns it off (a ramp in progress runs out). */
    public void slowStartNanos(long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("slow start must not be negative");
        }
        if (slowStartNanos != nanos) {
            slowStartNanos = nanos;
        }
    }

    public long slowStartNanos() {
        return slowStartNanos;
    }

    /**
     * The weight least connections uses at {@code nowNanos}, in units of 1/{@link #WEIGHT_SCALE}:
     * {@code weight() * WEIGHT_SCALE}, except during a slow-start ramp, when it grows linearly from
     * ~10% to that over the slow-start time (never below 1). No allocation; one volatile read of
     * the ramp beyond {@link #weight()}'s.
     */
    public int effectiveWeight(long nowNanos) {
        int full = spec.weight() * WEIGHT_SCALE;
        Ramp current = ramp;
        if (current == null) {
            return full;
        }
        long elapsed = nowNanos - current.startNanos;
        if (elapsed >= current.durationNanos) {
            return full;
        }
        if (elapsed < 0) {
            elapsed = 0; // another loop's clock read a moment earlier than the recovery stamp
        }
        long start = (long) full * RAMP_START_PERCENT / 100;
        long weight = start + (long) ((full - start) * ((double) elapsed / current.durationNanos));
        return (int) Math.max(1, Math.min(full, weight));
    }

    private void startRamp(long startNanos) {
        long duration = slowStartNanos;
        if (duration > 0) {
            ramp = new Ramp(startNanos, duration);
        }
    }

    public void markAdminDown() {
        adminDown = true;
    }

    public void markAdminUp() {
        adminDown = false;
    }

    /** May new requests be sent here at {@code nowNanos}? */
    public boolean isAvailable(long nowNanos) {
        if (adminDown || activeDown) {
            return false;
        }
        // Benign race: a reader between markFailed's two writes may see the old deadline and let one
        // more request through; that request simply fails like the others in flight.
        return consecutiveFailures.get() == 0 || nowNanos - downUntilNanos.get() >= 0;
    }

    /** Back-off after the given number of consecutive failures: 1 s, 2 s, 4 s, ... capped at 30 s. */
    public static long backoffNanos(int consecutiveFailures) {
        if (consecutiveFailures < 1) {
            return 0;
        }
        int shift = Math.min(consecutiveFailures - 1, 30);
        return Math.min(MAX_BACKOFF_NANOS, INITIAL_BACKOFF_NANOS << shift);
    }

    public int consecutiveFailures() {
        return consecutiveFailures.get();
    }

    public boolean isActiveDown() {
        return activeDown;
    }

    void retire() {
        retired = true;
    }

    /** True once no routing holds it: a connection to it that finishes is closed, not pooled. */
    public boolean isRetired() {
        return retired;
    }

    public boolean isAdminDown() {
        return adminDown;
    }

    /** Requests started here since creation (survives reloads). */
    public long requestCount() {
        return requests.sum();
    }

    /** Passive failures recorded since creation. */
    public long failureCount() {
        return failures.sum();
    }

    @Override
    public String toString() {
        return "Backend[" + spec.hostPort() + " w=" + spec.weight() + " inflight=" + inflight.get() + "]";
    }

    private record Ramp(long startNanos, long durationNanos) {
    }

    private static int decrementToZero(int value) {
        return value > 0 ? value - 1 : 0;
    }
}
