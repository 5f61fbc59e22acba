package dev.moonbeam.h2;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The HPACK static table (RFC 7541 Appendix A): 61 entries, indexes 1..61 (§2.3.1).
 *
 * <p>Names and values are shared byte arrays that nobody may modify; entries with the same name
 * share one name array. The encoder's lookup hashes the name into a small open-addressed table
 * built at class initialisation and compares bytes, so it allocates nothing per call.
 *
 * <p>Immutable: safe from any thread.
 */
public final class HpackStaticTable {
    /** Number of entries; dynamic table indexes start at {@code LENGTH + 1} (§2.3.3). */
    public static final int LENGTH = 61;

    private static final String[][] ENTRIES = {
            {":authority", ""}, // 1
            {":method", "GET"}, // 2
            {":method", "POST"}, // 3
            {":path", "/"}, // 4
            {":path", "/index.html"}, // 5
            {":scheme", "http"}, // 6
            {":scheme", "https"}, // 7
            {":status", "200"}, // 8
            {":status", "204"}, // 9
            {":status", "206"}, // 10
            {":status", "304"}, // 11
            {":status", "400"}, // 12
            {":status", "404"}, // 13
            {":status", "500"}, // 14
            {"accept-charset", ""}, // 15
            {"accept-encoding", "gzip, deflate"}, // 16
            {"accept-language", ""}, // 17
            {"accept-ranges", ""}, // 18
            {"accept", ""}, // 19
            {"access-control-allow-origin", ""}, // 20
            {"age", ""}, // 21
            {"allow", ""}, // 22
            {"authorization", ""}, // 23
            {"cache-control", ""}, // 24
            {"content-disposition", ""}, // 25
            {"content-encoding", ""}, // 26
            {"content-language", ""}, // 27
            {"content-length", ""}, // 28
            {"content-location", ""}, // 29
            {"content-range", ""}, // 30
            {"content-type", ""}, // 31
            {"cookie", ""}, // 32
            {"date", ""}, // 33
            {"etag", ""}, // 34
            {"expect", ""}, // 35
            {"expires", ""}, // 36
            {"from", ""}, // 37
            {"host", ""}, // 38
            {"if-match", ""}, // 39
            {"if-modified-since", ""}, // 40
            {"if-none-match", ""}, // 41
            {"if-range", ""}, // 42
            {"if-unmodified-since", ""}, // 43
            {"last-modified", ""}, // 44
            {"link", ""}, // 45
            {"location", ""}, // 46
            {"max-forwards", ""}, // 47
            {"proxy-authenticate", ""}, // 48
            {"proxy-authorization", ""}, // 49
            {"range", ""}, // 50
            {"referer", ""}, // 51
            {"refresh", ""}, // 52
            {"retry-after", ""}, // 53
            {"server", ""}, // 54
            {"set-cookie", ""}, // 55
            {"strict-transport-security", ""}, // 56
            {"transfer-encoding", ""}, // 57
            {"user-agent", ""}, // 58
            {"vary", ""}, // 59
            {"via", ""}, // 60
            {"www-authenticate", ""}, // 61
    };

    /** Index 0 is unused so that arrays are indexed like HPACK. */
    private static final byte[][] NAMES = new byte[LENGTH + 1][];
    private static final byte[][] VALUES = new byte[LENGTH + 1][];
    /** Open addressing by name hash: the first static index with that name, 0 when empty. */
    private static final int[] NAME_SLOTS = new int[128];
    private static final int SLOT_MASK = NAME_SLOTS.length - 1;

    static {
        for (int i = 1; i <= LENGTH; i++) {
            byte[] name = ENTRIES[i - 1][0].getBytes(StandardCharsets.US_ASCII);
            // Same-name entries are adjacent in Appendix A; sharing the array lets the lookup
            // walk them with an identity check.
            NAMES[i] = i > 1 && Arrays.equals(name, NAMES[i - 1]) ? NAMES[i - 1] : name;
            VALUES[i] = ENTRIES[i - 1][1].getBytes(StandardCharsets.US_ASCII);
            if (NAMES[i] == name) {
                int slot = hash(name, 0, name.length, 0) & SLOT_MASK;
                while (NAME_SLOTS[slot] != 0) {
                    slot = (slot + 1) & SLOT_MASK;
                }
                NAME_SLOTS[slot] = i;
            }
        }
    }

    private HpackStaticTable() {}

    /** The name of entry {@code index} (1..61). Shared: never modify it. */
    static byte[] name(int index) {
        return NAMES[index];
    }

    /** The value of entry {@code index} (1..61). Shared: never modify it. */
    static byte[] value(int index) {
        return VALUES[index];
    }

    /** Copy of the name of entry {@code index}, for callers outside the codec. */
    public static byte[] nameOf(int index) {
        return NAMES[index].clone();
    }

    /** Copy of the value of entry {@code index}, for callers outside the codec. */
    public static byte[] valueOf(int index) {
        return VALUES[index].clone();
    }

    /**
     * Finds a field: the index of an entry with this name and value; otherwise minus the index of
     * the first entry with this name; otherwise 0. {@code nameHash} is
     * {@code hash(name, nameOff, nameLen, 0)}.
     */
    public static int find(byte[] name, int nameOff, int nameLen, int nameHash,
            byte[] value, int valueOff, int valueLen) {
        int first = findName(name, nameOff, nameLen, nameHash);
        if (first == 0) {
            return 0;
        }
        byte[] shared = NAMES[first];
        for (int i = first; i <= LENGTH && NAMES[i] == shared; i++) {
            byte[] candidate = VALUES[i];
            if (Arrays.equals(candidate, 0, candidate.length, value, valueOff, valueOff + valueLen)) {
                return i;
            }
        }
        return -first;
    }

    /** The first index with this name, or 0. {@code nameHash} as for {@link #find}. */
    public static int findName(byte[] name, int nameOff, int nameLen, int nameHash) {
        for (int slot = nameHash & SLOT_MASK; ; slot = (slot + 1) & SLOT_MASK) {
            int index = NAME_SLOTS[slot];
            if (index == 0) {
                return 0;
            }
            byte[] candidate = NAMES[index];
            if (Arrays.equals(candidate, 0, candidate.length, name, nameOff, nameOff + nameLen)) {
                return index;
            }
        }
    }

    /**
     * The hash the HPACK tables use for names and fields: a polynomial hash continued from
     * {@code seed}, so a field's hash is {@code hash(value, .., hash(name, .., 0))}, spread so
     * the low bits address the slots well.
     */
    public static int hash(byte[] b, int off, int len, int seed) {
        int h = seed;
        for (int i = off, end = off + len; i < end; i++) {
            h = 31 * h + b[i];
        }
        return h ^ (h >>> 16) ^ (h >>> 7);
    }
}
