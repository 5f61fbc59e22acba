package dev.moonbeam.h2;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Incremental HTTP/2 frame reader (RFC 9113 §4, §6): feed it whatever bytes arrived and it
 * reports frames to a {@link FrameListener}, keeping its place across calls; any split of the same
 * bytes gives the same events (DATA may come in more or fewer pieces).
 *
 * <p>Every frame is judged from its 9-octet header and fixed fields before any payload is
 * buffered, as h2o's {@code frame.c} does: a frame's length is checked against our
 * SETTINGS_MAX_FRAME_SIZE first (§4.2), so nothing the peer sends makes us hold more than
 * {@link #MAX_UNCONSUMED_BYTES} of the caller's buffer. DATA is passed on as it arrives, field
 * block fragments are copied into one reused block buffer bounded across CONTINUATION frames
 * (CVE-2024-27316), SETTINGS entries are read six octets at a time, and everything else that
 * carries no information (padding, GOAWAY debug data, unknown frames) is skipped unread.
 *
 * <p>States ({@link Phase}): PREFACE (server role, until the 24-octet client preface, §3.4),
 * FRAME_HEADER (between frames), FIXED_FIELDS (waiting for a frame's fixed leading fields, at most
 * 8 octets), DATA, FRAGMENT (field block bytes), SETTINGS (entries), SKIP, and the terminal ERROR
 * (a connection error was reported) and STOPPED ({@link #stop()}). Only {@link #setPhase} changes
 * the phase, and it never leaves a terminal one. Timeouts (preface, idle, SETTINGS ACK) belong to
 * the connection, which knows the clock.
 *
 * <p>Owned by one connection's event-loop thread; no locks. Nothing throws for bad input.
 * Steady state allocates nothing: the block buffer grows geometrically to its bound once, the
 * settings holder is reused, errors are enum constants.
 */
public final class FrameReader {
    /** Which end of the connection we are: a server reads the client preface first (§3.4). */
    public enum Role { SERVER, CLIENT }

    private enum Phase { PREFACE, FRAME_HEADER, FIXED_FIELDS, DATA, FRAGMENT, SETTINGS, SKIP, ERROR, STOPPED }

    /** Client connection preface (§3.4). */
    public static final String PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    public static final int PREFACE_BYTES = 24;
    /** Field blocks larger than this across HEADERS and CONTINUATION are refused by default. */
    public static final int DEFAULT_MAX_FIELD_BLOCK_BYTES = 64 * 1024;
    /**
     * Most bytes {@link #read} leaves unconsumed when it returns NEED_MORE: a frame header minus
     * one octet (the longest fixed fields, PING and GOAWAY, are 8 octets). Any read buffer will do.
     */
    public static final int MAX_UNCONSUMED_BYTES = FrameWriter.FRAME_HEADER_BYTES - 1;

    private static final byte[] PREFACE_OCTETS = PREFACE.getBytes(StandardCharsets.US_ASCII);
    /** §4.1: the reserved high bit of a stream id "MUST be ignored when receiving". */
    private static final int STREAM_ID_MASK = 0x7FFF_FFFF;
    private static final int SETTING_ENTRY_BYTES = 6;
    private static final int PRIORITY_FIELDS_BYTES = 5;
    private static final int RST_STREAM_BYTES = 4;
    private static final int PING_BYTES = 8;
    private static final int GOAWAY_FIXED_BYTES = 8;
    private static final int WINDOW_UPDATE_BYTES = 4;

    private final Role role;
    private final int maxFrameSize;
    private final int maxFieldBlockBytes;
    private final Http2Settings receivedSettings = new Http2Settings();
    private final FieldBlock block;
    private Phase phase;
    private FrameError error;
    private int prefaceMatched;
    private boolean settingsSeen;

    // The frame being read.
    private int length;
    private int type;
    private int flags;
    private int streamId;
    private int fixedBytes;
    /** Payload bytes left in DATA, FRAGMENT, SETTINGS or SKIP. */
    private int remaining;
    /** Padding to skip once the data or fragment is done. */
    private int padding;

    private long emptyContinuationFrames;
    private long emptyDataFrames;

    /** A reader with SETTINGS_MAX_FRAME_SIZE 16384 and a 64 KiB field block bound. */
    public FrameReader(Role role) {
        this(role, Http2Settings.DEFAULT_MAX_FRAME_SIZE, DEFAULT_MAX_FIELD_BLOCK_BYTES);
    }

    /**
     * @param maxFrameSize the SETTINGS_MAX_FRAME_SIZE we advertise, 2^14..2^24-1 (§6.5.2)
     * @param maxFieldBlockBytes bound on one field block across HEADERS and CONTINUATION frames
     */
    public FrameReader(Role role, int maxFrameSize, int maxFieldBlockBytes) {
        if (maxFrameSize < Http2Settings.DEFAULT_MAX_FRAME_SIZE || maxFrameSize > Http2Settings.MAX_MAX_FRAME_SIZE) {
            throw new IllegalArgumentException("maxFrameSize out of range: " + maxFrameSize);
        }
        if (maxFieldBlockBytes < 1) {
            throw new IllegalArgumentException("maxFieldBlockBytes must be positive: " + maxFieldBlockBytes);
        }
        this.role = role;
        this.maxFrameSize = maxFrameSize;
        this.maxFieldBlockBytes = maxFieldBlockBytes;
        this.block = new FieldBlock(maxFieldBlockBytes);
        setPhase(role == Role.SERVER ? Phase.PREFACE : Phase.FRAME_HEADER);
    }

    /**
     * Consumes what it can of {@code in} (read mode) and reports it to {@code listener}. On
     * NEED_MORE fewer than {@link #MAX_UNCONSUMED_BYTES} + 1 bytes remain; compact and call again.
     */
    public ReadStatus read(ByteBuffer in, FrameListener listener) {
        while (step(in, listener)) {
            // Each step either advances the phase or reports it needs more input.
        }
        return phase == Phase.ERROR ? ReadStatus.ERROR : phase == Phase.STOPPED ? ReadStatus.STOPPED : ReadStatus.NEED_MORE;
    }

    /** Stops reading for good, e.g. from a listener call that found a connection error. */
    public void stop() {
        setPhase(Phase.STOPPED);
    }

    /** The connection error reported, or null. */
    public FrameError error() {
        return error;
    }

    public Role role() {
        return role;
    }

    public int maxFrameSize() {
        return maxFrameSize;
    }

    public int maxFieldBlockBytes() {
        return maxFieldBlockBytes;
    }

    /** Whether a HEADERS frame without END_HEADERS awaits its CONTINUATION frames (§6.10). */
    public boolean isFieldBlockOpen() {
        return block.isOpen();
    }

    /**
     * CONTINUATION frames with an empty payload so far. They grow no block, so the block bound
     * does not stop them; the connection cuts a flood of them past its own threshold, as HAProxy
     * counts glitches.
     */
    public long emptyContinuationFrames() {
        return emptyContinuationFrames;
    }

    /** DATA frames with no payload and no END_STREAM so far: the empty-frames flood, CVE-2019-9518. */
    public long emptyDataFrames() {
        return emptyDataFrames;
    }

    private boolean step(ByteBuffer in, FrameListener listener) {
        switch (phase) {
            case PREFACE:
                return readPreface(in, listener);
            case FRAME_HEADER:
                return readFrameHeader(in, listener);
            case FIXED_FIELDS:
                return readFixedFields(in, listener);
            case DATA:
                return readData(in, listener);
            case FRAGMENT:
                return readFragment(in, listener);
            case SETTINGS:
                return readSettings(in, listener);
            case SKIP:
                return skip(in);
            case ERROR:
            case STOPPED:
                return false;
            default:
                throw new IllegalStateException("frame reader in phase " + phase);
        }
    }

    private boolean readPreface(ByteBuffer in, FrameListener listener) {
        // Compared as bytes arrive, so an HTTP/1.1 request fails at its first octet.
        while (prefaceMatched < PREFACE_BYTES && in.hasRemaining()) {
            if (in.get(in.position()) != PREFACE_OCTETS[prefaceMatched]) {
                return fail(FrameError.BAD_PREFACE, listener);
            }
            in.position(in.position() + 1);
            prefaceMatched++;
        }
        if (prefaceMatched < PREFACE_BYTES) {
            return false;
        }
        setPhase(Phase.FRAME_HEADER);
        return true;
    }

    private boolean readFrameHeader(ByteBuffer in, FrameListener listener) {
        if (in.remaining() < FrameWriter.FRAME_HEADER_BYTES) {
            return false;
        }
        int at = in.position();
        length = (in.get(at) & 0xFF) << 16 | (in.get(at + 1) & 0xFF) << 8 | (in.get(at + 2) & 0xFF);
        type = in.get(at + 3) & 0xFF;
        flags = in.get(at + 4) & 0xFF;
        streamId = int32(in, at + 5) & STREAM_ID_MASK;
        in.position(at + FrameWriter.FRAME_HEADER_BYTES);
        return startFrame(listener);
    }

    /** Judges a frame by its header alone, before any payload is buffered. */
    private boolean startFrame(FrameListener listener) {
        if (!settingsSeen) {
            // §3.4: the preface is completed by SETTINGS, from the server as from the client.
            if (type != FrameType.SETTINGS || has(FrameFlags.ACK)) {
                return fail(FrameError.FIRST_FRAME_NOT_SETTINGS, listener);
            }
            settingsSeen = true;
        }
        if (length > maxFrameSize) {
            return fail(FrameError.FRAME_TOO_LARGE, listener);
        }
        if (block.isOpen() && (type != FrameType.CONTINUATION || streamId != block.streamId())) {
            // §6.10, and §5.5: extension frames may not appear inside a field block either.
            return fail(FrameError.FIELD_BLOCK_INTERRUPTED, listener);
        }
        switch (type) {
            case FrameType.DATA:
                return startData(listener);
            case FrameType.HEADERS:
                return startHeaders(listener);
            case FrameType.PRIORITY:
                return startPriority(listener);
            case FrameType.RST_STREAM:
                if (streamId == 0) {
                    return fail(FrameError.STREAM_ID_ZERO, listener);
                }
                return length == RST_STREAM_BYTES ? awaitFixed(RST_STREAM_BYTES)
                        : fail(FrameError.BAD_RST_STREAM_LENGTH, listener);
            case FrameType.SETTINGS:
                return startSettings(listener);
            case FrameType.PUSH_PROMISE:
                return fail(FrameError.PUSH_PROMISE_RECEIVED, listener);
            case FrameType.PING:
                if (streamId != 0) {
                    return fail(FrameError.STREAM_ID_NOT_ZERO, listener);
                }
                return length == PING_BYTES ? awaitFixed(PING_BYTES) : fail(FrameError.BAD_PING_LENGTH, listener);
            case FrameType.GOAWAY:
                if (streamId != 0) {
                    return fail(FrameError.STREAM_ID_NOT_ZERO, listener);
                }
                return length >= GOAWAY_FIXED_BYTES ? awaitFixed(GOAWAY_FIXED_BYTES)
                        : fail(FrameError.BAD_GOAWAY_LENGTH, listener);
            case FrameType.WINDOW_UPDATE:
                return length == WINDOW_UPDATE_BYTES ? awaitFixed(WINDOW_UPDATE_BYTES)
                        : fail(FrameError.BAD_WINDOW_UPDATE_LENGTH, listener);
            case FrameType.CONTINUATION:
                return startContinuation(listener);
            default:
                // §4.1, §5.5: "Implementations MUST ignore and discard frames of unknown types."
                skipPayload(length);
                listener.unknownFrame(type, streamId, length);
                return true;
        }
    }

    private boolean startData(FrameListener listener) {
        if (streamId == 0) {
            return fail(FrameError.STREAM_ID_ZERO, listener);
        }
        if (length == 0 && !has(FrameFlags.END_STREAM)) {
            emptyDataFrames++;
        }
        int fixed = has(FrameFlags.PADDED) ? 1 : 0;
        return length < fixed ? fail(FrameError.FRAME_TOO_SHORT, listener) : awaitFixed(fixed);
    }

    private boolean startHeaders(FrameListener listener) {
        if (streamId == 0) {
            return fail(FrameError.STREAM_ID_ZERO, listener);
        }
        if ((streamId & 1) == 0) {
            return fail(FrameError.EVEN_STREAM_ID, listener);
        }
        int fixed = (has(FrameFlags.PADDED) ? 1 : 0) + (has(FrameFlags.PRIORITY) ? PRIORITY_FIELDS_BYTES : 0);
        return length < fixed ? fail(FrameError.FRAME_TOO_SHORT, listener) : awaitFixed(fixed);
    }

    private boolean startPriority(FrameListener listener) {
        if (streamId == 0) {
            return fail(FrameError.STREAM_ID_ZERO, listener);
        }
        if (length != PRIORITY_FIELDS_BYTES) {
            // §6.3: a stream error; the frame is at most maxFrameSize, so skipping is bounded.
            skipPayload(length);
            listener.streamError(streamId, FrameError.BAD_PRIORITY_LENGTH);
            return true;
        }
        return awaitFixed(PRIORITY_FIELDS_BYTES);
    }

    private boolean startSettings(FrameListener listener) {
        if (streamId != 0) {
            return fail(FrameError.STREAM_ID_NOT_ZERO, listener);
        }
        if (has(FrameFlags.ACK)) {
            if (length != 0) {
                return fail(FrameError.SETTINGS_ACK_WITH_PAYLOAD, listener);
            }
            setPhase(Phase.FRAME_HEADER);
            listener.settingsAck();
            return true;
        }
        if (length % SETTING_ENTRY_BYTES != 0) {
            return fail(FrameError.BAD_SETTINGS_LENGTH, listener);
        }
        receivedSettings.clear();
        remaining = length;
        setPhase(Phase.SETTINGS);
        return true;
    }

    private boolean startContinuation(FrameListener listener) {
        if (!block.isOpen()) {
            return fail(FrameError.CONTINUATION_WITHOUT_BLOCK, listener);
        }
        if (length == 0) {
            emptyContinuationFrames++;
        }
        // The bound is on the whole block, so many small CONTINUATION frames cannot exceed it.
        if (!block.fits(length)) {
            return fail(FrameError.FIELD_BLOCK_TOO_LARGE, listener);
        }
        block.reserve(length);
        padding = 0;
        remaining = length;
        setPhase(Phase.FRAGMENT);
        return true;
    }

    private boolean awaitFixed(int bytes) {
        fixedBytes = bytes;
        setPhase(Phase.FIXED_FIELDS);
        return true;
    }

    /** Waits until a frame's fixed leading fields are all in {@code in}, then acts on them. */
    private boolean readFixedFields(ByteBuffer in, FrameListener listener) {
        if (in.remaining() < fixedBytes) {
            return false;
        }
        int at = in.position();
        in.position(at + fixedBytes);
        switch (type) {
            case FrameType.DATA:
                return dataFields(in, at, listener);
            case FrameType.HEADERS:
                return headersFields(in, at, listener);
            case FrameType.PRIORITY: {
                int dependency = int32(in, at);
                setPhase(Phase.FRAME_HEADER);
                if ((dependency & STREAM_ID_MASK) == streamId) {
                    listener.streamError(streamId, FrameError.SELF_DEPENDENCY);
                } else {
                    listener.priority(streamId, dependency & STREAM_ID_MASK, dependency < 0, (in.get(at + 4) & 0xFF) + 1);
                }
                return true;
            }
            case FrameType.RST_STREAM:
                setPhase(Phase.FRAME_HEADER);
                listener.rstStream(streamId, ErrorCode.fromCode(int32(in, at)));
                return true;
            case FrameType.PING:
                setPhase(Phase.FRAME_HEADER);
                listener.ping((long) int32(in, at) << 32 | (int32(in, at + 4) & 0xFFFF_FFFFL), has(FrameFlags.ACK));
                return true;
            case FrameType.GOAWAY:
                skipPayload(length - GOAWAY_FIXED_BYTES);
                listener.goAway(int32(in, at) & STREAM_ID_MASK, ErrorCode.fromCode(int32(in, at + 4)));
                return true;
            case FrameType.WINDOW_UPDATE: {
                // §6.9: the reserved bit is ignored, as for stream ids.
                int increment = int32(in, at) & STREAM_ID_MASK;
                setPhase(Phase.FRAME_HEADER);
                if (increment != 0) {
                    listener.windowUpdate(streamId, increment);
                } else if (streamId == 0) {
                    return fail(FrameError.ZERO_WINDOW_INCREMENT, listener);
                } else {
                    listener.streamError(streamId, FrameError.ZERO_WINDOW_INCREMENT);
                }
                return true;
            }
            default:
                throw new IllegalStateException("no fixed fields for frame type " + type);
        }
    }

    private boolean dataFields(ByteBuffer in, int at, FrameListener listener) {
        int padLength = has(FrameFlags.PADDED) ? in.get(at) & 0xFF : 0;
        // §6.1: padding "the length of the frame payload or greater" (Pad Length octet included).
        if (has(FrameFlags.PADDED) && padLength >= length) {
            return fail(FrameError.BAD_PADDING, listener);
        }
        padding = padLength;
        remaining = length - fixedBytes - padLength;
        setPhase(Phase.DATA);
        listener.dataFrameStart(streamId, length);
        return true;
    }

    private boolean headersFields(ByteBuffer in, int at, FrameListener listener) {
        int padLength = has(FrameFlags.PADDED) ? in.get(at) & 0xFF : 0;
        int fragment = length - fixedBytes - padLength;
        if (fragment < 0) {
            // §6.2: "Padding that exceeds the size remaining for the field block fragment".
            return fail(FrameError.BAD_PADDING, listener);
        }
        if (!block.fits(fragment)) {
            return fail(FrameError.FIELD_BLOCK_TOO_LARGE, listener);
        }
        block.open(streamId, has(FrameFlags.END_STREAM), fragment);
        padding = padLength;
        remaining = fragment;
        setPhase(Phase.FRAGMENT);
        if (has(FrameFlags.PRIORITY)) {
            // §5.3.2: priority signals are ignored, but §5.3.1 still makes self-dependency a
            // stream error. The block is still collected and delivered to keep HPACK in sync.
            int dependency = int32(in, at + fixedBytes - PRIORITY_FIELDS_BYTES) & STREAM_ID_MASK;
            if (dependency == streamId) {
                listener.streamError(streamId, FrameError.SELF_DEPENDENCY);
            }
        }
        return true;
    }

    private boolean readData(ByteBuffer in, FrameListener listener) {
        boolean endStream = has(FrameFlags.END_STREAM);
        if (remaining == 0) {
            // Nothing but padding: only END_STREAM is worth a call.
            endPayload();
            if (endStream) {
                listener.data(streamId, in, in.position(), 0, true);
            }
            return true;
        }
        if (!in.hasRemaining()) {
            return false;
        }
        int offset = in.position();
        int piece = Math.min(remaining, in.remaining());
        remaining -= piece;
        boolean last = remaining == 0;
        if (last) {
            endPayload();
        }
        listener.data(streamId, in, offset, piece, last && endStream);
        in.position(offset + piece);
        return last;
    }

    private boolean readFragment(ByteBuffer in, FrameListener listener) {
        if (remaining > 0) {
            int piece = Math.min(remaining, in.remaining());
            block.append(in, piece);
            remaining -= piece;
            if (remaining > 0) {
                return false;
            }
        }
        endPayload();
        if (has(FrameFlags.END_HEADERS)) {
            block.deliver(listener);
        }
        return true;
    }

    private boolean readSettings(ByteBuffer in, FrameListener listener) {
        while (remaining > 0) {
            if (in.remaining() < SETTING_ENTRY_BYTES) {
                return false;
            }
            int at = in.position();
            int id = (in.get(at) & 0xFF) << 8 | (in.get(at + 1) & 0xFF);
            long value = int32(in, at + 2) & 0xFFFF_FFFFL;
            in.position(at + SETTING_ENTRY_BYTES);
            remaining -= SETTING_ENTRY_BYTES;
            if (!Http2Settings.isKnown(id)) {
                continue; // §6.5.2: unknown identifiers MUST be ignored.
            }
            if (Http2Settings.validate(id, value) != ErrorCode.NO_ERROR) {
                return fail(FrameError.forSetting(id), listener);
            }
            if (role == Role.CLIENT && id == Http2Settings.ENABLE_PUSH && value == 1) {
                return fail(FrameError.SERVER_ENABLED_PUSH, listener);
            }
            receivedSettings.set(id, value);
        }
        setPhase(Phase.FRAME_HEADER);
        listener.settings(receivedSettings);
        return true;
    }

    private boolean skip(ByteBuffer in) {
        int piece = Math.min(remaining, in.remaining());
        in.position(in.position() + piece);
        remaining -= piece;
        if (remaining > 0) {
            return false;
        }
        setPhase(Phase.FRAME_HEADER);
        return true;
    }

    private void skipPayload(int bytes) {
        remaining = bytes;
        setPhase(bytes > 0 ? Phase.SKIP : Phase.FRAME_HEADER);
    }

    /** After data or a fragment: skip the frame's padding, if any. */
    private void endPayload() {
        int pad = padding;
        padding = 0;
        skipPayload(pad);
    }

    private boolean fail(FrameError newError, FrameListener listener) {
        error = newError;
        setPhase(Phase.ERROR);
        listener.connectionError(newError);
        return false;
    }

    private boolean has(int flag) {
        return (flags & flag) != 0;
    }

    /** Big-endian whatever the buffer's byte order (§2: all numbers are in network order). */
    private static int int32(ByteBuffer in, int at) {
        return (in.get(at) & 0xFF) << 24 | (in.get(at + 1) & 0xFF) << 16 | (in.get(at + 2) & 0xFF) << 8 | (in.get(at + 3) & 0xFF);
    }

    /** ERROR and STOPPED are terminal: a listener's {@link #stop()} survives the reader's own moves. */
    private void setPhase(Phase next) {
        if (phase == Phase.ERROR || phase == Phase.STOPPED) {
            return;
        }
        phase = next;
    }
}
