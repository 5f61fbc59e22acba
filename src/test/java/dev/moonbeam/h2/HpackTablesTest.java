package dev.moonbeam.h2;

import static dev.moonbeam.h2.HpackRecorder.ascii;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.moonbeam.loop.Allocations;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The static table (Appendix A) and the dynamic table (§2.3.2, §4). */
class HpackTablesTest {

    static Stream<Arguments> staticEntries() {
        return Stream.of(
                Arguments.of(1, ":authority", ""),
                Arguments.of(2, ":method", "GET"),
                Arguments.of(7, ":scheme", "https"),
                Arguments.of(8, ":status", "200"),
                Arguments.of(14, ":status", "500"),
                Arguments.of(16, "accept-encoding", "gzip, deflate"),
                Arguments.of(23, "authorization", ""),
                Arguments.of(32, "cookie", ""),
                Arguments.of(55, "set-cookie", ""),
                Arguments.of(61, "www-authenticate", ""));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("staticEntries")
    void staticTableHoldsAppendixA(int index, String name, String value) {
        assertThat(new String(HpackStaticTable.nameOf(index), StandardCharsets.US_ASCII)).isEqualTo(name);
        assertThat(new String(HpackStaticTable.valueOf(index), StandardCharsets.US_ASCII)).isEqualTo(value);
    }

    @Test
    void everyStaticEntryIsFoundByNameAndByField() {
        for (int i = 1; i <= HpackStaticTable.LENGTH; i++) {
            byte[] name = HpackStaticTable.name(i);
            byte[] value = HpackStaticTable.value(i);
            int hash = HpackStaticTable.hash(name, 0, name.length, 0);
            assertThat(HpackStaticTable.find(name, 0, name.length, hash, value, 0, value.length)).isEqualTo(i);
            int first = HpackStaticTable.findName(name, 0, name.length, hash);
            assertThat(first).isLessThanOrEqualTo(i);
            assertThat(HpackStaticTable.name(first)).isEqualTo(name);
        }
    }

    static Stream<Arguments> lookups() {
        return Stream.of(
                Arguments.of(":status", "200", 8),
                Arguments.of(":status", "302", -8),
                Arguments.of(":method", "POST", 3),
                Arguments.of(":method", "PUT", -2),
                Arguments.of("content-type", "text/html", -31),
                Arguments.of("accept-encoding", "gzip, deflate", 16),
                Arguments.of("accept-encoding", "gzip", -16),
                Arguments.of("x-custom", "", 0),
                Arguments.of("Content-Type", "", 0),
                Arguments.of("", "", 0));
    }

    @ParameterizedTest(name = "{0}: {1} -> {2}")
    @MethodSource("lookups")
    void staticLookupReportsFullNameOrNoMatch(String name, String value, int expected) {
        // Offsets inside larger arrays, as the encoder sees them.
        byte[] n = ascii("##" + name + "##");
        byte[] v = ascii("#" + value);
        int hash = HpackStaticTable.hash(n, 2, name.length(), 0);
        assertThat(HpackStaticTable.find(n, 2, name.length(), hash, v, 1, value.length())).isEqualTo(expected);
    }

    @Test
    void dynamicTableAddsNewestFirstAndCountsSize() {
        HpackDynamicTable table = new HpackDynamicTable(4096);
        add(table, "a", "1");
        add(table, "bb", "22");
        assertThat(table.length()).isEqualTo(2);
        assertThat(table.size()).isEqualTo(34 + 36);
        assertThat(entry(table, 1)).isEqualTo("bb: 22");
        assertThat(entry(table, 2)).isEqualTo("a: 1");
        assertThatThrownBy(() -> table.name(3)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> table.name(0)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void addingEvictsOldestUntilTheEntryFits() {
        HpackDynamicTable table = new HpackDynamicTable(100);
        add(table, "a", "1"); // 34
        add(table, "b", "2"); // 34 -> 68
        add(table, "c", "33"); // 35 -> 103 > 100: "a" goes
        assertThat(table.length()).isEqualTo(2);
        assertThat(table.size()).isEqualTo(69);
        assertThat(entry(table, 2)).isEqualTo("b: 2");
    }

    @Test
    void anEntryLargerThanTheTableEmptiesIt() {
        HpackDynamicTable table = new HpackDynamicTable(100);
        add(table, "a", "1");
        assertThat(table.add(ascii("n"), 0, 1, new byte[68], 0, 68)).isFalse(); // 101 > 100, §4.4
        assertThat(table.length()).isZero();
        assertThat(table.size()).isZero();
        assertThat(table.add(ascii("n"), 0, 1, new byte[67], 0, 67)).isTrue(); // exactly 100 fits
        assertThat(table.size()).isEqualTo(100);
    }

    @Test
    void newEntryMayReuseTheNameOfTheEntryItEvicts() {
        HpackDynamicTable table = new HpackDynamicTable(70);
        add(table, "name", "v1"); // 38
        byte[] name = table.name(1);
        assertThat(table.add(name, 0, name.length, ascii("value"), 0, 5)).isTrue(); // 41: evicts the first
        assertThat(table.length()).isEqualTo(1);
        assertThat(entry(table, 1)).isEqualTo("name: value");
    }

    @Test
    void loweringTheMaximumEvictsAndRaisingKeepsEntries() {
        HpackDynamicTable table = new HpackDynamicTable(4096);
        for (int i = 0; i < 10; i++) {
            add(table, "k" + i, "v");
        }
        table.setMaxSize(3 * 35);
        assertThat(table.length()).isEqualTo(3);
        assertThat(entry(table, 3)).isEqualTo("k7: v");
        table.setMaxSize(4096);
        assertThat(table.length()).isEqualTo(3);
        table.setMaxSize(0);
        assertThat(table.length()).isZero();
        assertThat(table.size()).isZero();
        assertThatThrownBy(() -> table.setMaxSize(4097)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void ringWrapsAndGrowsKeepingOrder() {
        HpackDynamicTable table = new HpackDynamicTable(20 * 34);
        for (int i = 0; i < 1000; i++) {
            add(table, "k", Integer.toString(i % 10));
            int expected = Math.min(i + 1, 20);
            assertThat(table.length()).isEqualTo(expected);
            assertThat(entry(table, 1)).isEqualTo("k: " + i % 10);
            assertThat(entry(table, expected)).isEqualTo("k: " + (i - expected + 1) % 10);
        }
    }

    @Test
    void findPrefersFullMatchesThenTheNewestName() {
        HpackDynamicTable table = new HpackDynamicTable(4096);
        add(table, "x", "1");
        add(table, "x", "2");
        add(table, "y", "3");
        assertThat(find(table, "x", "1")).isEqualTo(3);
        assertThat(find(table, "x", "9")).isEqualTo(-2);
        assertThat(find(table, "y", "3")).isEqualTo(1);
        assertThat(find(table, "z", "3")).isZero();
    }

    @Test
    void lookupsAllocateNothing() {
        assumeTrue(Allocations.supported(), "thread allocation counter not available");
        HpackDynamicTable table = new HpackDynamicTable(4096);
        for (int i = 0; i < 100; i++) {
            add(table, "name-" + i, "value-" + i);
        }
        byte[] name = ascii("name-7");
        byte[] value = ascii("value-7");
        byte[] type = ascii("content-type");
        int sum = lookups(table, name, value, type, 1000); // warm up
        long before = Allocations.allocatedBytes();
        sum += lookups(table, name, value, type, 10_000);
        assertThat(Allocations.allocatedBytes() - before).isLessThan(1024);
        assertThat(sum).isNotZero();
    }

    private static int lookups(HpackDynamicTable table, byte[] name, byte[] value, byte[] type, int rounds) {
        int sum = 0;
        for (int i = 0; i < rounds; i++) {
            int nameHash = HpackStaticTable.hash(name, 0, name.length, 0);
            sum += table.find(name, 0, name.length, nameHash, value, 0, value.length,
                    HpackStaticTable.hash(value, 0, value.length, nameHash));
            int typeHash = HpackStaticTable.hash(type, 0, type.length, 0);
            sum += HpackStaticTable.find(type, 0, type.length, typeHash, value, 0, value.length);
        }
        return sum;
    }

    private static int find(HpackDynamicTable table, String name, String value) {
        byte[] n = ascii(name);
        byte[] v = ascii(value);
        int nameHash = HpackStaticTable.hash(n, 0, n.length, 0);
        return table.find(n, 0, n.length, nameHash, v, 0, v.length, HpackStaticTable.hash(v, 0, v.length, nameHash));
    }

    private static void add(HpackDynamicTable table, String name, String value) {
        byte[] n = ascii(name);
        byte[] v = ascii(value);
        assertThat(table.add(n, 0, n.length, v, 0, v.length)).isTrue();
    }

    private static String entry(HpackDynamicTable table, int position) {
        return new String(table.name(position), StandardCharsets.ISO_8859_1) + ": "
                + new String(table.value(position), StandardCharsets.ISO_8859_1);
    }
}
