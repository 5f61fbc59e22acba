package dev.moonbeam.config;

import java.time.Duration;

/**
 * The {@code warmup} section: before its listeners open, MoonBeam drives its own request paths
 * through loopback for {@code duration}, so the JIT has compiled them before the first client
 * arrives (see dev.moonbeam.warmup.WarmUp).
 *
 * @param duration how long; {@link Duration#ZERO} switches the warm-up off
 */
public record WarmUpConfig(Duration duration) {
    public static final Duration DEFAULT_DURATION = Duration.ofSeconds(1);
    public static final Duration MAX_DURATION = Duration.ofSeconds(60);
    public static final WarmUpConfig DEFAULTS = new WarmUpConfig(DEFAULT_DURATION);
    public static final WarmUpConfig OFF = new WarmUpConfig(Duration.ZERO);

    public boolean enabled() {
        return !duration.isZero();
    }
}
