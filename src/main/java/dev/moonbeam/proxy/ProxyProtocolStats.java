package dev.moonbeam.proxy;

import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Process-wide PROXY protocol counters for metrics, and the warning for refused connections,
 * logged at most once a minute per reason so a misconfigured balancer cannot flood the log.
 * Any thread.
 */
public final class ProxyProtocolStats {
    private static final System.Logger LOG = System.getLogger(ProxyProtocolStats.class.getName());
    private static final long LOG_INTERVAL_NANOS = 60_000_000_000L;

    /** Why a connection was refused; the metric label is the lower-case name. */
    public enum Refusal {
        /** A PROXY header from an address not in proxy_protocol.from: anyone could forge one. */
        UNTRUSTED_SOURCE,
        /** A listed balancer sent no header. */
        MISSING,
        /** A malformed, oversized, truncated or inconsistent header. */
        INVALID,
        /** A listed balancer sent no complete header in time. */
        TIMEOUT;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final LongAdder accepted = new LongAdder();
    private final LongAdder[] refused = new LongAdder[Refusal.values().length];
    private final AtomicLong[] lastLogged = new AtomicLong[Refusal.values().length];

    public ProxyProtocolStats() {
        for (int i = 0; i < refused.length; i++) {
            refused[i] = new LongAdder();
            lastLogged[i] = new AtomicLong(System.nanoTime() - LOG_INTERVAL_NANOS);
        }
    }

    void accepted() {
        accepted.increment();
    }

    void refused(Refusal refusal, InetSocketAddress peer, String reason) {
        refused[refusal.ordinal()].increment();
        long now = System.nanoTime();
        AtomicLong last = lastLogged[refusal.ordinal()];
        long previous = last.get();
        if (now - previous >= LOG_INTERVAL_NANOS && last.compareAndSet(previous, now)) {
            LOG.log(System.Logger.Level.WARNING, () -> "PROXY protocol: refused a connection from "
                    + peer.getAddress().getHostAddress() + ": " + reason + " (" + refusal.label() + "; "
                    + refusedCount(refusal) + " so far, logged at most once a minute)");
        } else {
            LOG.log(System.Logger.Level.DEBUG, () -> "PROXY protocol: refused " + peer + ": " + reason);
        }
    }

    public long acceptedCount() {
        return accepted.sum();
    }

    public long refusedCount(Refusal refusal) {
        return refused[refusal.ordinal()].sum();
    }
}
