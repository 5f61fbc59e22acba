package dev.moonbeam.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Active health checks for one backend (or the {@code health_check} defaults for all of them).
 * {@link #DISABLED} when the section is absent or a backend opts out with {@code "health_check":
 * false}; never null in a loaded config.
 *
 * <p>Defaults follow HAProxy where it has one ({@code inter 2s rise 2 fall 3}, 2xx and 3xx pass)
 * and nginx for the path ({@code uri /}).
 *
 * @param enabled            false: this backend is never probed (and never taken out by a probe)
 * @param path               request target of the {@code GET}; origin-form, visible ASCII only
 * @param interval           time between the starts of two probes of one backend
 * @param timeout            bound on connect and on reading the status line, each probe
 * @param healthyThreshold   consecutive passing probes that put a down backend back ("rise")
 * @param unhealthyThreshold consecutive failing probes that take a backend out ("fall")
 * @param expectStatusMin    lowest status that passes
 * @param expectStatusMax    highest status that passes
 * @param host               the {@code Host} header, or null for the backend's own {@code host:port}
 * @param slowStart          after coming back, the backend's weight ramps from ~10% to 100% over
 *                           this; zero = full weight at once
 */
public record HealthCheckConfig(boolean enabled, String path, Duration interval, Duration timeout,
                                int healthyThreshold, int unhealthyThreshold, int expectStatusMin,
                                int expectStatusMax, String host, Duration slowStart) {
    public static final HealthCheckConfig DEFAULTS = new HealthCheckConfig(true, "/", Duration.ofSeconds(2),
            Duration.ofSeconds(1), 2, 3, 200, 399, null, Duration.ZERO);
    public static final HealthCheckConfig DISABLED = new HealthCheckConfig(false, "/", Duration.ofSeconds(2),
            Duration.ofSeconds(1), 2, 3, 200, 399, null, Duration.ZERO);

    public HealthCheckConfig {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(interval, "interval");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(slowStart, "slowStart");
        if (healthyThreshold < 1 || unhealthyThreshold < 1) {
            throw new IllegalArgumentException("thresholds must be at least 1");
        }
        if (expectStatusMin < 100 || expectStatusMax > 599 || expectStatusMin > expectStatusMax) {
            throw new IllegalArgumentException("expected status range must lie within 100-599: "
                    + expectStatusMin + "-" + expectStatusMax);
        }
    }

    /** Does a probe answered with {@code status} pass? */
    public boolean expects(int status) {
        return status >= expectStatusMin && status <= expectStatusMax;
    }
}
