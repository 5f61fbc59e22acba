package dev.moonbeam.proxy;

/**
 * Counts what a client makes an HTTP/2 connection do without asking for anything: resets of its
 * own streams, pings, SETTINGS, refused streams, empty DATA. Past a budget per second the
 * connection is cut (as HAProxy's glitch counter does): the defence against rapid reset
 * (CVE-2023-44487) and the ping, settings and empty-frame floods (CVE-2019-9512, -9515, -9518).
 *
 * <p>Loop-owned, one per connection.
 */
final class GlitchCounter {
    private static final long WINDOW_NANOS = 1_000_000_000L;

    private final int perSecond;
    private long windowStart;
    private int count;

    GlitchCounter(int perSecond) {
        this.perSecond = perSecond;
    }

    /** Counts one; true when the budget of the current second is exceeded. */
    boolean add(long nowNanos) {
        if (nowNanos - windowStart > WINDOW_NANOS) {
            windowStart = nowNanos;
            count = 0;
        }
        return ++count > perSecond;
    }
}
