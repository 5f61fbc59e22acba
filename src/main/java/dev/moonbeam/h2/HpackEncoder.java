package dev.moonbeam.h2;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Encodes HPACK header blocks (RFC 7541) for one HTTP/2 connection: the response side of the
 * proxy. A block is {@link #beginBlock} followed by {@link #status} and {@link #header} calls,
 * all writing at the position of a buffer in fill mode; the caller splits the result into
 * HEADERS and CONTINUATION frames.
 *
 * <p>Policy, per field:
 * <ol>
 *   <li>Sensitive fields are sent as never-indexed literals (§6.2.3) with the static name index,
 *       as §7.1.3 suggests: {@code authorization}, {@code set-cookie} (session tokens), and
 *       {@code cookie} values shorter than {@value #SHORT_COOKIE} bytes (guessable, §7.1.3).
 *   <li>A full match in the static table, then in the dynamic table, is sent as an index (§6.1).
 *   <li>Otherwise a literal with incremental indexing (§6.2.1) if the entry fits in the table,
 *       else without indexing (§6.2.2); the name is indexed when either table has it, preferring
 *       the static table (its indexes never move).
 *   <li>A string is Huffman coded only when that is strictly shorter ({@link HuffmanUse}).
 * </ol>
 *
 * <p>Table size (§4.2, §6.3): the dynamic table uses {@code min(peer's
 * SETTINGS_HEADER_TABLE_SIZE, maxTableSize)}; the peer's setting starts at 4,096 (RFC 9113
 * §6.5.2). The next block begins with a size update when our size changed or differs from the
 * peer's setting (so both tables evict alike); if it was lowered and raised again in between, the
 * smallest value comes first and then the final one.
 *
 * <p>Room: every method checks the exact length first and throws
 * {@link BufferOverflowException} before writing or changing any state; size buffers with
 * {@link #maxEncodedLength}, {@link #MAX_STATUS_LENGTH} and {@link #MAX_BLOCK_PREFIX_LENGTH}.
 *
 * <p>Owned by one connection's loop thread; not thread-safe. Allocates only when an entry enters
 * the dynamic table.
 */
public final class HpackEncoder {
    /** Whether string literals may be Huffman coded (§5.2). */
    public enum HuffmanUse { NEVER, WHEN_SHORTER }

    /** SETTINGS_HEADER_TABLE_SIZE before the peer's SETTINGS arrive (RFC 9113 §6.5.2). */
    public static final int INITIAL_PEER_TABLE_SIZE = 4096;
    /** Most bytes {@link #beginBlock} writes: two size updates. */
    public static final int MAX_BLOCK_PREFIX_LENGTH = 2 * HpackInteger.MAX_LENGTH;
    /** Most bytes {@link #status} writes: indexed name, a length byte, three raw digits. */
    public static final int MAX_STATUS_LENGTH = 5;
    /** Cookie values shorter than this are never indexed (§7.1.3: short values can be guessed). */
    public static final int SHORT_COOKIE = 20;

    private static final byte[] STATUS = bytes(":status");
    private static final byte[] AUTHORIZATION = bytes("authorization");
    private static final byte[] COOKIE = bytes("cookie");
    private static final byte[] SET_COOKIE = bytes("set-cookie");
    private static final int INDEXED = 0x80;
    private static final int INCREMENTAL = 0x40;
    private static final int WITHOUT_INDEXING = 0x00;
    private static final int NEVER_INDEXED = 0x10;
    private static final int SIZE_UPDATE = 0x20;
    private static final int HUFFMAN = 0x80;

    private final HpackDynamicTable table;
    private final HuffmanUse huffman;
    private final byte[] statusDigits = new byte[3];
    private boolean updatePending;
    private int pendingMin;
    private int pendingFinal;
    /** Encoded lengths of the current field's strings, computed once for the room check. */
    private int nameCoded;
    private int valueCoded;

    /** Huffman coding when shorter; {@code maxTableSize} caps our dynamic table whatever the peer allows. */
    public HpackEncoder(int maxTableSize) {
        this(maxTableSize, HuffmanUse.WHEN_SHORTER);
    }

    public HpackEncoder(int maxTableSize, HuffmanUse huffman) {
        this.table = new HpackDynamicTable(maxTableSize);
        this.huffman = huffman;
        int initial = Math.min(INITIAL_PEER_TABLE_SIZE, maxTableSize);
        table.setMaxSize(initial);
        if (initial != INITIAL_PEER_TABLE_SIZE) {
            // The peer's decoder starts at 4,096; tell it we use less.
            updatePending = true;
            pendingMin = initial;
            pendingFinal = initial;
        }
    }

    /** Worst-case bytes {@link #header} writes for these lengths (a new-name literal, raw strings). */
    public static int maxEncodedLength(int nameLen, int valueLen) {
        return 1 + HpackInteger.MAX_LENGTH + nameLen + HpackInteger.MAX_LENGTH + valueLen;
    }

    /** The peer's SETTINGS_HEADER_TABLE_SIZE changed; the next block will say what we use. */
    public void setPeerMaxTableSize(int peerMaxTableSize) {
        if (peerMaxTableSize < 0) {
            throw new IllegalArgumentException("negative table size " + peerMaxTableSize);
        }
        int size = Math.min(peerMaxTableSize, table.capacityLimit());
        pendingMin = updatePending ? Math.min(pendingMin, size) : size;
        pendingFinal = size;
        // The peer's decoder now uses its new setting (RFC 9113 §6.5.2); announce ours when it
        // differs, so both tables evict at the same point, and any size we passed through.
        updatePending = pendingMin != table.maxSize() || pendingFinal != table.maxSize()
                || size != peerMaxTableSize;
    }

    /** Starts a header block: writes the pending dynamic table size updates, if any (§4.2). */
    public void beginBlock(ByteBuffer out) {
        if (!updatePending) {
            return;
        }
        boolean two = pendingMin < pendingFinal;
        int length = HpackInteger.length(5, pendingFinal) + (two ? HpackInteger.length(5, pendingMin) : 0);
        ensureRoom(out, length);
        if (two) {
            HpackInteger.encode(out, SIZE_UPDATE, 5, pendingMin);
            table.setMaxSize(pendingMin);
        }
        HpackInteger.encode(out, SIZE_UPDATE, 5, pendingFinal);
        table.setMaxSize(pendingFinal);
        updatePending = false;
    }

    /** {@code :status} (100..999): a static index for 200, 204, 206, 304, 400, 404 and 500. */
    public void status(int code, ByteBuffer out) {
        int index = staticStatusIndex(code);
        if (index > 0) {
            ensureRoom(out, 1);
            out.put((byte) (INDEXED | index));
            return;
        }
        if (code < 100 || code > 999) {
            throw new IllegalArgumentException("status " + code);
        }
        statusDigits[0] = (byte) ('0' + code / 100);
        statusDigits[1] = (byte) ('0' + code / 10 % 10);
        statusDigits[2] = (byte) ('0' + code % 10);
        header(STATUS, 0, STATUS.length, statusDigits, 0, statusDigits.length, out);
    }

    /** One field; {@code name} is already lowercase (RFC 9113 §8.2.1). */
    public void header(byte[] name, int nameOff, int nameLen, byte[] value, int valueOff, int valueLen,
            ByteBuffer out) {
        int nameHash = HpackStaticTable.hash(name, nameOff, nameLen, 0);
        if (isSensitive(name, nameOff, nameLen, valueLen)) {
            int nameIndex = HpackStaticTable.findName(name, nameOff, nameLen, nameHash);
            literal(NEVER_INDEXED, 4, nameIndex, name, nameOff, nameLen, value, valueOff, valueLen, out);
            return;
        }
        int staticMatch = HpackStaticTable.find(name, nameOff, nameLen, nameHash, value, valueOff, valueLen);
        if (staticMatch > 0) {
            indexed(staticMatch, out);
            return;
        }
        int fieldHash = HpackStaticTable.hash(value, valueOff, valueLen, nameHash);
        int dynamicMatch = table.find(name, nameOff, nameLen, nameHash, value, valueOff, valueLen, fieldHash);
        if (dynamicMatch > 0) {
            indexed(HpackStaticTable.LENGTH + dynamicMatch, out);
            return;
        }
        int nameIndex = staticMatch < 0 ? -staticMatch
                : dynamicMatch < 0 ? HpackStaticTable.LENGTH - dynamicMatch : 0;
        if ((long) nameLen + valueLen + HpackDynamicTable.ENTRY_OVERHEAD <= table.maxSize()) {
            literal(INCREMENTAL, 6, nameIndex, name, nameOff, nameLen, value, valueOff, valueLen, out);
            table.add(name, nameOff, nameLen, value, valueOff, valueLen);
        } else {
            literal(WITHOUT_INDEXING, 4, nameIndex, name, nameOff, nameLen, value, valueOff, valueLen, out);
        }
    }

    /** Entries in our dynamic table (mirrors the peer's decoder). */
    public int tableLength() {
        return table.length();
    }

    /** Our dynamic table's size in the §4.1 sense. */
    public int tableSize() {
        return table.size();
    }

    /** Our dynamic table's maximum size (the last size update written). */
    public int tableMaxSize() {
        return table.maxSize();
    }

    private void indexed(int index, ByteBuffer out) {
        ensureRoom(out, HpackInteger.length(7, index));
        HpackInteger.encode(out, INDEXED, 7, index);
    }

    private void literal(int flags, int prefixBits, int nameIndex, byte[] name, int nameOff, int nameLen,
            byte[] value, int valueOff, int valueLen, ByteBuffer out) {
        nameCoded = nameIndex == 0 ? codedLength(name, nameOff, nameLen) : 0;
        valueCoded = codedLength(value, valueOff, valueLen);
        long length = HpackInteger.length(prefixBits, nameIndex)
                + (nameIndex == 0 ? stringLength(nameCoded, nameLen) : 0)
                + stringLength(valueCoded, valueLen);
        ensureRoom(out, length);
        HpackInteger.encode(out, flags, prefixBits, nameIndex);
        if (nameIndex == 0) {
            string(name, nameOff, nameLen, nameCoded, out);
        }
        string(value, valueOff, valueLen, valueCoded, out);
    }

    /** The Huffman length if Huffman coding is used for this string, else -1. */
    private int codedLength(byte[] b, int off, int len) {
        if (huffman == HuffmanUse.NEVER) {
            return -1;
        }
        int coded = Huffman.encodedLength(b, off, len);
        return coded < len ? coded : -1;
    }

    private static long stringLength(int coded, int rawLen) {
        int len = coded >= 0 ? coded : rawLen;
        return (long) HpackInteger.length(7, len) + len;
    }

    private static void string(byte[] b, int off, int len, int coded, ByteBuffer out) {
        if (coded >= 0) {
            HpackInteger.encode(out, HUFFMAN, 7, coded);
            Huffman.encode(b, off, len, out);
        } else {
            HpackInteger.encode(out, 0, 7, len);
            out.put(b, off, len);
        }
    }

    private static boolean isSensitive(byte[] name, int off, int len, int valueLen) {
        return same(AUTHORIZATION, name, off, len) || same(SET_COOKIE, name, off, len)
                || (valueLen < SHORT_COOKIE && same(COOKIE, name, off, len));
    }

    private static boolean same(byte[] constant, byte[] b, int off, int len) {
        return len == constant.length && Arrays.equals(constant, 0, len, b, off, off + len);
    }

    private static int staticStatusIndex(int code) {
        switch (code) {
            case 200: return 8;
            case 204: return 9;
            case 206: return 10;
            case 304: return 11;
            case 400: return 12;
            case 404: return 13;
            case 500: return 14;
            default: return 0;
        }
    }

    private static void ensureRoom(ByteBuffer out, long length) {
        if (out.remaining() < length) {
            throw new BufferOverflowException();
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
