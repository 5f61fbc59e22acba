package dev.moonbeam.h2;

import java.util.Arrays;

/**
 * The HPACK dynamic table (RFC 7541 §2.3.2, §4): a FIFO of fields, newest first. Its size is the
 * sum of {@code name.length + value.length + 32} over its entries (§4.1); adding evicts from the
 * oldest end until the new entry fits (§4.4), and lowering the maximum size evicts the same way
 * (§4.3). An entry larger than the maximum size empties the table and is not added (§4.4).
 *
 * <p>Entries live in a ring of parallel arrays. Adding copies the name and value into new arrays
 * (one allocation per inserted entry); lookups allocate nothing. Evicted arrays are never reused,
 * so a caller still holding one (a name being re-indexed, §4.4 last paragraph) keeps valid bytes.
 * Each entry carries the name hash and field hash of {@link HpackStaticTable#hash} for the
 * encoder's lookup, a linear scan comparing hashes first: the table holds at most
 * {@code maxSize / 32} entries (128 at the default 4,096 bytes).
 *
 * <p>Owned by one connection's loop thread; not thread-safe.
 */
public final class HpackDynamicTable {
    /** Per-entry overhead in the size computation (§4.1). */
    public static final int ENTRY_OVERHEAD = 32;

    private final int capacityLimit;
    private byte[][] names = new byte[8][];
    private byte[][] values = new byte[8][];
    private int[] nameHashes = new int[8];
    private int[] fieldHashes = new int[8];
    /** Ring slot of the newest entry; the oldest is {@code count - 1} slots behind it. */
    private int newest = -1;
    private int count;
    private int size;
    private int maxSize;

    /**
     * {@code capacityLimit} bounds {@link #setMaxSize} (the SETTINGS_HEADER_TABLE_SIZE this side
     * honours); the table starts with {@code maxSize == capacityLimit}.
     */
    public HpackDynamicTable(int capacityLimit) {
        if (capacityLimit < 0) {
            throw new IllegalArgumentException("negative table size " + capacityLimit);
        }
        this.capacityLimit = capacityLimit;
        this.maxSize = capacityLimit;
    }

    /** Number of entries. */
    public int length() {
        return count;
    }

    /** Current size in the §4.1 sense. */
    public int size() {
        return size;
    }

    public int maxSize() {
        return maxSize;
    }

    public int capacityLimit() {
        return capacityLimit;
    }

    /** Sets the maximum size (§4.3), evicting oldest entries until the size fits. */
    public void setMaxSize(int newMaxSize) {
        if (newMaxSize < 0 || newMaxSize > capacityLimit) {
            throw new IllegalArgumentException("table size " + newMaxSize + " outside 0.." + capacityLimit);
        }
        maxSize = newMaxSize;
        evictUntil(maxSize);
    }

    /** Removes every entry. */
    public void clear() {
        evictUntil(0);
    }

    /**
     * Adds a copy of the field as the newest entry, evicting as needed (§4.4). Returns false when
     * the entry alone exceeds the maximum size: the table is then empty (§4.4).
     */
    public boolean add(byte[] name, int nameOff, int nameLen, byte[] value, int valueOff, int valueLen) {
        long entrySize = (long) nameLen + valueLen + ENTRY_OVERHEAD;
        if (entrySize > maxSize) {
            clear();
            return false;
        }
        // Copy before evicting: the name may be the name of an entry about to be evicted.
        byte[] nameCopy = Arrays.copyOfRange(name, nameOff, nameOff + nameLen);
        byte[] valueCopy = Arrays.copyOfRange(value, valueOff, valueOff + valueLen);
        int nameHash = HpackStaticTable.hash(nameCopy, 0, nameLen, 0);
        int fieldHash = HpackStaticTable.hash(valueCopy, 0, valueLen, nameHash);
        evictUntil(maxSize - (int) entrySize);
        if (count == names.length) {
            grow();
        }
        newest = (newest + 1) % names.length;
        names[newest] = nameCopy;
        values[newest] = valueCopy;
        nameHashes[newest] = nameHash;
        fieldHashes[newest] = fieldHash;
        count++;
        size += (int) entrySize;
        return true;
    }

    /** Name of the entry at dynamic position {@code position} (1 = newest .. {@link #length()}). */
    public byte[] name(int position) {
        return names[slot(position)];
    }

    /** Value of the entry at {@code position}; shared with the table, never modify it. */
    public byte[] value(int position) {
        return values[slot(position)];
    }

    /**
     * Finds a field, newest first: the position (1-based, newest = 1) of an entry with this name
     * and value; otherwise minus the position of the newest entry with this name; otherwise 0.
     * The hashes are those of {@link HpackStaticTable#hash}.
     */
    public int find(byte[] name, int nameOff, int nameLen, int nameHash,
            byte[] value, int valueOff, int valueLen, int fieldHash) {
        int nameMatch = 0;
        int slot = newest;
        for (int position = 1; position <= count; position++) {
            if (nameHashes[slot] == nameHash && equals(names[slot], name, nameOff, nameLen)) {
                if (fieldHashes[slot] == fieldHash && equals(values[slot], value, valueOff, valueLen)) {
                    return position;
                }
                if (nameMatch == 0) {
                    nameMatch = -position;
                }
            }
            slot = slot == 0 ? names.length - 1 : slot - 1;
        }
        return nameMatch;
    }

    private static boolean equals(byte[] stored, byte[] b, int off, int len) {
        return Arrays.equals(stored, 0, stored.length, b, off, off + len);
    }

    private int slot(int position) {
        if (position < 1 || position > count) {
            throw new IndexOutOfBoundsException("dynamic position " + position + " of " + count);
        }
        int slot = newest - (position - 1);
        return slot < 0 ? slot + names.length : slot;
    }

    private void evictUntil(int targetSize) {
        while (size > targetSize && count > 0) {
            int oldest = slot(count);
            size -= names[oldest].length + values[oldest].length + ENTRY_OVERHEAD;
            names[oldest] = null;
            values[oldest] = null;
            count--;
        }
    }

    /** Doubles the ring, unrolling it so that the oldest entry lands in slot 0. */
    private void grow() {
        int capacity = names.length * 2;
        byte[][] newNames = new byte[capacity][];
        byte[][] newValues = new byte[capacity][];
        int[] newNameHashes = new int[capacity];
        int[] newFieldHashes = new int[capacity];
        for (int i = 0; i < count; i++) {
            int from = slot(count - i);
            newNames[i] = names[from];
            newValues[i] = values[from];
            newNameHashes[i] = nameHashes[from];
            newFieldHashes[i] = fieldHashes[from];
        }
        names = newNames;
        values = newValues;
        nameHashes = newNameHashes;
        fieldHashes = newFieldHashes;
        newest = count - 1;
    }
}
