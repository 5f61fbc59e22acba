package dev.moonbeam.balance;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Immutable snapshot of where requests go: the backends and the {@link LoadBalancer} over them.
 * Published whole through {@link RoutingTable}; a loop reads the reference once per request and
 * uses that snapshot throughout, so a reload never shows it half a configuration.
 *
 * <p>The {@link Backend} objects inside are shared mutable counters (thread-safe); the list and
 * balancer are fixed.
 */
public final class Routing {
    /** No backends: every pick returns null and the proxy answers 503. */
    public static final Routing EMPTY = new Routing(List.of());

    private final List<Backend> backends;
    private final LoadBalancer balancer;

    /** A snapshot balanced with {@link LeastConnections}. */
    public Routing(List<Backend> backends) {
        this.backends = List.copyOf(backends);
        this.balancer = new LeastConnections(this.backends);
    }

    /** Fresh backends for a first configuration. */
    public static Routing of(List<BackendSpec> specs) {
        return rebuild(EMPTY, specs);
    }

    /**
     * The snapshot for a reloaded configuration. A spec whose address was already configured keeps
     * the previous {@link Backend} object (taking the new weight and host text), so its in-flight
     * count and health carry over and requests in flight release the counter the balancer sees. A
     * removed backend simply drops out; requests still using it release it normally.
     *
     * @throws IllegalArgumentException if two specs share one address
     */
    public static Routing rebuild(Routing previous, List<BackendSpec> specs) {
        Objects.requireNonNull(previous, "previous");
        Map<InetSocketAddress, Backend> old = new HashMap<>();
        for (Backend backend : previous.backends) {
            old.put(backend.spec().address(), backend);
        }
        Map<InetSocketAddress, BackendSpec> seen = new HashMap<>();
        List<Backend> next = new ArrayList<>(specs.size());
        for (BackendSpec spec : specs) {
            BackendSpec duplicate = seen.putIfAbsent(spec.address(), spec);
            if (duplicate != null) {
                throw new IllegalArgumentException("backends " + duplicate.hostPort() + " and "
                        + spec.hostPort() + " resolve to the same address " + spec.address());
            }
            Backend kept = old.get(spec.address());
            if (kept == null) {
                next.add(new Backend(spec));
            } else {
                kept.updateSpec(spec);
                next.add(kept);
            }
        }
        java.util.Set<Backend> stays = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        stays.addAll(next);
        for (Backend backend : previous.backends) {
            if (!stays.contains(backend)) {
                backend.retire();
            }
        }
        return new Routing(next);
    }

    public List<Backend> backends() {
        return backends;
    }

    public LoadBalancer balancer() {
        return balancer;
    }
}
