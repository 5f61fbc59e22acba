package dev.moonbeam.config;

import java.time.Duration;

/**
 * The {@code queue} section: where requests wait when every available backend is at its
 * {@code max_connections}. Only backends with a limit can fill up, so without one the queue is
 * never used.
 *
 * @param maxWaiting requests that may wait at once, process-wide; one more gets a 503
 * @param timeout    how long a request may wait for a slot before it gets a 503
 */
public record QueueConfig(int maxWaiting, Duration timeout) {
    public static final int DEFAULT_MAX_WAITING = 1024;
    public static final int MAX_MAX_WAITING = 1_000_000;
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration MAX_TIMEOUT = Duration.ofMinutes(10);
    public static final QueueConfig DEFAULTS = new QueueConfig(DEFAULT_MAX_WAITING, DEFAULT_TIMEOUT);

    public QueueConfig {
        if (maxWaiting < 0 || timeout == null || timeout.isNegative()) {
            throw new IllegalArgumentException("maxWaiting >= 0 and a non-negative timeout are required");
        }
    }
}
