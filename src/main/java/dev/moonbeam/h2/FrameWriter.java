package dev.moonbeam.h2;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;

/**
 * Writes HTTP/2 frames (RFC 9113 §4.1, §6) into a caller's buffer in fill mode. Each method needs
 * a known number of bytes, given by the {@code *_BYTES} constants, and returns how many it wrote;
 * the caller checks {@code remaining()} first (a buffer too small is a programming error and
 * throws {@link BufferOverflowException} before anything is written). DATA, HEADERS and
 * CONTINUATION get only their header here: the caller writes the payload straight after it,
 * with no copy through us. Numbers are written big-endian whatever the buffer's byte order (§2).
 *
 * <p>Stateless; any thread, though the buffer belongs to the connection's event-loop thread.
 */
public final class FrameWriter {
    /** Length (24 bits), type, flags, reserved bit and stream id (§4.1). */
    public static final int FRAME_HEADER_BYTES = 9;
    /** Largest length the 24-bit field can carry; frames are further bounded by the peer's MAX_FRAME_SIZE. */
    public static final int MAX_LENGTH_FIELD = Http2Settings.MAX_MAX_FRAME_SIZE;
    /** The six settings we always send, 6 octets each (§6.5.1). */
    public static final int SETTINGS_ENTRY_COUNT = 6;
    public static final int SETTINGS_BYTES = FRAME_HEADER_BYTES + 6 * SETTINGS_ENTRY_COUNT;
    public static final int SETTINGS_ACK_BYTES = FRAME_HEADER_BYTES;
    public static final int PING_BYTES = FRAME_HEADER_BYTES + 8;
    /** GOAWAY without debug data (§6.8). */
    public static final int GOAWAY_BYTES = FRAME_HEADER_BYTES + 8;
    public static final int RST_STREAM_BYTES = FRAME_HEADER_BYTES + 4;
    public static final int WINDOW_UPDATE_BYTES = FRAME_HEADER_BYTES + 4;

    private static final int STREAM_ID_MASK = 0x7FFF_FFFF;

    private FrameWriter() {}

    /**
     * The 9-octet frame header. {@code length} is the payload length that will follow; the
     * reserved bit is left unset (§4.1).
     */
    public static int frameHeader(ByteBuffer out, int length, int type, int flags, int streamId) {
        if (length < 0 || length > MAX_LENGTH_FIELD) {
            throw new IllegalArgumentException("frame length out of range: " + length);
        }
        if (streamId < 0) {
            throw new IllegalArgumentException("negative stream id: " + streamId);
        }
        require(out, FRAME_HEADER_BYTES);
        out.put((byte) (length >>> 16)).put((byte) (length >>> 8)).put((byte) length);
        out.put((byte) type).put((byte) flags);
        putInt(out, streamId & STREAM_ID_MASK);
        return FRAME_HEADER_BYTES;
    }

    /**
     * Our SETTINGS (§6.5): always the same six entries so its size is fixed at
     * {@link #SETTINGS_BYTES}. ENABLE_PUSH is always 0: MoonBeam never pushes or accepts pushes,
     * and a server "MUST NOT" send 1 (§6.5.2). Unlimited values go out as 2^32-1.
     */
    public static int settings(ByteBuffer out, Http2Settings ours) {
        require(out, SETTINGS_BYTES);
        frameHeader(out, SETTINGS_BYTES - FRAME_HEADER_BYTES, FrameType.SETTINGS, 0, 0);
        entry(out, Http2Settings.MAX_CONCURRENT_STREAMS, ours.maxConcurrentStreams());
        entry(out, Http2Settings.INITIAL_WINDOW_SIZE, ours.initialWindowSize());
        entry(out, Http2Settings.MAX_FRAME_SIZE, ours.maxFrameSize());
        entry(out, Http2Settings.MAX_HEADER_LIST_SIZE, ours.maxHeaderListSize());
        entry(out, Http2Settings.HEADER_TABLE_SIZE, ours.headerTableSize());
        entry(out, Http2Settings.ENABLE_PUSH, 0);
        return SETTINGS_BYTES;
    }

    /** Acknowledges the peer's SETTINGS once applied (§6.5.3). */
    public static int settingsAck(ByteBuffer out) {
        return frameHeader(out, 0, FrameType.SETTINGS, FrameFlags.ACK, 0);
    }

    /** A PING of our own, e.g. to measure round trips or probe an idle peer (§6.7). */
    public static int ping(ByteBuffer out, long payload) {
        return pingFrame(out, payload, 0);
    }

    /** The answer to a peer's PING, echoing its payload (§6.7: "MUST send a PING frame with the ACK flag set"). */
    public static int pingAck(ByteBuffer out, long payload) {
        return pingFrame(out, payload, FrameFlags.ACK);
    }

    /** GOAWAY without debug data (§6.8): the highest stream id we processed or may still process. */
    public static int goAway(ByteBuffer out, int lastStreamId, ErrorCode code) {
        require(out, GOAWAY_BYTES);
        frameHeader(out, GOAWAY_BYTES - FRAME_HEADER_BYTES, FrameType.GOAWAY, 0, 0);
        putInt(out, lastStreamId & STREAM_ID_MASK);
        putInt(out, code.code());
        return GOAWAY_BYTES;
    }

    /** RST_STREAM (§6.4); {@code streamId} must not be 0. */
    public static int rstStream(ByteBuffer out, int streamId, ErrorCode code) {
        requireStream(streamId);
        require(out, RST_STREAM_BYTES);
        frameHeader(out, RST_STREAM_BYTES - FRAME_HEADER_BYTES, FrameType.RST_STREAM, 0, streamId);
        putInt(out, code.code());
        return RST_STREAM_BYTES;
    }

    /** WINDOW_UPDATE (§6.9); stream 0 for the connection window, increment 1..2^31-1. */
    public static int windowUpdate(ByteBuffer out, int streamId, int increment) {
        if (increment <= 0) {
            throw new IllegalArgumentException("window increment out of range: " + increment);
        }
        require(out, WINDOW_UPDATE_BYTES);
        frameHeader(out, WINDOW_UPDATE_BYTES - FRAME_HEADER_BYTES, FrameType.WINDOW_UPDATE, 0, streamId);
        putInt(out, increment);
        return WINDOW_UPDATE_BYTES;
    }

    /**
     * Header of a DATA frame of {@code length} octets (no padding; we never pad). {@code flags} is
     * 0 or {@link FrameFlags#END_STREAM}.
     */
    public static int dataHeader(ByteBuffer out, int streamId, int length, int flags) {
        requireStream(streamId);
        return frameHeader(out, length, FrameType.DATA, flags & FrameFlags.END_STREAM, streamId);
    }

    /**
     * Header of a HEADERS frame carrying {@code length} octets of field block fragment, without
     * padding or priority. {@code flags}: {@link FrameFlags#END_STREAM} and/or
     * {@link FrameFlags#END_HEADERS}; without END_HEADERS, CONTINUATION frames must follow at once.
     */
    public static int headersHeader(ByteBuffer out, int streamId, int length, int flags) {
        requireStream(streamId);
        return frameHeader(out, length, FrameType.HEADERS,
                flags & (FrameFlags.END_STREAM | FrameFlags.END_HEADERS), streamId);
    }

    /** Header of a CONTINUATION frame (§6.10); {@code flags} is 0 or {@link FrameFlags#END_HEADERS}. */
    public static int continuationHeader(ByteBuffer out, int streamId, int length, int flags) {
        requireStream(streamId);
        return frameHeader(out, length, FrameType.CONTINUATION, flags & FrameFlags.END_HEADERS, streamId);
    }

    private static int pingFrame(ByteBuffer out, long payload, int flags) {
        require(out, PING_BYTES);
        frameHeader(out, PING_BYTES - FRAME_HEADER_BYTES, FrameType.PING, flags, 0);
        putInt(out, (int) (payload >>> 32));
        putInt(out, (int) payload);
        return PING_BYTES;
    }

    private static void entry(ByteBuffer out, int id, long value) {
        out.put((byte) (id >>> 8)).put((byte) id);
        putInt(out, (int) value);
    }

    private static void putInt(ByteBuffer out, int value) {
        out.put((byte) (value >>> 24)).put((byte) (value >>> 16)).put((byte) (value >>> 8)).put((byte) value);
    }

    /** Checks up front so a frame is written whole or not at all. */
    private static void require(ByteBuffer out, int bytes) {
        if (out.remaining() < bytes) {
            throw new BufferOverflowException();
        }
    }

    private static void requireStream(int streamId) {
        if (streamId <= 0) {
            throw new IllegalArgumentException("stream frame needs a stream id > 0: " + streamId);
        }
    }
}
