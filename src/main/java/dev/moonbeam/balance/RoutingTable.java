package dev.moonbeam.balance;

import java.util.List;
import java.util.Objects;

/**
 * Holder of the current {@link Routing}: the one volatile reference through which a reload
 * publishes a new snapshot to all loops.
 *
 * <p>Shared: {@link #current()} from any thread (one volatile read); {@link #replace} and {@link
 * #reload} from the control thread only. With a single writer, reload's read-rebuild-write needs
 * no compare-and-set.
 */
public final class RoutingTable {
    private volatile Routing current;

    public RoutingTable(Routing initial) {
        this.current = Objects.requireNonNull(initial, "initial");
    }

    public Routing current() {
        return current;
    }

    /** Publishes {@code next}; returns the snapshot it replaced. */
    public Routing replace(Routing next) {
        Routing previous = current;
        current = Objects.requireNonNull(next, "next");
        return previous;
    }

    /** Rebuilds from {@code specs}, keeping backends by address, and publishes the result. */
    public Routing reload(List<BackendSpec> specs) {
        Routing next = Routing.rebuild(current, specs);
        current = next;
        return next;
    }
}
