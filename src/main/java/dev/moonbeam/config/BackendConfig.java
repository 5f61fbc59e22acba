package dev.moonbeam.config;

import java.net.InetSocketAddress;

/**
 * One entry of {@code backend_servers}: as written, resolved (at load time, never on a loop) and
 * its weight for least connections. {@code healthCheck} is the active health check that applies to
 * this backend (the top-level section or this entry's override); {@link HealthCheckConfig#DISABLED}
 * when it is not probed.
 */
public record BackendConfig(HostPort hostPort, InetSocketAddress address, int weight, HealthCheckConfig healthCheck) {
    public static final int DEFAULT_WEIGHT = 1;
    public static final int MAX_WEIGHT = 256;
}
