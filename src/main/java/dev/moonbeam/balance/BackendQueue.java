package dev.moonbeam.balance;

import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * The process-wide line of requests waiting for a backend slot: a request that finds every
 * available backend at its {@code max_connections} takes a {@link Ticket} here, and the first slot
 * that frees on any backend goes to the oldest ticket, whichever loop it belongs to (HAProxy's
 * {@code maxconn} queue; nginx OSS has none).
 *
 * <p>A freed slot is handed over, not released and re-taken: {@link #dispatch} acquires it for the
 * head ticket and tells the ticket's owner, so a request arriving on another loop at that instant
 * cannot overtake one that has waited. For the same reason a new request joins the line whenever
 * it is not empty ({@link #isEmpty}), even if a slot happens to be free.
 *
 * <p>Thread-safe. A lock guards the line; only requests that found no room take it. Every release
 * of a slot calls {@link #dispatch}, which costs one volatile read while nobody waits.
 */
public final class BackendQueue {
    /** Why {@link #enqueue} refused. */
    public enum Admission { WAITING, FULL }

    /**
     * One waiting request. Owned by one exchange and reused for its later requests; all its fields
     * are guarded by the queue's lock. {@code granted} runs on the dispatching thread: it must only
     * post work to the owner's loop.
     */
    public static final class Ticket {
        private final Runnable granted;
        private Ticket previous;
        private Ticket next;
        private boolean waiting;
        private Backend backend;

        public Ticket(Runnable granted) {
            this.granted = Objects.requireNonNull(granted, "granted");
        }
    }

    private final Supplier<LoadBalancer> balancer;
    private final Object lock = new Object();
    private Ticket head;
    private Ticket tail;
    private volatile int length;
    private volatile int maxWaiting;
    private volatile long timeoutNanos;
    private final LongAdder enqueued = new LongAdder();
    private final LongAdder overflows = new LongAdder();
    private final LongAdder timeouts = new LongAdder();

    /**
     * @param balancer the current balancer (it changes on reload), e.g. {@code () ->
     *     routing.current().balancer()}
     */
    public BackendQueue(Supplier<LoadBalancer> balancer, int maxWaiting, long timeoutNanos) {
        this.balancer = Objects.requireNonNull(balancer, "balancer");
        configure(maxWaiting, timeoutNanos);
    }

    /** New limits for requests that join from now on (a reload); those waiting keep their place. */
    public void configure(int newMaxWaiting, long newTimeoutNanos) {
        if (newMaxWaiting < 0 || newTimeoutNanos < 0) {
            throw new IllegalArgumentException("maxWaiting and timeout must not be negative");
        }
        maxWaiting = newMaxWaiting;
        timeoutNanos = newTimeoutNanos;
    }

    /** Joins the line at its end, unless {@code max_waiting} requests already wait (or it is 0). */
    public Admission enqueue(Ticket ticket) {
        synchronized (lock) {
            if (ticket.waiting || ticket.backend != null) {
                throw new IllegalStateException("ticket already in the queue");
            }
            if (length >= maxWaiting || timeoutNanos == 0) {
                overflows.increment();
                return Admission.FULL;
            }
            ticket.waiting = true;
            ticket.previous = tail;
            ticket.next = null;
            if (tail == null) {
                head = ticket;
            } else {
                tail.next = ticket;
            }
            tail = ticket;
            length++;
            enqueued.increment();
            return Admission.WAITING;
        }
    }

    /**
     * Leaves the line (timeout, client gone).
     *
     * @return false when a slot was already granted: it is on its way to the owner, who must take
     *     it with {@link #claim} and release it if it no longer wants it
     */
    public boolean cancel(Ticket ticket) {
        synchronized (lock) {
            if (!ticket.waiting) {
                return ticket.backend == null;
            }
            unlink(ticket);
            return true;
        }
    }

    /** The ticket's request waited its whole timeout; counted for the metrics. */
    public void timedOut() {
        timeouts.increment();
    }

    /**
     * Takes the backend a slot was granted on (its in-flight count already includes the caller),
     * or null when none was granted.
     */
    public Backend claim(Ticket ticket) {
        synchronized (lock) {
            Backend backend = ticket.backend;
            ticket.backend = null;
            return backend;
        }
    }

    /**
     * Hands free slots to the oldest tickets, as long as the balancer finds a backend with room.
     * Call after releasing a slot, after joining the line, and now and then while tickets wait (a
     * backend coming back up or a reload raising a limit frees room without a release).
     */
    public void dispatch(long nowNanos) {
        if (length == 0) {
            return;
        }
        LoadBalancer current = balancer.get();
        synchronized (lock) {
            while (head != null) {
                Backend backend = current.acquire(nowNanos, null);
                if (backend == null) {
                    return;
                }
                Ticket ticket = head;
                unlink(ticket);
                ticket.backend = backend;
                try {
                    ticket.granted.run();
                } catch (RuntimeException e) {
                    // The owner's loop is gone: give the slot back rather than leak it.
                    ticket.backend = null;
                    backend.release();
                }
            }
        }
    }

    private void unlink(Ticket ticket) {
        if (ticket.previous == null) {
            head = ticket.next;
        } else {
            ticket.previous.next = ticket.next;
        }
        if (ticket.next == null) {
            tail = ticket.previous;
        } else {
            ticket.next.previous = ticket.previous;
        }
        ticket.previous = null;
        ticket.next = null;
        ticket.waiting = false;
        length--;
    }

    /** Nobody waits: a request with a free slot may go straight to its backend. */
    public boolean isEmpty() {
        return length == 0;
    }

    /** Requests waiting now. */
    public int length() {
        return length;
    }

    public int maxWaiting() {
        return maxWaiting;
    }

    public long timeoutNanos() {
        return timeoutNanos;
    }

    /** Requests that have joined the line since start. */
    public long enqueuedCount() {
        return enqueued.sum();
    }

    /** Requests turned away because the line was full. */
    public long overflowCount() {
        return overflows.sum();
    }

    /** Requests that waited their whole timeout. */
    public long timeoutCount() {
        return timeouts.sum();
    }
}
