package dev.moonbeam.loop;

/**
 * Monotonic time source in nanoseconds, so every timeout can be driven by a fake clock in tests.
 *
 * <p>Values have an arbitrary origin (like {@link System#nanoTime()}) and may be negative; compare
 * two instants only by subtracting them ({@code a - b < 0}), never with {@code <}, so wrap-around
 * does not break ordering.
 */
@FunctionalInterface
public interface Clock {
    /** The real monotonic clock. */
    Clock SYSTEM = System::nanoTime;

    long nanoTime();
}
