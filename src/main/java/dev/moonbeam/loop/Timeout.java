package dev.moonbeam.loop;

import java.util.Objects;

/**
 * One reusable timeout, owned by a connection and scheduled in its loop's {@link Timers}.
 *
 * <p>Owned by the loop thread of the {@code Timers} it is scheduled in; no locks. The callback is
 * fixed at construction so that scheduling, rescheduling and cancelling allocate nothing: a
 * connection creates its timeouts once and re-arms them for every phase (handshake, head, idle).
 *
 * <p>The heap position is kept here (an intrusive index) so reschedule is O(log n) at worst and
 * cancel O(1), without a lookup map.
 */
public final class Timeout {
    /** {@link #heapIndex} of a timeout that is not scheduled. */
    static final int NOT_SCHEDULED = -1;

    private final Runnable onExpiry;
    long deadlineNanos;
    /** Tie-breaker: equal deadlines fire in the order they were scheduled. */
    long sequence;
    /**
     * The deadline and sequence the heap is ordered by: never later than the real ones. A timeout
     * pushed later (an inactivity timeout re-armed on every read) keeps its old heap place until that
     * old deadline passes, so the common re-arm costs no sift (see {@link Timers#schedule}).
     */
    long keyNanos;
    long keySequence;
    int heapIndex = NOT_SCHEDULED;
    /** Cancelled but still in the heap at {@link #heapIndex} (cancelling is lazy, see {@link Timers}). */
    boolean cancelled;

    public Timeout(Runnable onExpiry) {
        this.onExpiry = Objects.requireNonNull(onExpiry, "onExpiry");
    }

    public boolean isScheduled() {
        return heapIndex != NOT_SCHEDULED && !cancelled;
    }

    /** The deadline last scheduled; meaningful only while {@link #isScheduled()}. */
    public long deadlineNanos() {
        return deadlineNanos;
    }

    /** True when its heap place is its real deadline (not postponed since it was last placed). */
    boolean isSettled() {
        return keyNanos == deadlineNanos && keySequence == sequence;
    }

    void fire() {
        onExpiry.run();
    }
}
