package dev.moonbeam.observe;

import dev.moonbeam.balance.Backend;
import java.util.Arrays;
import java.util.IdentityHashMap;

/**
 * One loop's request counters: requests by status class and by termination reason, bytes sent, and per backend
 * the same plus connect and response-head latency histograms. Counting allocates nothing except
 * the first time a backend is seen.
 *
 * <p>Owned by one event loop: only it calls {@link #requestFinished}, with plain fields and no
 * locks, volatiles or atomics. {@link MetricsRegistry} reads the fields from another thread
 * without synchronisation. That is fine for monitoring: each field has a single writer, so no
 * increment is ever lost; a reader may see a value a moment old or counters from slightly
 * different instants (a scrape is a sample, not a transaction); on a 64-bit JVM a {@code long}
 * is written whole. The per-backend array is replaced, never changed in place, when a backend is
 * first seen, so a reader sees either the old or the new array; it skips entries it sees as null.
 */
public final class LoopMetrics implements RequestListener {
    static final int STATUS_CLASSES = 6;
    private static final Termination[] TERMINATIONS = Termination.values();

    /** Index {@code status / 100} for 1xx..5xx; index 0 for anything else. */
    final long[] requestsByClass = new long[STATUS_CLASSES];
    final long[] terminations = new long[TERMINATIONS.length];
    long bytesSent;
    /** Requests that came as HTTP/2 streams (the rest came over HTTP/1.x). */
    long http2Requests;
    /** Time in the backend queue of the requests that waited there. */
    final Histogram queueWait = new Histogram();
    /** Read racily by the registry; see the class comment. */
    BackendMetrics[] backends = new BackendMetrics[0];
    private final IdentityHashMap<Backend, BackendMetrics> byBackend = new IdentityHashMap<>();

    /** One backend's counters on this loop. Loop-owned like its {@link LoopMetrics}. */
    static final class BackendMetrics {
        final Backend backend;
        final long[] requestsByClass = new long[STATUS_CLASSES];
        /** Responses of 5xx (including MoonBeam's own 502/504) and responses cut short by the backend. */
        long errors;
        final Histogram connect = new Histogram();
        final Histogram response = new Histogram();

        BackendMetrics(Backend backend) {
            this.backend = backend;
        }
    }

    LoopMetrics() {
    }

    @Override
    public void requestFinished(RequestRecord record) {
        int statusClass = statusClass(record.status);
        requestsByClass[statusClass]++;
        if (record.termination != null) {
            terminations[record.termination.ordinal()]++;
        }
        bytesSent += record.bytesSent;
        if (record.http2) {
            http2Requests++;
        }
        queueWait.record(record.queueNanos);
        if (record.backend == null) {
            return;
        }
        BackendMetrics metrics = byBackend.get(record.backend);
        if (metrics == null) {
            metrics = add(record.backend);
        }
        metrics.requestsByClass[statusClass]++;
        if (statusClass == 5 || record.termination != null && record.termination.isBackendFault()) {
            metrics.errors++;
        }
        metrics.connect.record(record.connectNanos);
        metrics.response.record(record.backendHeadNanos);
    }

    static int statusClass(int status) {
        return status >= 100 && status < 600 ? status / 100 : 0;
    }

    static Termination[] terminations() {
        return TERMINATIONS.clone();
    }

    private BackendMetrics add(Backend backend) {
        BackendMetrics metrics = new BackendMetrics(backend);
        byBackend.put(backend, metrics);
        BackendMetrics[] grown = Arrays.copyOf(backends, backends.length + 1);
        grown[grown.length - 1] = metrics;
        backends = grown;
        return metrics;
    }
}
