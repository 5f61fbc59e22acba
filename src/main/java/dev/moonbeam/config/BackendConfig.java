package dev.moonbeam.config;

import java.net.InetSocketAddress;

/**
 * One entry of {@code backend_servers}: as written, resolved (at load time, never on a loop) and
 * its weight for least connections.
 */
public record BackendConfig(HostPort hostPort, InetSocketAddress address, int weight) {
    public static final int DEFAULT_WEIGHT = 1;
    public static final int MAX_WEIGHT = 256;
}
