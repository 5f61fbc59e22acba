package dev.moonbeam.balance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class RoutingTest {

    @Test
    void firstConfigurationCreatesBackendsInSpecOrder() {
        Routing routing = Routing.of(List.of(Backends.spec(9001, 1), Backends.spec(9000, 3)));
        assertThat(routing.backends()).extracting(b -> b.spec().address().getPort()).containsExactly(9001, 9000);
        assertThat(routing.backends()).extracting(Backend::weight).containsExactly(1, 3);
        assertThat(routing.balancer().pick(0, null)).isSameAs(routing.backends().get(1));
    }

    @Test
    void reloadKeepsBackendObjectsBySameAddress() {
        Routing first = Routing.of(List.of(Backends.spec(9000, 1), Backends.spec(9001, 1), Backends.spec(9002, 1)));
        Backend kept = first.backends().get(0);
        Backend removed = first.backends().get(1);
        Backend keptToo = first.backends().get(2);
        Backends.acquire(kept, 3);
        kept.markFailed(0);

        BackendSpec reweighted = new BackendSpec("localhost:9000", kept.spec().address(), 5);
        Routing second = Routing.rebuild(first, List.of(Backends.spec(9003, 1), reweighted, Backends.spec(9002, 1)));

        assertThat(second.backends()).hasSize(3);
        assertThat(second.backends().get(1)).as("same address, same object").isSameAs(kept);
        assertThat(second.backends().get(2)).isSameAs(keptToo);
        assertThat(second.backends().get(0)).isNotIn(first.backends());
        assertThat(second.backends()).doesNotContain(removed);
        assertThat(kept.inflight()).as("in-flight carries over").isEqualTo(3);
        assertThat(kept.consecutiveFailures()).as("health carries over").isEqualTo(1);
        assertThat(kept.weight()).as("new weight applies").isEqualTo(5);
        assertThat(kept.spec().hostPort()).isEqualTo("localhost:9000");

        // A request that started before the reload releases the very counter the new balancer reads.
        kept.release();
        assertThat(second.backends().get(1).inflight()).isEqualTo(2);
        // The old snapshot is untouched.
        assertThat(first.backends()).containsExactly(kept, removed, keptToo);
        // Only the dropped one is retired: its connections are closed when their requests finish.
        assertThat(removed.isRetired()).isTrue();
        assertThat(second.backends()).noneMatch(Backend::isRetired);
    }

    @Test
    void duplicateAddressesAreRejected() {
        InetSocketAddress address = Backends.spec(9000, 1).address();
        List<BackendSpec> specs = List.of(new BackendSpec("a:9000", address, 1), new BackendSpec("b:9000", address, 2));
        assertThatThrownBy(() -> Routing.of(specs))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("same address");
    }

    @Test
    void emptyRoutingPicksNothing() {
        assertThat(Routing.EMPTY.backends()).isEmpty();
        assertThat(Routing.EMPTY.balancer().pick(0, null)).isNull();
        assertThat(Routing.of(List.of()).balancer().pick(0, null)).isNull();
    }

    @Test
    void snapshotListIsImmutable() {
        Routing routing = Routing.of(List.of(Backends.spec(9000, 1)));
        assertThatThrownBy(() -> routing.backends().clear()).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void tablePublishesWholeSnapshots() {
        RoutingTable table = new RoutingTable(Routing.EMPTY);
        assertThat(table.current()).isSameAs(Routing.EMPTY);

        Routing loaded = table.reload(List.of(Backends.spec(9000, 1)));
        assertThat(table.current()).isSameAs(loaded);
        Backend backend = loaded.backends().get(0);

        Routing reloaded = table.reload(List.of(Backends.spec(9000, 2), Backends.spec(9001, 1)));
        assertThat(reloaded.backends().get(0)).isSameAs(backend);
        assertThat(table.current()).isSameAs(reloaded);

        assertThat(table.replace(Routing.EMPTY)).isSameAs(reloaded);
        assertThat(table.current()).isSameAs(Routing.EMPTY);
    }
}
