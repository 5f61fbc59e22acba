package dev.moonbeam.h2;

/**
 * The six settings of RFC 9113 §6.5.2, all unsigned 32-bit values held in {@code long}s, with
 * the defaults that apply until a SETTINGS frame changes them, and a mark for each setting that
 * was explicitly set.
 *
 * <p>Used three ways: our own settings (written by {@link FrameWriter#settings}), the peer's
 * settings as they stand (updated with {@link #apply}), and the changes one received SETTINGS
 * frame carried ({@link FrameReader} reuses one instance and passes it to
 * {@link FrameListener#settings}; {@link #isSet} tells which identifiers the frame contained).
 *
 * <p>Mutable; owned by the connection's event-loop thread. No locks.
 */
public final class Http2Settings {
    public static final int HEADER_TABLE_SIZE = 0x1;
    public static final int ENABLE_PUSH = 0x2;
    public static final int MAX_CONCURRENT_STREAMS = 0x3;
    public static final int INITIAL_WINDOW_SIZE = 0x4;
    public static final int MAX_FRAME_SIZE = 0x5;
    public static final int MAX_HEADER_LIST_SIZE = 0x6;

    /** "Initially, there is no limit" (§6.5.2): the largest value a peer can express. */
    public static final long UNLIMITED = 0xFFFF_FFFFL;
    public static final long DEFAULT_HEADER_TABLE_SIZE = 4096;
    public static final long DEFAULT_ENABLE_PUSH = 1;
    public static final long DEFAULT_INITIAL_WINDOW_SIZE = 65_535;
    public static final int DEFAULT_MAX_FRAME_SIZE = 16_384;
    /** Largest legal SETTINGS_MAX_FRAME_SIZE, 2^24-1 (§6.5.2). */
    public static final int MAX_MAX_FRAME_SIZE = 16_777_215;
    /** Largest flow-control window, 2^31-1 (§6.9.1). */
    public static final long MAX_WINDOW_SIZE = 0x7FFF_FFFFL;

    private static final String[] NAMES = {
        null, "HEADER_TABLE_SIZE", "ENABLE_PUSH", "MAX_CONCURRENT_STREAMS",
        "INITIAL_WINDOW_SIZE", "MAX_FRAME_SIZE", "MAX_HEADER_LIST_SIZE"
    };

    /** Indexed by identifier; slot 0 unused. */
    private final long[] values = new long[MAX_HEADER_LIST_SIZE + 1];
    private int setMask;

    /** All defaults, nothing marked as set. */
    public Http2Settings() {
        clear();
    }

    /** Back to the defaults with nothing marked as set; reused per received SETTINGS frame. */
    public void clear() {
        values[HEADER_TABLE_SIZE] = DEFAULT_HEADER_TABLE_SIZE;
        values[ENABLE_PUSH] = DEFAULT_ENABLE_PUSH;
        values[MAX_CONCURRENT_STREAMS] = UNLIMITED;
        values[INITIAL_WINDOW_SIZE] = DEFAULT_INITIAL_WINDOW_SIZE;
        values[MAX_FRAME_SIZE] = DEFAULT_MAX_FRAME_SIZE;
        values[MAX_HEADER_LIST_SIZE] = UNLIMITED;
        setMask = 0;
    }

    /** Whether {@code id} is one of the six settings RFC 9113 defines. */
    public static boolean isKnown(int id) {
        return id >= HEADER_TABLE_SIZE && id <= MAX_HEADER_LIST_SIZE;
    }

    /**
     * Checks a received value (§6.5.2); {@link ErrorCode#NO_ERROR} when acceptable. Unknown
     * identifiers are acceptable: "An endpoint that receives a SETTINGS frame with any unknown or
     * unsupported identifier MUST ignore that setting" (§6.5.2).
     */
    public static ErrorCode validate(int id, long value) {
        switch (id) {
            case ENABLE_PUSH:
                return value == 0 || value == 1 ? ErrorCode.NO_ERROR : ErrorCode.PROTOCOL_ERROR;
            case INITIAL_WINDOW_SIZE:
                // §6.5.2: above 2^31-1 "MUST be treated as a connection error of type
                // FLOW_CONTROL_ERROR" — not PROTOCOL_ERROR like the others.
                return value <= MAX_WINDOW_SIZE ? ErrorCode.NO_ERROR : ErrorCode.FLOW_CONTROL_ERROR;
            case MAX_FRAME_SIZE:
                return value >= DEFAULT_MAX_FRAME_SIZE && value <= MAX_MAX_FRAME_SIZE
                        ? ErrorCode.NO_ERROR : ErrorCode.PROTOCOL_ERROR;
            default:
                return ErrorCode.NO_ERROR;
        }
    }

    /**
     * Sets and marks one setting. For our own configuration and for values the reader has
     * validated; an unknown identifier or an invalid value is a programming error here.
     */
    public Http2Settings set(int id, long value) {
        if (!isKnown(id) || value < 0 || value > UNLIMITED || validate(id, value) != ErrorCode.NO_ERROR) {
            throw new IllegalArgumentException("invalid setting " + id + "=" + value);
        }
        values[id] = value;
        setMask |= 1 << id;
        return this;
    }

    /** The current value of a known setting (its default unless set). */
    public long get(int id) {
        if (!isKnown(id)) {
            throw new IllegalArgumentException("unknown setting " + id);
        }
        return values[id];
    }

    /** Whether {@code id} was set since construction or {@link #clear()}. */
    public boolean isSet(int id) {
        return isKnown(id) && (setMask & (1 << id)) != 0;
    }

    /** Whether nothing is set (an empty SETTINGS frame, §3.4 allows one). */
    public boolean isEmpty() {
        return setMask == 0;
    }

    /** Copies every setting marked in {@code changes} into this holder (§6.5.3: in order, last wins). */
    public void apply(Http2Settings changes) {
        for (int id = HEADER_TABLE_SIZE; id <= MAX_HEADER_LIST_SIZE; id++) {
            if (changes.isSet(id)) {
                values[id] = changes.values[id];
                setMask |= 1 << id;
            }
        }
    }

    public long headerTableSize() {
        return values[HEADER_TABLE_SIZE];
    }

    public boolean enablePush() {
        return values[ENABLE_PUSH] == 1;
    }

    public long maxConcurrentStreams() {
        return values[MAX_CONCURRENT_STREAMS];
    }

    /** At most 2^31-1 once validated, so an {@code int}. */
    public int initialWindowSize() {
        return (int) values[INITIAL_WINDOW_SIZE];
    }

    public int maxFrameSize() {
        return (int) values[MAX_FRAME_SIZE];
    }

    public long maxHeaderListSize() {
        return values[MAX_HEADER_LIST_SIZE];
    }

    /** Name of a known identifier, for logs. */
    public static String name(int id) {
        return isKnown(id) ? NAMES[id] : "0x" + Integer.toHexString(id);
    }

    /** The settings marked as set, e.g. {@code {INITIAL_WINDOW_SIZE=100}}. */
    @Override
    public String toString() {
        StringBuilder text = new StringBuilder("{");
        for (int id = HEADER_TABLE_SIZE; id <= MAX_HEADER_LIST_SIZE; id++) {
            if (isSet(id)) {
                text.append(text.length() > 1 ? ", " : "").append(NAMES[id]).append('=').append(values[id]);
            }
        }
        return text.append('}').toString();
    }
}
