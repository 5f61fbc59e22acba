package dev.moonbeam.balance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.moonbeam.loop.Allocations;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class BackendPoolTest {

    /** Collects what the pool asks the caller to close. */
    private static final class Closer implements Consumer<String> {
        final List<String> closed = new ArrayList<>();

        @Override
        public void accept(String conn) {
            closed.add(conn);
        }
    }

    /**
     * A script of operations and what each reports:
     * {@code +a@10} offer a expiring at 10 (reports the evicted one or {@code -});
     * {@code ?5} poll at 5 (reports the result or {@code null}, after {@code x:} for each closed);
     * {@code -a} remove (reports true/false); {@code e5} evict expired at 5 (count, then closed).
     */
    @ParameterizedTest(name = "[{index}] max {0}: {1}")
    @CsvSource(delimiter = ';', value = {
        "3; +a@10 +b@10 +c@10 ?0 ?0 ?0 ?0;      - - - c b a null",            // LIFO
        "2; +a@10 +b@10 +c@10 ?0 ?0 ?0;         - - a c b null",              // full: evict oldest
        "0; +a@10 ?0;                           a null",                      // no pooling at all
        "3; +a@10 +b@5 +c@20 ?7 ?7;             - - - c x:b a",               // b expired in the middle
        "3; +a@10 +b@5 +c@3 ?7;                 - - - x:c x:b a",             // newer expired closed on the way
        "3; +a@5 +b@5 ?5;                       - - x:b x:a null",            // expiry == now is expired
        "3; +a@10 +b@10 +c@10 -b ?0 ?0 ?0;      - - - true c a null",
        "3; +a@10 -a -a -z;                     - true false false",
        "4; +a@5 +b@20 +c@5 +d@20 e5 ?6 ?6 ?6;  - - - - 2:a,c d b null",      // order of survivors kept
        "4; +a@5 +b@20 e4;                      - - 0:",
        "2; +a@10 +b@10 ?0 +c@10 +d@10 ?0 ?0;   - - b - a d c",               // ring wraps around
        "3; +a@10 +b@10 +c@10 -a +d@10 +e@10 ?0 ?0 ?0; - - - true - b e d c",
    })
    void scriptedOperations(int maxIdle, String script, String expected) {
        BackendPool<String> pool = new BackendPool<>(maxIdle);
        List<String> report = new ArrayList<>();
        for (String op : script.trim().split("\\s+")) {
            Closer closer = new Closer();
            String arg = op.substring(1).intern(); // the pool compares by identity
            switch (op.charAt(0)) {
                case '+' -> {
                    String[] parts = arg.split("@");
                    String evicted = pool.offer(parts[0].intern(), Long.parseLong(parts[1]));
                    report.add(evicted == null ? "-" : evicted);
                }
                case '?' -> {
                    String got = pool.poll(Long.parseLong(arg), closer);
                    closer.closed.forEach(c -> report.add("x:" + c));
                    report.add(String.valueOf(got));
                }
                case '-' -> report.add(Boolean.toString(pool.remove(arg)));
                case 'e' -> {
                    int count = pool.evictExpired(Long.parseLong(arg), closer);
                    report.add(count + ":" + String.join(",", closer.closed));
                }
                default -> throw new IllegalStateException("bad op " + op);
            }
        }
        assertThat(String.join(" ", report)).isEqualTo(expected);
    }

    @Test
    void clearClosesEverything() {
        BackendPool<String> pool = new BackendPool<>(3);
        pool.offer("a", 1);
        pool.offer("b", 1);
        Closer closer = new Closer();
        assertThat(pool.clear(closer)).isEqualTo(2);
        assertThat(closer.closed).containsExactly("a", "b");
        assertThat(pool.size()).isZero();
    }

    @Test
    void expiryComparesAcrossNanoTimeWrapAround() {
        BackendPool<String> pool = new BackendPool<>(2);
        long now = Long.MAX_VALUE - 5;
        pool.offer("a", now + 10); // wraps to a negative value, still in the future
        Closer closer = new Closer();
        assertThat(pool.poll(now, closer)).isEqualTo("a");
        pool.offer("a", now + 10);
        assertThat(pool.evictExpired(now + 10, closer)).isEqualTo(1);
    }

    /** A connection stand-in; the pool compares by identity, as it will for real connections. */
    private record Conn(int id) {}

    /** Random operations against a list model, for every small capacity. */
    @ParameterizedTest(name = "maxIdle {0}")
    @ValueSource(ints = {0, 1, 2, 3, 5, 8})
    void matchesListModelUnderRandomOperations(int maxIdle) {
        BackendPool<Conn> pool = new BackendPool<>(maxIdle);
        List<Conn> all = new ArrayList<>();
        List<long[]> model = new ArrayList<>(); // {conn, expiresAt}, oldest first
        Random random = new Random(maxIdle);
        int nextConn = 0;
        long now = 0;
        for (int step = 0; step < 20_000; step++) {
            now += random.nextInt(3);
            List<Integer> closed = new ArrayList<>();
            List<Integer> expectedClosed = new ArrayList<>();
            switch (random.nextInt(4)) {
                case 0 -> {
                    int conn = nextConn++;
                    all.add(new Conn(conn));
                    long expires = now + random.nextInt(20);
                    Conn evicted = pool.offer(all.get(conn), expires);
                    Integer expected = null;
                    if (maxIdle == 0) {
                        expected = conn;
                    } else {
                        if (model.size() == maxIdle) {
                            expected = (int) model.remove(0)[0];
                        }
                        model.add(new long[] {conn, expires});
                    }
                    assertThat(evicted == null ? null : evicted.id()).isEqualTo(expected);
                }
                case 1 -> {
                    Conn got = pool.poll(now, c -> closed.add(c.id()));
                    Integer expected = null;
                    while (!model.isEmpty()) {
                        long[] last = model.remove(model.size() - 1);
                        if (now - last[1] < 0) {
                            expected = (int) last[0];
                            break;
                        }
                        expectedClosed.add((int) last[0]);
                    }
                    assertThat(got == null ? null : got.id()).isEqualTo(expected);
                }
                case 2 -> {
                    if (nextConn == 0) {
                        break;
                    }
                    int conn = random.nextInt(nextConn);
                    boolean present = model.removeIf(e -> e[0] == conn);
                    assertThat(pool.remove(all.get(conn))).isEqualTo(present);
                    // An equal but different object is not in the pool.
                    assertThat(pool.remove(new Conn(conn))).isFalse();
                }
                case 3 -> {
                    long at = now;
                    model.removeIf(e -> {
                        if (at - e[1] >= 0) {
                            expectedClosed.add((int) e[0]);
                            return true;
                        }
                        return false;
                    });
                    assertThat(pool.evictExpired(now, c -> closed.add(c.id()))).isEqualTo(expectedClosed.size());
                }
                default -> throw new IllegalStateException();
            }
            assertThat(closed).isEqualTo(expectedClosed);
            assertThat(pool.size()).isEqualTo(model.size());
        }
    }

    @Test
    void growsFromFewSlotsToMaxIdleKeepingLifoOrderThenEvictsTheOldest() {
        BackendPool<String> pool = new BackendPool<>(100);
        String[] conns = new String[101];
        for (int i = 0; i < conns.length; i++) {
            conns[i] = "c" + i;
        }
        for (int i = 0; i < 100; i++) {
            assertThat(pool.offer(conns[i], 1_000)).as("room up to maxIdle").isNull();
        }
        assertThat(pool.size()).isEqualTo(100);
        assertThat(pool.offer(conns[100], 1_000)).as("full: the oldest goes").isEqualTo("c0");
        List<String> closed = new ArrayList<>();
        assertThat(pool.poll(0, closed::add)).isEqualTo("c100");
        assertThat(pool.poll(0, closed::add)).isEqualTo("c99");
        assertThat(pool.remove(conns[50])).as("removal is by identity").isTrue();
        assertThat(pool.evictExpired(2_000, closed::add)).isEqualTo(97);
        assertThat(closed).startsWith("c1", "c2").doesNotContain("c50", "c99", "c100");
        assertThat(pool.size()).isZero();
    }

    @Test
    void offerAndPollAllocateNothing() {
        assumeTrue(Allocations.supported(), "thread allocation counter not available");
        BackendPool<Object> pool = new BackendPool<>(16);
        Object[] conns = new Object[32];
        for (int i = 0; i < conns.length; i++) {
            conns[i] = new Object();
        }
        Consumer<Object> closer = conn -> {};
        churn(pool, conns, closer, 1_000);
        long before = Allocations.allocatedBytes();
        churn(pool, conns, closer, 50_000);
        assertThat(Allocations.allocatedBytes() - before).isLessThan(4096);
    }

    private static void churn(BackendPool<Object> pool, Object[] conns, Consumer<Object> closer, int rounds) {
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < 20; i++) {
                pool.offer(conns[(r + i) % conns.length], r + i % 3);
            }
            pool.remove(conns[r % conns.length]);
            pool.poll(r + 1, closer);
            pool.evictExpired(r + 1, closer);
        }
    }
}
