package dev.moonbeam.balance;

import dev.moonbeam.config.HealthCheckConfig;
import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * One configured backend: the {@code host:port} text as written, the address it resolved to at
 * config load (the loop never resolves), its weight, and the cap on requests in flight to it
 * ({@code maxConnections}, 0 = none), and whether its connections begin with a PROXY v2 header
 * ({@code sendProxyProtocol}; they then carry one client each and are not pooled). {@code healthCheck}
 * is the active check its config entry asks for, or null to leave it to the checker's own plan (a
 * member found through DNS has no address in the config, so it carries its entry's check here).
 */
public record BackendSpec(String hostPort, InetSocketAddress address, int weight, int maxConnections,
                          boolean sendProxyProtocol, HealthCheckConfig healthCheck) {
    public static final int MIN_WEIGHT = 1;
    /** Same cap as HAProxy's server weight; keeps the crosswise products far from overflow. */
    public static final int MAX_WEIGHT = 256;

    public BackendSpec {
        Objects.requireNonNull(hostPort, "hostPort");
        Objects.requireNonNull(address, "address");
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("backend address must be resolved: " + hostPort);
        }
        if (weight < MIN_WEIGHT || weight > MAX_WEIGHT) {
            throw new IllegalArgumentException(
                    "weight must be " + MIN_WEIGHT + ".." + MAX_WEIGHT + ": " + weight + " for " + hostPort);
        }
        if (maxConnections < 0) {
            throw new IllegalArgumentException("maxConnections must not be negative: " + maxConnections);
        }
    }

    /** A backend without a cap on requests in flight. */
    public BackendSpec(String hostPort, InetSocketAddress address, int weight) {
        this(hostPort, address, weight, 0, false, null);
    }

    public BackendSpec(String hostPort, InetSocketAddress address, int weight, int maxConnections) {
        this(hostPort, address, weight, maxConnections, false, null);
    }

    public BackendSpec(String hostPort, InetSocketAddress address, int weight, int maxConnections,
            boolean sendProxyProtocol) {
        this(hostPort, address, weight, maxConnections, sendProxyProtocol, null);
    }
}
