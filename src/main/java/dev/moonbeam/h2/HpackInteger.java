package dev.moonbeam.h2;

import java.nio.ByteBuffer;

/**
 * HPACK prefixed integers (RFC 7541 §5.1). Decoding returns the value and the bytes consumed
 * packed into one {@code long}, so the hot path allocates nothing.
 *
 * <p>Stateless: safe from any thread.
 */
final class HpackInteger {
    /** {@link #decode} result: the block ended inside the integer. */
    static final long TRUNCATED = -1;
    /** {@link #decode} result: the value does not fit in an int (§5.1 lets decoders limit it). */
    static final long OVERFLOW = -2;
    /**
     * Longest encoding we write or accept: the prefix byte plus five continuation bytes carry 35
     * bits, enough for any int. Longer encodings (zero-padded continuations) are refused so a peer
     * cannot keep us reading an endless integer.
     */
    static final int MAX_LENGTH = 6;

    private HpackInteger() {}

    /**
     * Decodes the integer whose first byte is at {@code index} with a {@code prefixBits}-bit prefix
     * (the bits above it are the caller's). Returns {@code consumed << 32 | value}, or
     * {@link #TRUNCATED} / {@link #OVERFLOW}. Reads only below {@code end}.
     */
    static long decode(ByteBuffer in, int index, int end, int prefixBits) {
        if (index >= end) {
            return TRUNCATED;
        }
        int prefixMax = (1 << prefixBits) - 1;
        int value = in.get(index) & prefixMax;
        if (value < prefixMax) {
            return 1L << 32 | value;
        }
        long total = prefixMax;
        int shift = 0;
        for (int i = index + 1; ; i++) {
            if (i >= end) {
                return TRUNCATED;
            }
            if (shift > 28) {
                return OVERFLOW;
            }
            int b = in.get(i) & 0xff;
            total += (long) (b & 0x7f) << shift;
            if (total > Integer.MAX_VALUE) {
                return OVERFLOW;
            }
            if ((b & 0x80) == 0) {
                return (long) (i + 1 - index) << 32 | total;
            }
            shift += 7;
        }
    }

    static int value(long decoded) {
        return (int) decoded;
    }

    static int consumed(long decoded) {
        return (int) (decoded >>> 32);
    }

    /**
     * Writes {@code value} (>= 0) with a {@code prefixBits}-bit prefix; {@code flags} are the bits
     * above the prefix in the first byte. Returns the bytes written (at most {@link #MAX_LENGTH}).
     */
    static int encode(ByteBuffer out, int flags, int prefixBits, int value) {
        int prefixMax = (1 << prefixBits) - 1;
        if (value < prefixMax) {
            out.put((byte) (flags | value));
            return 1;
        }
        out.put((byte) (flags | prefixMax));
        int rest = value - prefixMax;
        int written = 1;
        while (rest >= 0x80) {
            out.put((byte) (rest & 0x7f | 0x80));
            rest >>>= 7;
            written++;
        }
        out.put((byte) rest);
        return written + 1;
    }

    /** Bytes {@link #encode} writes for {@code value}. */
    static int length(int prefixBits, int value) {
        int prefixMax = (1 << prefixBits) - 1;
        if (value < prefixMax) {
            return 1;
        }
        int length = 2;
        for (int rest = value - prefixMax; rest >= 0x80; rest >>>= 7) {
            length++;
        }
        return length;
    }
}
