package dev.moonbeam.config;

import java.net.InetAddress;
import java.util.List;

/**
 * A set of address ranges: who may send {@code X-Forwarded-*} headers MoonBeam believes. Asked
 * once per client connection, not per request. Immutable.
 */
public final class Networks {
    /** Every address (the {@code true} shorthand). */
    public static final Networks ALL = new Networks(List.of(), true);
    /** No address (the default, and {@code false}). */
    public static final Networks NONE = new Networks(List.of(), false);

    private final List<Cidr> ranges;
    private final boolean everything;

    private Networks(List<Cidr> ranges, boolean everything) {
        this.ranges = ranges;
        this.everything = everything;
    }

    public static Networks of(List<Cidr> ranges) {
        return ranges.isEmpty() ? NONE : new Networks(List.copyOf(ranges), false);
    }

    public boolean contains(InetAddress address) {
        if (everything) {
            return true;
        }
        for (Cidr range : ranges) {
            if (range.contains(address)) {
                return true;
            }
        }
        return false;
    }

    /** True when no address is in the set. */
    public boolean isEmpty() {
        return !everything && ranges.isEmpty();
    }

    public List<Cidr> ranges() {
        return ranges;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Networks that && everything == that.everything && ranges.equals(that.ranges);
    }

    @Override
    public int hashCode() {
        return ranges.hashCode() * 2 + (everything ? 1 : 0);
    }

    /** For logs: {@code all}, {@code none} or the ranges. */
    @Override
    public String toString() {
        return everything ? "all" : ranges.isEmpty() ? "none" : ranges.toString();
    }
}
