package dev.moonbeam.http;

/**
 * Byte classification tables, so each byte is classified by one array load.
 *
 * <pre>
 * tchar     = "!" / "#" / "$" / "%" / "&amp;" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`"
 *           / "|" / "~" / DIGIT / ALPHA                                  ; RFC 9110 §5.6.2
 * OWS       = *( SP / HTAB )                                             ; RFC 9110 §5.6.3
 * field-vchar = VCHAR / obs-text                                         ; RFC 9110 §5.5
 * </pre>
 *
 * In the head, every C0 control except HTAB, and DEL, is refused (NUL included, RFC 9110 §5.5);
 * CR and LF only end lines.
 */
final class ByteClass {
    /** Head byte classes, see {@link #HEAD}. */
    static final byte ORDINARY = 0;
    static final byte CR = 1;
    static final byte LF = 2;
    static final byte CONTROL = 3;

    /** Class of every byte inside a head or a chunked framing line. */
    static final byte[] HEAD = new byte[256];
    private static final boolean[] TCHAR = new boolean[256];
    private static final byte[] HEX = new byte[256];
    /** Bytes allowed in a Host value: reg-name, IP-literal and port characters (RFC 3986 §3.2). */
    private static final boolean[] HOST = new boolean[256];

    static {
        for (int b = 0; b < 32; b++) {
            HEAD[b] = CONTROL;
        }
        HEAD['\t'] = ORDINARY;
        HEAD['\r'] = CR;
        HEAD['\n'] = LF;
        HEAD[0x7F] = CONTROL;
        for (char c = '0'; c <= '9'; c++) {
            TCHAR[c] = true;
        }
        for (char c = 'a'; c <= 'z'; c++) {
            TCHAR[c] = true;
            TCHAR[c - 32] = true;
        }
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
            TCHAR[c] = true;
        }
        java.util.Arrays.fill(HEX, (byte) -1);
        for (int i = 0; i < 10; i++) {
            HEX['0' + i] = (byte) i;
        }
        for (int i = 0; i < 6; i++) {
            HEX['a' + i] = (byte) (10 + i);
            HEX['A' + i] = (byte) (10 + i);
        }
        for (char c = '0'; c <= '9'; c++) {
            HOST[c] = true;
        }
        for (char c = 'a'; c <= 'z'; c++) {
            HOST[c] = true;
            HOST[c - 32] = true;
        }
        for (char c : "-._~!$&'()*+,;=%:[]".toCharArray()) {
            HOST[c] = true;
        }
    }

    private ByteClass() {}

    static boolean isTchar(byte b) {
        return TCHAR[b & 0xFF];
    }

    static boolean isHostChar(byte b) {
        return HOST[b & 0xFF];
    }

    /** Value of a hex digit, or -1. */
    static int hex(byte b) {
        return HEX[b & 0xFF];
    }

    static boolean isWhitespace(byte b) {
        return b == ' ' || b == '\t';
    }

    static boolean isDigit(byte b) {
        return b >= '0' && b <= '9';
    }

    /** ASCII lower case; other bytes unchanged. */
    static byte lower(byte b) {
        return b >= 'A' && b <= 'Z' ? (byte) (b + 32) : b;
    }

    /** Exact comparison of {@code bytes[start, start + s.length)} with {@code s}. */
    static boolean equals(byte[] bytes, int start, byte[] s) {
        for (int i = 0; i < s.length; i++) {
            if (bytes[start + i] != s[i]) {
                return false;
            }
        }
        return true;
    }

    /** Case-insensitive comparison of {@code bytes[start, end)} with lower-case {@code lower}. */
    static boolean equalsIgnoreCase(byte[] bytes, int start, int end, byte[] lower) {
        if (end - start != lower.length) {
            return false;
        }
        for (int i = 0; i < lower.length; i++) {
            if (lower(bytes[start + i]) != lower[i]) {
                return false;
            }
        }
        return true;
    }
}
