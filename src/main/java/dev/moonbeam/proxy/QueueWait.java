package dev.moonbeam.proxy;

import dev.moonbeam.balance.Backend;
import dev.moonbeam.balance.BackendQueue;
import dev.moonbeam.observe.Termination;

/**
 * An {@link Exchange}'s wait in the process-wide {@link BackendQueue} while every available
 * backend is at its {@code max_connections}: joining it, the periodic recheck and the queue
 * timeout (503), and taking or passing on a granted slot. One per exchange; its ticket is made
 * when the exchange first waits and kept for later requests, so waiting allocates nothing after
 * that. Loop-owned (a grant arrives from other threads only as a task posted to the loop).
 */
final class QueueWait {
    /** The exchange's logger: logging set for {@link Exchange} covers all of an exchange's messages. */
    private static final System.Logger LOG = System.getLogger(Exchange.class.getName());
    /** How often a waiting request looks for room that no release announced. */
    private static final long QUEUE_RECHECK_NANOS = 100_000_000L;

    private final Exchange exchange;
    private final Worker worker;
    /** This exchange's place in the backend queue; null until it first waits. */
    private BackendQueue.Ticket ticket;
    private long deadlineNanos;
    /** A retry that had to wait still wants a new connection when its slot comes. */
    private boolean freshConnection;

    QueueWait(Exchange exchange, Worker worker) {
        this.exchange = exchange;
        this.worker = worker;
    }

    /** Joins the backend queue, or answers 503 at once when it is full. */
    void enqueue(BackendQueue queue, boolean fresh) {
        freshConnection = fresh;
        if (ticket == null) {
            GrantRelay relay = new GrantRelay();
            ticket = relay.ticket = new BackendQueue.Ticket(() -> worker.loop().execute(relay));
        }
        if (queue.enqueue(ticket) == BackendQueue.Admission.FULL) {
            LOG.log(System.Logger.Level.DEBUG, "backend queue full: 503");
            exchange.finish(503, Termination.QUEUE_FULL);
            return;
        }
        long now = worker.loop().now();
        exchange.enter(Exchange.State.QUEUED);
        deadlineNanos = now + queue.timeoutNanos();
        armTimer(now);
        queue.dispatch(now); // a slot may have freed between the pick and joining
    }

    /**
     * Wakes a waiting request now and then even without a release: a backend coming back up or a
     * reload raising a limit makes room that no release announces.
     */
    private void armTimer(long now) {
        exchange.schedule(Math.min(deadlineNanos, now + QUEUE_RECHECK_NANOS));
    }

    /** The exchange's timer fired while it waits: look for room again, or give up at the queue timeout. */
    void onTimer() {
        long now = worker.loop().now();
        BackendQueue queue = worker.queue();
        if (now - deadlineNanos < 0) {
            queue.dispatch(now);
            if (exchange.state() == Exchange.State.QUEUED) {
                armTimer(now);
            }
            return;
        }
        if (queue.cancel(ticket)) {
            queue.timedOut();
            LOG.log(System.Logger.Level.DEBUG, "request waited its whole queue timeout: 503");
            exchange.enter(Exchange.State.IDLE);
            exchange.report().queueWaitEnds();
            ClientSide owner = exchange.client(); // the 503 may close the client and unbind the exchange
            exchange.finish(503, Termination.QUEUE_TIMEOUT);
            owner.progress();
        }
        // Otherwise a slot was granted just now and is on its way: take it.
    }

    /** A slot was granted to {@code granted} (runs on this loop, posted by whoever freed it). */
    private void onSlotGranted(BackendQueue.Ticket granted) {
        BackendQueue queue = worker.queue();
        Backend slot = queue.claim(granted);
        if (slot == null) {
            return;
        }
        if (granted != ticket || exchange.state() != Exchange.State.QUEUED) {
            // The request ended while the grant was on its way: pass the slot on.
            slot.release();
            queue.dispatch(worker.loop().now());
            return;
        }
        exchange.cancelTimer();
        exchange.report().queueWaitEnds();
        exchange.startOnGranted(slot, freshConnection);
    }

    /** Brings a grant from the thread that freed the slot to this exchange's loop; one per ticket. */
    private final class GrantRelay implements Runnable {
        BackendQueue.Ticket ticket;

        @Override
        public void run() {
            onSlotGranted(ticket);
        }
    }

    /** Leaves the queue when the request ends while waiting (client gone, shutdown). */
    void leave() {
        if (exchange.state() != Exchange.State.QUEUED) {
            return;
        }
        exchange.report().queueWaitEnds(); // its wait counts too
        if (ticket != null && !worker.queue().cancel(ticket)) {
            // A slot is on its way to this ticket: onSlotGranted will pass it on. A new request on
            // this exchange takes a new ticket, so it cannot mistake that grant for its own.
            ticket = null;
        }
    }
}
