package dev.moonbeam.h2;

/**
 * Frame type codes (RFC 9113 §6, registry in §11.2). Plain {@code int} constants because the
 * reader switches on the byte it read and must pass unknown types through (§4.1, §5.5).
 */
public final class FrameType {
    public static final int DATA = 0x0;
    public static final int HEADERS = 0x1;
    public static final int PRIORITY = 0x2;
    public static final int RST_STREAM = 0x3;
    public static final int SETTINGS = 0x4;
    public static final int PUSH_PROMISE = 0x5;
    public static final int PING = 0x6;
    public static final int GOAWAY = 0x7;
    public static final int WINDOW_UPDATE = 0x8;
    public static final int CONTINUATION = 0x9;

    private static final String[] NAMES = {
        "DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS",
        "PUSH_PROMISE", "PING", "GOAWAY", "WINDOW_UPDATE", "CONTINUATION"
    };

    private FrameType() {}

    /** Whether this is one of the ten types RFC 9113 defines; others are extensions (§5.5). */
    public static boolean isKnown(int type) {
        return type >= DATA && type <= CONTINUATION;
    }

    /** Name for logs; unknown types as {@code 0x..}. Allocates only for unknown types. */
    public static String name(int type) {
        return isKnown(type) ? NAMES[type] : "0x" + Integer.toHexString(type);
    }
}
