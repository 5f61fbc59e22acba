package dev.moonbeam.h2;

/**
 * HTTP/2 error codes carried by RST_STREAM and GOAWAY (RFC 9113 §7), with their wire values.
 * Immutable; any thread.
 */
public enum ErrorCode {
    NO_ERROR(0x0),
    PROTOCOL_ERROR(0x1),
    INTERNAL_ERROR(0x2),
    FLOW_CONTROL_ERROR(0x3),
    SETTINGS_TIMEOUT(0x4),
    STREAM_CLOSED(0x5),
    FRAME_SIZE_ERROR(0x6),
    REFUSED_STREAM(0x7),
    CANCEL(0x8),
    COMPRESSION_ERROR(0x9),
    CONNECT_ERROR(0xa),
    ENHANCE_YOUR_CALM(0xb),
    INADEQUATE_SECURITY(0xc),
    HTTP_1_1_REQUIRED(0xd);

    /** Indexed by wire code; the codes are dense from 0, so a lookup is one array read. */
    private static final ErrorCode[] BY_CODE = values();

    private final int code;

    ErrorCode(int code) {
        this.code = code;
    }

    /** The 32-bit value on the wire. */
    public int code() {
        return code;
    }

    /**
     * The error for a received wire value. Unknown codes map to {@link #INTERNAL_ERROR}: RFC 9113
     * §7 says they "MUST NOT trigger any special behavior" and "MAY be treated ... as being
     * equivalent to INTERNAL_ERROR", so a peer using a newer registry never breaks us.
     */
    public static ErrorCode fromCode(int code) {
        // Unsigned compare: negative ints are wire values >= 2^31, unknown too.
        return Integer.compareUnsigned(code, BY_CODE.length) < 0 ? BY_CODE[code] : INTERNAL_ERROR;
    }
}
