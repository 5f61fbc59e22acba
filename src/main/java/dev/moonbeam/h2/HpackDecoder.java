package dev.moonbeam.h2;

import java.nio.ByteBuffer;

/**
 * Decodes HPACK header blocks (RFC 7541) for one HTTP/2 connection: the request side of the
 * proxy. The caller concatenates a HEADERS frame and its CONTINUATION frames and passes the
 * complete block to {@link #decode}; fields go to an {@link HpackSink} as slices of reused
 * arrays, so a warm decoder allocates nothing per field (only inserting into the dynamic table
 * copies bytes).
 *
 * <p>Limits, checked while decoding rather than after:
 * <ul>
 *   <li>Header list size (RFC 9113 §6.5.2, {@code name + value + 32} per field): the field that
 *       crosses {@code maxHeaderListSize} and all later ones are not delivered, and the result is
 *       {@link HpackStatus#HEADER_LIST_TOO_LARGE}. The rest of the block is still decoded so the
 *       dynamic table stays in sync, but a string is only decoded if it may still be delivered or
 *       must enter the dynamic table (then it is bounded by the table size we advertised); a
 *       longer one is skipped, judged by its encoded length, before any byte is copied. Skipped
 *       Huffman strings are therefore not checked for valid padding.
 *   <li>Integers that do not fit in an int, or take more than {@link HpackInteger#MAX_LENGTH}
 *       bytes, are a COMPRESSION_ERROR (§5.1 allows the limit).
 *   <li>A dynamic table size update (§6.3) above {@code maxTableSize} (the
 *       SETTINGS_HEADER_TABLE_SIZE we advertise), or after the first field of a block (§4.2), is a
 *       COMPRESSION_ERROR, as are index 0, an index past the tables (§2.3.3), truncation and bad
 *       Huffman strings (§5.2).
 * </ul>
 *
 * <p>The dynamic table starts at {@code maxTableSize}. The peer assumes 4,096 until it has our
 * SETTINGS, so advertise at least 4,096 (the default) unless the connection waits for the
 * SETTINGS acknowledgement before decoding.
 *
 * <p>After a COMPRESSION_ERROR the decoder is broken: the table may be out of sync, so every
 * later call returns COMPRESSION_ERROR and the connection must close (RFC 9113 §4.3). Nothing
 * throws for any input. Header names are not validated here (lowercase, pseudo-header order:
 * RFC 9113 §8.2 is the HTTP/2 layer's job).
 *
 * <p>Owned by one connection's loop thread; not thread-safe.
 */
public final class HpackDecoder {
    private enum Indexing { INCREMENTAL, WITHOUT, NEVER }

    /** {@link #readString} results besides a length. */
    private static final int STRING_FAILED = -1;
    private static final int STRING_SKIPPED = -2;
    private static final int INITIAL_SCRATCH = 256;

    private static final String ERROR_BROKEN = "decoder unusable after an earlier compression error";
    private static final String ERROR_TRUNCATED = "header block ends inside a field";
    private static final String ERROR_INTEGER_OVERFLOW = "integer too large";
    private static final String ERROR_INDEX_ZERO = "index 0";
    private static final String ERROR_INDEX_RANGE = "index past the end of the tables";
    private static final String ERROR_TABLE_SIZE = "table size update above SETTINGS_HEADER_TABLE_SIZE";
    private static final String ERROR_LATE_SIZE_UPDATE = "table size update after a field";
    private static final String ERROR_HUFFMAN_EOS = "EOS in a Huffman string";
    private static final String ERROR_HUFFMAN_PADDING_LONG = "Huffman padding longer than 7 bits";
    private static final String ERROR_HUFFMAN_PADDING_BITS = "Huffman padding not a prefix of EOS";
    private static final String ERROR_LIST_TOO_LARGE = "header list larger than the limit";

    private final HpackDynamicTable table;
    private final int maxHeaderListSize;
    /** Scratch arrays never grow past this: the largest string we ever need to hold. */
    private final int scratchLimit;
    private byte[] nameScratch = new byte[INITIAL_SCRATCH];
    private byte[] valueScratch = new byte[INITIAL_SCRATCH];
    private boolean broken;
    private String lastError;

    // Per block; only decode() resets them.
    private ByteBuffer in;
    private int cursor;
    private int end;
    private long listSize;
    private boolean listTooLarge;
    private byte[] indexedName;
    private byte[] indexedValue;

    /**
     * {@code maxTableSize}: the SETTINGS_HEADER_TABLE_SIZE we advertise. {@code maxHeaderListSize}:
     * the SETTINGS_MAX_HEADER_LIST_SIZE we enforce (advertised or not).
     */
    public HpackDecoder(int maxTableSize, int maxHeaderListSize) {
        if (maxHeaderListSize < 0) {
            throw new IllegalArgumentException("negative header list size " + maxHeaderListSize);
        }
        this.table = new HpackDynamicTable(maxTableSize);
        this.maxHeaderListSize = maxHeaderListSize;
        this.scratchLimit = Math.max(maxTableSize, maxHeaderListSize);
    }

    /**
     * Decodes one complete header block from {@code block}'s position to its limit and leaves the
     * position at the limit (or where decoding stopped on a COMPRESSION_ERROR).
     */
    public HpackStatus decode(ByteBuffer block, HpackSink sink) {
        if (broken) {
            lastError = ERROR_BROKEN;
            return HpackStatus.COMPRESSION_ERROR;
        }
        in = block;
        cursor = block.position();
        end = block.limit();
        listSize = 0;
        listTooLarge = false;
        lastError = null;
        boolean fieldSeen = false;
        boolean ok = true;
        while (ok && cursor < end) {
            int first = in.get(cursor) & 0xff;
            if (first >= 0x80) {
                ok = indexedField(sink); // §6.1: 1xxxxxxx
            } else if (first >= 0x40) {
                ok = literalField(sink, 6, Indexing.INCREMENTAL); // §6.2.1: 01xxxxxx
            } else if (first >= 0x20) {
                // §6.3: 001xxxxx; §4.2: only at the beginning of a block.
                ok = fieldSeen ? fail(ERROR_LATE_SIZE_UPDATE) : sizeUpdate();
                continue;
            } else {
                // §6.2.2: 0000xxxx, §6.2.3: 0001xxxx.
                ok = literalField(sink, 4, first >= 0x10 ? Indexing.NEVER : Indexing.WITHOUT);
            }
            fieldSeen = true;
        }
        block.position(Math.min(cursor, end));
        in = null;
        indexedName = null;
        indexedValue = null;
        if (!ok) {
            broken = true;
            return HpackStatus.COMPRESSION_ERROR;
        }
        return listTooLarge ? HpackStatus.HEADER_LIST_TOO_LARGE : HpackStatus.OK;
    }

    /** Why the last block failed (a constant, for logging), or null after OK. */
    public String lastError() {
        return lastError;
    }

    /** Entries in the dynamic table (for tests and diagnostics). */
    public int tableLength() {
        return table.length();
    }

    /** Dynamic table size in the §4.1 sense. */
    public int tableSize() {
        return table.size();
    }

    /** The dynamic table's current maximum size (last size update, §6.3). */
    public int tableMaxSize() {
        return table.maxSize();
    }

    /** Copy of the name at dynamic position {@code position} (1 = newest). */
    public byte[] tableName(int position) {
        return table.name(position).clone();
    }

    /** Copy of the value at dynamic position {@code position} (1 = newest). */
    public byte[] tableValue(int position) {
        return table.value(position).clone();
    }

    private boolean indexedField(HpackSink sink) {
        int index = readInteger(7);
        if (index < 0 || !resolve(index)) {
            return false;
        }
        deliver(sink, indexedName, indexedName.length, indexedValue, indexedValue.length, false);
        return true;
    }

    private boolean literalField(HpackSink sink, int prefixBits, Indexing indexing) {
        int nameIndex = readInteger(prefixBits);
        if (nameIndex < 0) {
            return false;
        }
        // The most bytes worth holding: what may still be delivered, or what may enter the table.
        long deliverBudget = listTooLarge ? -1 : (long) maxHeaderListSize - listSize - HpackDynamicTable.ENTRY_OVERHEAD;
        long indexBudget = indexing == Indexing.INCREMENTAL
                ? (long) table.maxSize() - HpackDynamicTable.ENTRY_OVERHEAD : -1;
        long budget = Math.max(deliverBudget, indexBudget);
        byte[] name;
        int nameLen;
        if (nameIndex == 0) {
            nameLen = readString(true, budget);
            name = nameScratch;
        } else {
            if (!resolve(nameIndex)) {
                return false;
            }
            name = indexedName;
            nameLen = name.length;
        }
        if (nameLen == STRING_FAILED) {
            return false;
        }
        int valueLen = readString(false, nameLen == STRING_SKIPPED ? -1 : budget - nameLen);
        if (valueLen == STRING_FAILED) {
            return false;
        }
        boolean complete = nameLen >= 0 && valueLen >= 0;
        if (indexing == Indexing.INCREMENTAL) {
            if (complete) {
                table.add(name, 0, nameLen, valueScratch, 0, valueLen);
            } else {
                // Skipped means longer than the table: adding it would empty the table (§4.4).
                table.clear();
            }
        }
        if (complete) {
            deliver(sink, name, nameLen, valueScratch, valueLen, indexing == Indexing.NEVER);
        } else {
            tooLarge();
        }
        return true;
    }

    private boolean sizeUpdate() {
        int newSize = readInteger(5);
        if (newSize < 0) {
            return false;
        }
        if (newSize > table.capacityLimit()) {
            return fail(ERROR_TABLE_SIZE);
        }
        table.setMaxSize(newSize);
        return true;
    }

    /** Sets {@link #indexedName}/{@link #indexedValue} for an index (§2.3.3), or fails. */
    private boolean resolve(int index) {
        if (index == 0) {
            return fail(ERROR_INDEX_ZERO);
        }
        if (index <= HpackStaticTable.LENGTH) {
            indexedName = HpackStaticTable.name(index);
            indexedValue = HpackStaticTable.value(index);
            return true;
        }
        int position = index - HpackStaticTable.LENGTH;
        if (position > table.length()) {
            return fail(ERROR_INDEX_RANGE);
        }
        indexedName = table.name(position);
        indexedValue = table.value(position);
        return true;
    }

    private void deliver(HpackSink sink, byte[] name, int nameLen, byte[] value, int valueLen,
            boolean neverIndexed) {
        if (listTooLarge) {
            return;
        }
        long fieldSize = (long) nameLen + valueLen + HpackDynamicTable.ENTRY_OVERHEAD;
        if (listSize + fieldSize > maxHeaderListSize) {
            tooLarge();
            return;
        }
        listSize += fieldSize;
        sink.header(name, 0, nameLen, value, 0, valueLen, neverIndexed);
    }

    private void tooLarge() {
        listTooLarge = true;
        lastError = ERROR_LIST_TOO_LARGE;
    }

    /** Reads a §5.1 integer at the cursor; returns it (>= 0) or -1 after failing. */
    private int readInteger(int prefixBits) {
        long decoded = HpackInteger.decode(in, cursor, end, prefixBits);
        if (decoded < 0) {
            fail(decoded == HpackInteger.OVERFLOW ? ERROR_INTEGER_OVERFLOW : ERROR_TRUNCATED);
            return -1;
        }
        cursor += HpackInteger.consumed(decoded);
        return HpackInteger.value(decoded);
    }

    /**
     * Reads a §5.2 string literal into the name or value scratch array. Returns its decoded
     * length, {@link #STRING_SKIPPED} if it is longer than {@code limit} (its bytes are consumed
     * but not decoded), or {@link #STRING_FAILED}.
     */
    private int readString(boolean intoName, long limit) {
        if (cursor >= end) {
            fail(ERROR_TRUNCATED);
            return STRING_FAILED;
        }
        boolean huffman = (in.get(cursor) & 0x80) != 0;
        int length = readInteger(7);
        if (length < 0) {
            return STRING_FAILED;
        }
        if (length > end - cursor) {
            fail(ERROR_TRUNCATED);
            return STRING_FAILED;
        }
        int start = cursor;
        cursor += length;
        // HPACK bomb defence: judge by the encoded length before copying anything.
        if ((huffman ? Huffman.minDecodedLength(length) : length) > limit) {
            return STRING_SKIPPED;
        }
        int room = (int) Math.min(limit, huffman ? Huffman.maxDecodedLength(length) : length);
        byte[] dst = scratch(intoName, room);
        if (!huffman) {
            in.get(start, dst, 0, length);
            return length;
        }
        int decoded = Huffman.decode(in, start, length, dst, 0, room);
        switch (decoded) {
            case Huffman.OUTPUT_TOO_LONG:
                return STRING_SKIPPED;
            case Huffman.EOS_IN_STRING:
                fail(ERROR_HUFFMAN_EOS);
                return STRING_FAILED;
            case Huffman.PADDING_TOO_LONG:
                fail(ERROR_HUFFMAN_PADDING_LONG);
                return STRING_FAILED;
            case Huffman.PADDING_NOT_EOS_PREFIX:
                fail(ERROR_HUFFMAN_PADDING_BITS);
                return STRING_FAILED;
            default:
                return decoded;
        }
    }

    /** The scratch array with room for {@code length} bytes, grown geometrically up to the cap. */
    private byte[] scratch(boolean name, int length) {
        byte[] current = name ? nameScratch : valueScratch;
        if (current.length >= length) {
            return current;
        }
        int grown = (int) Math.min(Math.max(length, current.length * 2L), Math.max(length, scratchLimit));
        byte[] bigger = new byte[grown];
        if (name) {
            nameScratch = bigger;
        } else {
            valueScratch = bigger;
        }
        return bigger;
    }

    private boolean fail(String reason) {
        lastError = reason;
        return false;
    }
}
