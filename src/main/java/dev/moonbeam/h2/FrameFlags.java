package dev.moonbeam.h2;

/**
 * Frame flag bits (RFC 9113 §6). A flag's meaning depends on the frame type; undefined flags
 * "MUST be ignored on receipt and MUST be left unset (0x00) when sending" (§4.1).
 */
public final class FrameFlags {
    /** DATA, HEADERS: last frame the sender will send on this stream (§6.1, §6.2). */
    public static final int END_STREAM = 0x1;
    /** SETTINGS, PING: acknowledgement (§6.5, §6.7). Same bit as END_STREAM. */
    public static final int ACK = 0x1;
    /** HEADERS, PUSH_PROMISE, CONTINUATION: the field block ends in this frame (§6.2, §6.10). */
    public static final int END_HEADERS = 0x4;
    /** DATA, HEADERS, PUSH_PROMISE: a Pad Length byte leads the payload (§6.1, §6.2). */
    public static final int PADDED = 0x8;
    /** HEADERS: Exclusive, Stream Dependency and Weight follow (§6.2, deprecated by §5.3.2). */
    public static final int PRIORITY = 0x20;

    private FrameFlags() {}

    /** Whether {@code flag} is set in {@code flags}. */
    public static boolean has(int flags, int flag) {
        return (flags & flag) != 0;
    }
}
