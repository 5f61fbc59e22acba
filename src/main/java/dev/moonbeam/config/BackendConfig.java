package dev.moonbeam.config;

import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * One entry of {@code backend_servers}: as written, resolved (at load time, never on a loop) and
 * its weight for least connections. {@code healthCheck} is the active health check that applies to
 * this backend (the top-level section or this entry's override); {@link HealthCheckConfig#DISABLED}
 * when it is not probed. {@code maxConnections} caps the requests in flight to it across all loops
 * ({@link #UNLIMITED} = no cap); requests beyond it wait in the {@link QueueConfig queue}.
 * {@code sendProxyProtocol}: each new connection to it starts with a PROXY v2 header naming the client.
 * {@code resolveInterval}: null when the host was resolved once, at load ({@code address} is that);
 * otherwise the name is re-resolved this often and every address it has becomes a member
 * ({@code address} is then unresolved, and only names the entry).
 */
public record BackendConfig(HostPort hostPort, InetSocketAddress address, int weight, HealthCheckConfig healthCheck,
                            int maxConnections, boolean sendProxyProtocol, Duration resolveInterval) {
    public static final int DEFAULT_WEIGHT = 1;
    public static final int MAX_WEIGHT = 256;
    /** {@code max_connections} when absent: no limit on requests in flight to the backend. */
    public static final int UNLIMITED = 0;
    public static final int MAX_MAX_CONNECTIONS = 1_000_000;

    public BackendConfig(HostPort hostPort, InetSocketAddress address, int weight, HealthCheckConfig healthCheck) {
        this(hostPort, address, weight, healthCheck, UNLIMITED, false, null);
    }

    public static final Duration DEFAULT_RESOLVE_INTERVAL = Duration.ofSeconds(10);

    /** True for a {@code "resolve": "dns"} entry, whose members come and go with its DNS records. */
    public boolean isDiscovered() {
        return resolveInterval != null;
    }
}
