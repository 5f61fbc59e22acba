package dev.moonbeam.loop;

import java.time.Duration;

/**
 * Manually advanced {@link Clock} for tests. Owned by the test thread; not thread-safe. The start
 * value is arbitrary (and can be set near {@code Long.MAX_VALUE} to test wrap-around), so tests
 * never depend on the origin.
 */
public final class FakeClock implements Clock {
    private long now;

    public FakeClock(long startNanos) {
        this.now = startNanos;
    }

    public FakeClock() {
        this(1_000_000_000L);
    }

    @Override
    public long nanoTime() {
        return now;
    }

    public long advance(Duration by) {
        return advanceNanos(by.toNanos());
    }

    public long advanceNanos(long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("time does not go backwards");
        }
        now += nanos;
        return now;
    }
}
