package dev.moonbeam.h2;

import java.nio.ByteBuffer;

/**
 * The static canonical Huffman code of RFC 7541 Appendix B, for HPACK string literals (§5.2).
 *
 * <p>Encoding packs codes into a 64-bit accumulator and pads the last byte with the most
 * significant bits of EOS (all ones). Decoding is table driven, like nghttp2 and h2o: the 256
 * internal nodes of the code tree are the states of an automaton that consumes four bits at a
 * time. The shortest code is five bits long, so one nibble completes at most one symbol, and each
 * transition is a single {@code int} holding the next state, the symbol (if any) and flags. The
 * table (256 x 16 ints, 16 KiB) is built once at class initialisation from {@link #CODES}.
 *
 * <p>Stateless and immutable: safe from any thread.
 */
public final class Huffman {
    /** The string contained the EOS symbol (RFC 7541 §5.2: a decoding error). */
    public static final int EOS_IN_STRING = -1;
    /** More than seven bits of padding (§5.2: a decoding error). */
    public static final int PADDING_TOO_LONG = -2;
    /** Padding that is not a prefix of EOS, i.e. not all ones (§5.2: a decoding error). */
    public static final int PADDING_NOT_EOS_PREFIX = -3;
    /** The decoded string does not fit in the space the caller allowed (a limit, not bad input). */
    public static final int OUTPUT_TOO_LONG = -4;

    /** Appendix B codes, indexed by symbol; symbol 256 is EOS. */
    static final int[] CODES = {
            0x1ff8, 0x7fffd8, 0xfffffe2, 0xfffffe3, 0xfffffe4, 0xfffffe5, 0xfffffe6, 0xfffffe7,
            0xfffffe8, 0xffffea, 0x3ffffffc, 0xfffffe9, 0xfffffea, 0x3ffffffd, 0xfffffeb, 0xfffffec,
            0xfffffed, 0xfffffee, 0xfffffef, 0xffffff0, 0xffffff1, 0xffffff2, 0x3ffffffe, 0xffffff3,
            0xffffff4, 0xffffff5, 0xffffff6, 0xffffff7, 0xffffff8, 0xffffff9, 0xffffffa, 0xffffffb,
            0x14, 0x3f8, 0x3f9, 0xffa, 0x1ff9, 0x15, 0xf8, 0x7fa,
            0x3fa, 0x3fb, 0xf9, 0x7fb, 0xfa, 0x16, 0x17, 0x18,
            0x0, 0x1, 0x2, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
            0x1e, 0x1f, 0x5c, 0xfb, 0x7ffc, 0x20, 0xffb, 0x3fc,
            0x1ffa, 0x21, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62,
            0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a,
            0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72,
            0xfc, 0x73, 0xfd, 0x1ffb, 0x7fff0, 0x1ffc, 0x3ffc, 0x22,
            0x7ffd, 0x3, 0x23, 0x4, 0x24, 0x5, 0x25, 0x26,
            0x27, 0x6, 0x74, 0x75, 0x28, 0x29, 0x2a, 0x7,
            0x2b, 0x76, 0x2c, 0x8, 0x9, 0x2d, 0x77, 0x78,
            0x79, 0x7a, 0x7b, 0x7ffe, 0x7fc, 0x3ffd, 0x1ffd, 0xffffffc,
            0xfffe6, 0x3fffd2, 0xfffe7, 0xfffe8, 0x3fffd3, 0x3fffd4, 0x3fffd5, 0x7fffd9,
            0x3fffd6, 0x7fffda, 0x7fffdb, 0x7fffdc, 0x7fffdd, 0x7fffde, 0xffffeb, 0x7fffdf,
            0xffffec, 0xffffed, 0x3fffd7, 0x7fffe0, 0xffffee, 0x7fffe1, 0x7fffe2, 0x7fffe3,
            0x7fffe4, 0x1fffdc, 0x3fffd8, 0x7fffe5, 0x3fffd9, 0x7fffe6, 0x7fffe7, 0xffffef,
            0x3fffda, 0x1fffdd, 0xfffe9, 0x3fffdb, 0x3fffdc, 0x7fffe8, 0x7fffe9, 0x1fffde,
            0x7fffea, 0x3fffdd, 0x3fffde, 0xfffff0, 0x1fffdf, 0x3fffdf, 0x7fffeb, 0x7fffec,
            0x1fffe0, 0x1fffe1, 0x3fffe0, 0x1fffe2, 0x7fffed, 0x3fffe1, 0x7fffee, 0x7fffef,
            0xfffea, 0x3fffe2, 0x3fffe3, 0x3fffe4, 0x7ffff0, 0x3fffe5, 0x3fffe6, 0x7ffff1,
            0x3ffffe0, 0x3ffffe1, 0xfffeb, 0x7fff1, 0x3fffe7, 0x7ffff2, 0x3fffe8, 0x1ffffec,
            0x3ffffe2, 0x3ffffe3, 0x3ffffe4, 0x7ffffde, 0x7ffffdf, 0x3ffffe5, 0xfffff1, 0x1ffffed,
            0x7fff2, 0x1fffe3, 0x3ffffe6, 0x7ffffe0, 0x7ffffe1, 0x3ffffe7, 0x7ffffe2, 0xfffff2,
            0x1fffe4, 0x1fffe5, 0x3ffffe8, 0x3ffffe9, 0xffffffd, 0x7ffffe3, 0x7ffffe4, 0x7ffffe5,
            0xfffec, 0xfffff3, 0xfffed, 0x1fffe6, 0x3fffe9, 0x1fffe7, 0x1fffe8, 0x7ffff3,
            0x3fffea, 0x3fffeb, 0x1ffffee, 0x1ffffef, 0xfffff4, 0xfffff5, 0x3ffffea, 0x7ffff4,
            0x3ffffeb, 0x7ffffe6, 0x3ffffec, 0x3ffffed, 0x7ffffe7, 0x7ffffe8, 0x7ffffe9, 0x7ffffea,
            0x7ffffeb, 0xffffffe, 0x7ffffec, 0x7ffffed, 0x7ffffee, 0x7ffffef, 0x7fffff0, 0x3ffffee,
            0x3fffffff,
    };

    /** Appendix B code lengths in bits, indexed by symbol. */
    static final byte[] LENGTHS = {
            13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
            28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
            6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
            5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
            13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
            7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
            15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
            6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
            20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
            24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
            22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
            21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
            26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
            19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
            20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
            26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
            30,
    };

    private static final int EOS = 256;
    private static final int STATES = 256;
    /** Transition flag: the nibble completed a symbol, held in bits 8..15. */
    private static final int EMITS = 1 << 16;
    /** Transition flag: the nibble reached EOS; the string is invalid. */
    private static final int FAILS = 1 << 17;
    /** {@code TRANSITIONS[state << 4 | nibble]}: next state in bits 0..7, symbol, flags. */
    private static final int[] TRANSITIONS = new int[STATES * 16];
    /**
     * Per state: 0 if the string may end here (at the root, or after at most seven bits that are
     * all ones), else the status for ending here.
     */
    private static final byte[] END_STATUS = new byte[STATES];

    static {
        buildDecoder();
    }

    private Huffman() {}

    /** Bytes that {@link #encode} will write for {@code src[off, off + len)}. */
    public static int encodedLength(byte[] src, int off, int len) {
        long bits = 0;
        for (int i = off, end = off + len; i < end; i++) {
            bits += LENGTHS[src[i] & 0xff];
        }
        return (int) ((bits + 7) >>> 3);
    }

    /**
     * Writes the Huffman code of {@code src[off, off + len)} at {@code out}'s position and returns
     * the number of bytes written (always {@link #encodedLength}). The caller checks the room
     * first; with less than {@code encodedLength} bytes remaining this throws
     * {@link java.nio.BufferOverflowException} part way through.
     */
    public static int encode(byte[] src, int off, int len, ByteBuffer out) {
        int start = out.position();
        long acc = 0;
        int bits = 0;
        for (int i = off, end = off + len; i < end; i++) {
            int symbol = src[i] & 0xff;
            int length = LENGTHS[symbol];
            // At most 7 bits are pending and codes are at most 30 bits: 37 < 64.
            acc = (acc << length) | CODES[symbol];
            bits += length;
            while (bits >= 8) {
                bits -= 8;
                out.put((byte) (acc >>> bits));
            }
        }
        if (bits > 0) {
            // §5.2: pad with the most significant bits of EOS, which are all ones.
            out.put((byte) ((acc << (8 - bits)) | (0xff >>> bits)));
        }
        return out.position() - start;
    }

    /** An upper bound of the decoded length of {@code encodedLength} bytes (codes are >= 5 bits). */
    public static int maxDecodedLength(int encodedLength) {
        return (int) (encodedLength * 8L / 5);
    }

    /** A lower bound of the decoded length of {@code encodedLength} bytes (codes are <= 30 bits). */
    public static int minDecodedLength(int encodedLength) {
        return (int) (Math.max(0, encodedLength * 8L - 7) / 30);
    }

    /**
     * Decodes {@code src[off, off + len)} into {@code dst} from {@code dstOff}, writing at most
     * {@code dstMax} bytes. Returns the decoded length, or a negative status:
     * {@link #EOS_IN_STRING}, {@link #PADDING_TOO_LONG}, {@link #PADDING_NOT_EOS_PREFIX} (all three
     * are decoding errors, RFC 7541 §5.2) or {@link #OUTPUT_TOO_LONG}. Never throws for any input
     * as long as {@code dst} really has {@code dstMax} bytes from {@code dstOff}.
     */
    public static int decode(byte[] src, int off, int len, byte[] dst, int dstOff, int dstMax) {
        int state = 0;
        int written = 0;
        for (int i = off, end = off + len; i < end; i++) {
            int b = src[i] & 0xff;
            int t = TRANSITIONS[state << 4 | b >>> 4];
            if ((t & (EMITS | FAILS)) != 0) {
                if ((t & FAILS) != 0) {
                    return EOS_IN_STRING;
                }
                if (written == dstMax) {
                    return OUTPUT_TOO_LONG;
                }
                dst[dstOff + written++] = (byte) (t >>> 8);
            }
            t = TRANSITIONS[(t & 0xff) << 4 | b & 0x0f];
            if ((t & (EMITS | FAILS)) != 0) {
                if ((t & FAILS) != 0) {
                    return EOS_IN_STRING;
                }
                if (written == dstMax) {
                    return OUTPUT_TOO_LONG;
                }
                dst[dstOff + written++] = (byte) (t >>> 8);
            }
            state = t & 0xff;
        }
        return END_STATUS[state] == 0 ? written : END_STATUS[state];
    }

    /** As {@link #decode(byte[], int, int, byte[], int, int)}, reading {@code src} by absolute index. */
    public static int decode(ByteBuffer src, int index, int len, byte[] dst, int dstOff, int dstMax) {
        if (src.hasArray()) {
            return decode(src.array(), src.arrayOffset() + index, len, dst, dstOff, dstMax);
        }
        int state = 0;
        int written = 0;
        for (int i = index, end = index + len; i < end; i++) {
            int b = src.get(i) & 0xff;
            for (int shift = 4; shift >= 0; shift -= 4) {
                int t = TRANSITIONS[state << 4 | (b >>> shift) & 0x0f];
                if ((t & FAILS) != 0) {
                    return EOS_IN_STRING;
                }
                if ((t & EMITS) != 0) {
                    if (written == dstMax) {
                        return OUTPUT_TOO_LONG;
                    }
                    dst[dstOff + written++] = (byte) (t >>> 8);
                }
                state = t & 0xff;
            }
        }
        return END_STATUS[state] == 0 ? written : END_STATUS[state];
    }

    /**
     * Builds the code tree from {@link #CODES} (internal nodes 0..255, root 0; a leaf is stored
     * as {@code -1 - symbol}), then the nibble automaton over its internal nodes.
     */
    private static void buildDecoder() {
        int[][] children = new int[STATES][2];
        int[] depth = new int[STATES];
        boolean[] allOnes = new boolean[STATES];
        allOnes[0] = true;
        int nodes = 1;
        for (int symbol = 0; symbol <= EOS; symbol++) {
            int node = 0;
            for (int bit = LENGTHS[symbol] - 1; bit >= 0; bit--) {
                int branch = (CODES[symbol] >>> bit) & 1;
                if (bit == 0) {
                    children[node][branch] = -1 - symbol;
                } else {
                    if (children[node][branch] == 0) {
                        children[node][branch] = nodes;
                        depth[nodes] = depth[node] + 1;
                        allOnes[nodes] = allOnes[node] && branch == 1;
                        nodes++;
                    }
                    node = children[node][branch];
                }
            }
        }
        if (nodes != STATES) {
            throw new ExceptionInInitializerError("Huffman code is not complete: " + nodes);
        }
        for (int state = 0; state < STATES; state++) {
            // §5.2: a string may end mid-code only on up to 7 bits of EOS's prefix (all ones).
            if (state != 0 && !(allOnes[state] && depth[state] <= 7)) {
                END_STATUS[state] = (byte) (allOnes[state] ? PADDING_TOO_LONG : PADDING_NOT_EOS_PREFIX);
            }
            for (int nibble = 0; nibble < 16; nibble++) {
                int node = state;
                int transition = 0;
                for (int bit = 3; bit >= 0; bit--) {
                    int child = children[node][(nibble >>> bit) & 1];
                    if (child >= 0) {
                        node = child;
                        continue;
                    }
                    int symbol = -1 - child;
                    if (symbol == EOS) {
                        transition |= FAILS;
                        break;
                    }
                    transition |= EMITS | symbol << 8;
                    node = 0;
                }
                TRANSITIONS[state << 4 | nibble] = transition | ((transition & FAILS) != 0 ? 0 : node);
            }
        }
    }
}
