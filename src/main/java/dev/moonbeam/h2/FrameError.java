package dev.moonbeam.h2;

/**
 * Every way {@link FrameReader} rejects input, with the error code to send and a short constant
 * reason (no allocation on the error path). Whether it is a connection error (GOAWAY, close) or a
 * stream error (RST_STREAM, carry on) is decided by the rule that fired and reported by which
 * {@link FrameListener} method receives it; {@link #ZERO_WINDOW_INCREMENT} can be either (§6.9).
 * Immutable; any thread.
 */
public enum FrameError {
    /** §3.4: not "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"; the peer probably does not speak HTTP/2. */
    BAD_PREFACE(ErrorCode.PROTOCOL_ERROR, "invalid connection preface"),
    /** §3.4: the preface must continue with a (non-ACK) SETTINGS frame. */
    FIRST_FRAME_NOT_SETTINGS(ErrorCode.PROTOCOL_ERROR, "first frame is not SETTINGS"),
    /** §4.2: longer than the SETTINGS_MAX_FRAME_SIZE we advertised; refused before buffering. */
    FRAME_TOO_LARGE(ErrorCode.FRAME_SIZE_ERROR, "frame exceeds SETTINGS_MAX_FRAME_SIZE"),
    /** §4.2: too small for its mandatory fields (Pad Length, priority fields). */
    FRAME_TOO_SHORT(ErrorCode.FRAME_SIZE_ERROR, "frame too short for its fields"),
    /** §6.1, §6.2, §6.3, §6.4, §6.10: DATA, HEADERS, PRIORITY, RST_STREAM need a stream. */
    STREAM_ID_ZERO(ErrorCode.PROTOCOL_ERROR, "stream frame on stream 0"),
    /** §6.5, §6.7, §6.8: SETTINGS, PING, GOAWAY apply to the connection only. */
    STREAM_ID_NOT_ZERO(ErrorCode.PROTOCOL_ERROR, "connection frame on a stream"),
    /** §5.1.1: streams the client opens are odd; we never enable push, so no even ones exist. */
    EVEN_STREAM_ID(ErrorCode.PROTOCOL_ERROR, "HEADERS on an even stream"),
    /** §6.1, §6.2: padding as long as the payload or longer. */
    BAD_PADDING(ErrorCode.PROTOCOL_ERROR, "padding exceeds payload"),
    /** §5.3.1: a stream cannot depend on itself; a stream error. */
    SELF_DEPENDENCY(ErrorCode.PROTOCOL_ERROR, "stream depends on itself"),
    /** §6.10: only CONTINUATION on the same stream may follow HEADERS without END_HEADERS. */
    FIELD_BLOCK_INTERRUPTED(ErrorCode.PROTOCOL_ERROR, "frame interleaved in a field block"),
    /** §6.10: CONTINUATION must follow HEADERS or CONTINUATION without END_HEADERS. */
    CONTINUATION_WITHOUT_BLOCK(ErrorCode.PROTOCOL_ERROR, "CONTINUATION without an open field block"),
    /**
     * The field block across HEADERS and all its CONTINUATION frames exceeds our bound: the
     * CONTINUATION flood (CVE-2024-27316). A connection error: a block we refuse to decode
     * breaks the HPACK context (§4.3), and §10.5 lets us refuse abusive load.
     */
    FIELD_BLOCK_TOO_LARGE(ErrorCode.ENHANCE_YOUR_CALM, "field block exceeds limit"),
    /** §8.4: a client cannot push; we advertise ENABLE_PUSH=0 to servers (§6.6). */
    PUSH_PROMISE_RECEIVED(ErrorCode.PROTOCOL_ERROR, "PUSH_PROMISE received"),
    /** §6.3: PRIORITY is exactly 5 octets; a stream error. */
    BAD_PRIORITY_LENGTH(ErrorCode.FRAME_SIZE_ERROR, "PRIORITY length is not 5"),
    /** §6.4: RST_STREAM is exactly 4 octets. */
    BAD_RST_STREAM_LENGTH(ErrorCode.FRAME_SIZE_ERROR, "RST_STREAM length is not 4"),
    /** §6.5: an ACK carries no payload. */
    SETTINGS_ACK_WITH_PAYLOAD(ErrorCode.FRAME_SIZE_ERROR, "SETTINGS ACK with payload"),
    /** §6.5: entries are 6 octets each. */
    BAD_SETTINGS_LENGTH(ErrorCode.FRAME_SIZE_ERROR, "SETTINGS length not a multiple of 6"),
    /** §6.5.2: ENABLE_PUSH other than 0 or 1. */
    BAD_ENABLE_PUSH(ErrorCode.PROTOCOL_ERROR, "SETTINGS_ENABLE_PUSH not 0 or 1"),
    /** §6.5.2: a server "MUST NOT" enable push; a client treats 1 as PROTOCOL_ERROR. */
    SERVER_ENABLED_PUSH(ErrorCode.PROTOCOL_ERROR, "server sent SETTINGS_ENABLE_PUSH=1"),
    /** §6.5.2: INITIAL_WINDOW_SIZE above 2^31-1 is a FLOW_CONTROL_ERROR. */
    BAD_INITIAL_WINDOW_SIZE(ErrorCode.FLOW_CONTROL_ERROR, "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1"),
    /** §6.5.2: MAX_FRAME_SIZE outside 2^14..2^24-1. */
    BAD_MAX_FRAME_SIZE(ErrorCode.PROTOCOL_ERROR, "SETTINGS_MAX_FRAME_SIZE out of range"),
    /** §6.7: PING is exactly 8 octets. */
    BAD_PING_LENGTH(ErrorCode.FRAME_SIZE_ERROR, "PING length is not 8"),
    /** §6.8: GOAWAY has at least Last-Stream-ID and Error Code. */
    BAD_GOAWAY_LENGTH(ErrorCode.FRAME_SIZE_ERROR, "GOAWAY shorter than 8"),
    /** §6.9: WINDOW_UPDATE is exactly 4 octets. */
    BAD_WINDOW_UPDATE_LENGTH(ErrorCode.FRAME_SIZE_ERROR, "WINDOW_UPDATE length is not 4"),
    /** §6.9: increment 0; a connection error on stream 0, a stream error otherwise. */
    ZERO_WINDOW_INCREMENT(ErrorCode.PROTOCOL_ERROR, "WINDOW_UPDATE increment of 0");

    private final ErrorCode code;
    private final String reason;

    FrameError(ErrorCode code, String reason) {
        this.code = code;
        this.reason = reason;
    }

    /** The error for an invalid value of setting {@code id} ({@link Http2Settings#validate} said so). */
    static FrameError forSetting(int id) {
        switch (id) {
            case Http2Settings.ENABLE_PUSH:
                return BAD_ENABLE_PUSH;
            case Http2Settings.INITIAL_WINDOW_SIZE:
                return BAD_INITIAL_WINDOW_SIZE;
            case Http2Settings.MAX_FRAME_SIZE:
                return BAD_MAX_FRAME_SIZE;
            default:
                throw new IllegalStateException("setting " + id + " has no invalid values");
        }
    }

    /** The code for the GOAWAY or RST_STREAM this error calls for. */
    public ErrorCode code() {
        return code;
    }

    /** Short constant text, fit for GOAWAY debug data and logs. */
    public String reason() {
        return reason;
    }
}
