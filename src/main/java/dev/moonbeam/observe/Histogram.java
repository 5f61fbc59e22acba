package dev.moonbeam.observe;

import java.util.concurrent.TimeUnit;

/**
 * A latency histogram with fixed log-scale buckets from 1 ms to 60 s (the Prometheus client
 * defaults, stretched to cover a backend timeout). Recording is a bucket search over 15 bounds and
 * two increments: no allocation.
 *
 * <p>Owned by one event loop, which alone records. Readers on other threads call {@link #addTo}
 * racily (see {@link LoopMetrics} for why that is good enough); they aggregate into a histogram of
 * their own.
 */
final class Histogram {
    /** Upper bounds, inclusive like Prometheus' {@code le}. */
    static final long[] BOUNDS_NANOS = {
        millis(1), micros(2500), millis(5), millis(10), millis(25), millis(50), millis(100), millis(250),
        millis(500), millis(1000), millis(2500), millis(5000), millis(10_000), millis(30_000), millis(60_000)
    };
    /** The {@code le} label of each bound, then "+Inf". */
    static final String[] LE = {"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
        "1", "2.5", "5", "10", "30", "60", "+Inf"};

    /** Per bucket (not cumulative); the last one is above the highest bound. */
    final long[] counts = new long[BOUNDS_NANOS.length + 1];
    long sumNanos;

    void record(long nanos) {
        if (nanos < 0) {
            return;
        }
        int i = 0;
        while (i < BOUNDS_NANOS.length && nanos > BOUNDS_NANOS[i]) {
            i++;
        }
        counts[i]++;
        sumNanos += nanos;
    }

    /** Adds this histogram's current counts into {@code target} (which the caller owns). */
    void addTo(Histogram target) {
        for (int i = 0; i < counts.length; i++) {
            target.counts[i] += counts[i];
        }
        target.sumNanos += sumNanos;
    }

    /** Observations, as the sum of the buckets so that it always equals the "+Inf" bucket. */
    long count() {
        long total = 0;
        for (long c : counts) {
            total += c;
        }
        return total;
    }

    /**
     * Estimated {@code q}-quantile in seconds, interpolating linearly inside the bucket like
     * Prometheus' {@code histogram_quantile}; NaN when empty. Above 60 s it answers 60 s.
     */
    double quantileSeconds(double q) {
        long total = count();
        if (total == 0) {
            return Double.NaN;
        }
        double rank = q * total;
        long seen = 0;
        for (int i = 0; i < counts.length; i++) {
            if (seen + counts[i] >= rank && counts[i] > 0) {
                if (i == BOUNDS_NANOS.length) {
                    return BOUNDS_NANOS[i - 1] / 1e9;
                }
                double lower = i == 0 ? 0 : BOUNDS_NANOS[i - 1];
                double upper = BOUNDS_NANOS[i];
                return (lower + (upper - lower) * (rank - seen) / counts[i]) / 1e9;
            }
            seen += counts[i];
        }
        return BOUNDS_NANOS[BOUNDS_NANOS.length - 1] / 1e9;
    }

    private static long millis(long value) {
        return TimeUnit.MILLISECONDS.toNanos(value);
    }

    private static long micros(long value) {
        return TimeUnit.MICROSECONDS.toNanos(value);
    }
}
