package dev.moonbeam.balance;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * One configured backend: the {@code host:port} text as written, the address it resolved to at
 * config load (the loop never resolves), and its weight.
 */
public record BackendSpec(String hostPort, InetSocketAddress address, int weight) {
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
    }
}
