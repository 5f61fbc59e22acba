package dev.moonbeam.observe;

import dev.moonbeam.balance.Backend;
import dev.moonbeam.http.HttpHead;
import java.nio.charset.StandardCharsets;
import java.util.IdentityHashMap;

/**
 * Formats one access-log line into a caller's byte array without allocating: nginx's combined
 * format plus {@code backend=}, {@code backend_time=}, {@code total=} and {@code termination=}
 * (why the request ended, see {@link Termination}):
 *
 * <pre>
 * 127.0.0.1 - - [26/Nov/2026:10:50:50 +0000] "GET /x HTTP/1.1" 200 1234 "referer" "ua" backend=127.0.0.1:8081 backend_time=0.003 total=0.004 termination=completed
 * </pre>
 *
 * <p>Every variable field has a cap (request line, referer, user agent, backend) so a line always
 * fits {@link #MAX_LINE_BYTES}; a field cut short ends in {@code ...}. Quotes, backslashes,
 * control and non-ASCII bytes are written as {@code \xHH}, as nginx does, so a hostile header can
 * neither break the line nor forge another.
 *
 * <p>Owned by one event-loop thread (one per {@link AccessLog.Recorder}); no locks. The date
 * bytes are cached per second; backend names are encoded once per backend.
 */
final class AccessLogLine {
    static final int MAX_REQUEST_LINE = 1024;
    static final int MAX_HEADER_VALUE = 256;
    static final int MAX_BACKEND = 128;
    static final int MAX_ADDRESS = 64;
    /** The capped fields plus the fixed parts (date, quotes, numbers, keywords: under 200 bytes). */
    static final int MAX_LINE_BYTES = MAX_ADDRESS + MAX_REQUEST_LINE + 2 * MAX_HEADER_VALUE + MAX_BACKEND + 256;
    /** A reload may create new backends; forget the cache rather than grow it without bound. */
    private static final int MAX_CACHED_BACKENDS = 1024;

    private static final byte[] REFERER = ascii("referer");
    private static final byte[] USER_AGENT = ascii("user-agent");
    private static final byte[] MONTHS = ascii("JanFebMarAprMayJunJulAugSepOctNovDec");
    private static final byte[] HEX = ascii("0123456789ABCDEF");
    private static final byte[] ELLIPSIS = ascii("...");
    private static final byte[] BACKEND_KEY = ascii(" backend=");
    private static final byte[] HTTP_2 = ascii(" HTTP/2.0");
    private static final byte[] BACKEND_TIME_KEY = ascii(" backend_time=");
    private static final byte[] TOTAL_KEY = ascii(" total=");
    private static final byte[] TERMINATION_KEY = ascii(" termination=");

    /** "[dd/MMM/yyyy:HH:mm:ss +0000]" for {@link #cachedSecond}. */
    private final byte[] date = new byte[28];
    private long cachedSecond = Long.MIN_VALUE;
    private final IdentityHashMap<Backend, BackendName> backendNames = new IdentityHashMap<>();

    /** A backend's label bytes, with the text they came from so a reload's rename is noticed. */
    private record BackendName(String text, byte[] bytes) { }

    /**
     * Writes the line for {@code r} (ending in '\n') at {@code out[start..]}; returns its length,
     * at most {@link #MAX_LINE_BYTES}.
     */
    int format(RequestRecord r, byte[] out, int start) {
        int p = start;
        if (r.clientAddress == null || r.clientAddress.length == 0) {
            out[p++] = '-';
        } else {
            p = escaped(r.clientAddress, 0, r.clientAddress.length, out, p, MAX_ADDRESS);
        }
        out[p++] = ' ';
        out[p++] = '-';
        out[p++] = ' ';
        out[p++] = '-';
        out[p++] = ' ';
        p = date(r.startEpochMillis, out, p);
        out[p++] = ' ';
        out[p++] = '"';
        HttpHead head = r.request;
        if (head == null) {
            out[p++] = '-';
        } else {
            if (r.http2) {
                // The head is the HTTP/1.1 form sent to the backend; the client spoke HTTP/2.
                p = escaped(head.bytes(), head.startLineStart(), head.targetEnd(), out, p, MAX_REQUEST_LINE);
                p = put(HTTP_2, out, p);
            } else {
                p = escaped(head.bytes(), head.startLineStart(), head.startLineEnd(), out, p, MAX_REQUEST_LINE);
            }
        }
        out[p++] = '"';
        out[p++] = ' ';
        p = number(r.status, out, p);
        out[p++] = ' ';
        p = number(r.bytesSent, out, p);
        out[p++] = ' ';
        p = quotedHeader(head, REFERER, out, p);
        out[p++] = ' ';
        p = quotedHeader(head, USER_AGENT, out, p);
        p = put(BACKEND_KEY, out, p);
        if (r.backend == null) {
            out[p++] = '-';
        } else {
            byte[] name = backendName(r.backend);
            p = escaped(name, 0, name.length, out, p, MAX_BACKEND);
        }
        p = put(BACKEND_TIME_KEY, out, p);
        p = seconds(r.backend == null ? -1 : r.backendNanos, out, p);
        p = put(TOTAL_KEY, out, p);
        p = seconds(r.totalNanos(), out, p);
        p = put(TERMINATION_KEY, out, p);
        if (r.termination == null) {
            out[p++] = '-';
        } else {
            p = put(r.termination.labelBytes(), out, p);
        }
        out[p++] = '\n';
        return p - start;
    }

    private int quotedHeader(HttpHead head, byte[] lowerName, byte[] out, int p) {
        out[p++] = '"';
        int field = head == null ? -1 : find(head, lowerName);
        if (field < 0 || head.valueStart(field) == head.valueEnd(field)) {
            out[p++] = '-';
        } else {
            p = escaped(head.bytes(), head.valueStart(field), head.valueEnd(field), out, p, MAX_HEADER_VALUE);
        }
        out[p++] = '"';
        return p;
    }

    /** Index of the first header named {@code lowerName} (ASCII case-insensitive), or -1. */
    static int find(HttpHead head, byte[] lowerName) {
        byte[] bytes = head.bytes();
        for (int i = 0; i < head.headerCount(); i++) {
            int start = head.nameStart(i);
            if (head.nameEnd(i) - start != lowerName.length) {
                continue;
            }
            int j = 0;
            while (j < lowerName.length && lower(bytes[start + j]) == lowerName[j]) {
                j++;
            }
            if (j == lowerName.length) {
                return i;
            }
        }
        return -1;
    }

    private static byte lower(byte b) {
        return b >= 'A' && b <= 'Z' ? (byte) (b + ('a' - 'A')) : b;
    }

    /**
     * Copies {@code in[start..end)} escaping like nginx's access log; stops before exceeding
     * {@code cap} output bytes and marks the cut with "...".
     */
    private static int escaped(byte[] in, int start, int end, byte[] out, int p, int cap) {
        int limit = p + cap - ELLIPSIS.length;
        for (int i = start; i < end; i++) {
            int b = in[i] & 0xFF;
            boolean escape = b < 0x20 || b >= 0x7F || b == '"' || b == '\\';
            int width = escape ? 4 : 1;
            if (p + width > limit) {
                return put(ELLIPSIS, out, p);
            }
            if (escape) {
                out[p++] = '\\';
                out[p++] = 'x';
                out[p++] = HEX[b >>> 4];
                out[p++] = HEX[b & 0xF];
            } else {
                out[p++] = (byte) b;
            }
        }
        return p;
    }

    private static int put(byte[] bytes, byte[] out, int p) {
        System.arraycopy(bytes, 0, out, p, bytes.length);
        return p + bytes.length;
    }

    /** Decimal digits of a non-negative number; negative numbers are written as "-". */
    static int number(long value, byte[] out, int p) {
        if (value < 0) {
            out[p++] = '-';
            return p;
        }
        int digits = 1;
        for (long v = value; v >= 10; v /= 10) {
            digits++;
        }
        for (int i = p + digits - 1; i >= p; i--) {
            out[i] = (byte) ('0' + value % 10);
            value /= 10;
        }
        return p + digits;
    }

    /** Seconds with millisecond precision like nginx's $request_time ("0.003"); "-" when negative. */
    static int seconds(long nanos, byte[] out, int p) {
        if (nanos < 0) {
            out[p++] = '-';
            return p;
        }
        long millis = nanos / 1_000_000;
        p = number(millis / 1000, out, p);
        out[p++] = '.';
        long fraction = millis % 1000;
        out[p++] = (byte) ('0' + fraction / 100);
        out[p++] = (byte) ('0' + fraction / 10 % 10);
        out[p++] = (byte) ('0' + fraction % 10);
        return p;
    }

    private int date(long epochMillis, byte[] out, int p) {
        long second = Math.floorDiv(epochMillis, 1000);
        if (second != cachedSecond) {
            formatDate(second, date);
            cachedSecond = second;
        }
        return put(date, out, p);
    }

    /** "[dd/MMM/yyyy:HH:mm:ss +0000]" in UTC, by the civil-from-days algorithm (no java.time objects). */
    static void formatDate(long epochSecond, byte[] out) {
        long days = Math.floorDiv(epochSecond, 86_400);
        int secondOfDay = Math.floorMod(epochSecond, 86_400);
        // Howard Hinnant's civil_from_days: eras of 400 years starting 0000-03-01.
        long z = days + 719_468;
        long era = Math.floorDiv(z, 146_097);
        long dayOfEra = z - era * 146_097;
        long yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
        long dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
        long mp = (5 * dayOfYear + 2) / 153;
        int day = (int) (dayOfYear - (153 * mp + 2) / 5 + 1);
        int month = (int) (mp < 10 ? mp + 3 : mp - 9);
        long year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
        out[0] = '[';
        two(day, out, 1);
        out[3] = '/';
        System.arraycopy(MONTHS, (month - 1) * 3, out, 4, 3);
        out[7] = '/';
        int y = (int) Math.max(0, Math.min(9999, year));
        two(y / 100, out, 8);
        two(y % 100, out, 10);
        out[12] = ':';
        two(secondOfDay / 3600, out, 13);
        out[15] = ':';
        two(secondOfDay / 60 % 60, out, 16);
        out[18] = ':';
        two(secondOfDay % 60, out, 19);
        out[21] = ' ';
        out[22] = '+';
        out[23] = '0';
        out[24] = '0';
        out[25] = '0';
        out[26] = '0';
        out[27] = ']';
    }

    private static void two(int value, byte[] out, int at) {
        out[at] = (byte) ('0' + value / 10);
        out[at + 1] = (byte) ('0' + value % 10);
    }

    private byte[] backendName(Backend backend) {
        String text = backend.spec().hostPort();
        BackendName cached = backendNames.get(backend);
        if (cached == null || cached.text() != text) {
            if (backendNames.size() >= MAX_CACHED_BACKENDS) {
                backendNames.clear();
            }
            cached = new BackendName(text, text.getBytes(StandardCharsets.ISO_8859_1));
            backendNames.put(backend, cached);
        }
        return cached.bytes();
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }
}
