package dev.moonbeam.h2;

import java.nio.ByteBuffer;

/**
 * The field block being reassembled from a HEADERS frame and its CONTINUATION frames (RFC 9113
 * §4.3), with a bound on its total size: the CONTINUATION flood (CVE-2024-27316) is many frames
 * each under SETTINGS_MAX_FRAME_SIZE, so only a bound across them all stops it.
 *
 * <p>One buffer per connection, allocated on the first block and grown geometrically up to the
 * bound (a few copies in a connection's life, then none); it is not shrunk, so a connection
 * that once sent a large block keeps up to the bound.
 *
 * <p>Owned by the {@link FrameReader} and its connection's event-loop thread; no locks.
 */
final class FieldBlock {
    private static final int INITIAL_CAPACITY = 4096;

    private final int maxBytes;
    private ByteBuffer buffer;
    /** Stream of the open block; 0 when none is open (stream 0 never carries one). */
    private int streamId;
    private boolean endStream;

    FieldBlock(int maxBytes) {
        this.maxBytes = maxBytes;
    }

    boolean isOpen() {
        return streamId != 0;
    }

    int streamId() {
        return streamId;
    }

    /** Whether {@code more} fragment octets still fit under the bound (checked before buffering). */
    boolean fits(int more) {
        int size = isOpen() ? buffer.position() : 0;
        return more <= maxBytes - size;
    }

    /** Opens a block for a HEADERS frame whose fragment is {@code firstFragment} octets. */
    void open(int newStreamId, boolean newEndStream, int firstFragment) {
        streamId = newStreamId;
        endStream = newEndStream;
        if (buffer != null) {
            buffer.clear();
        }
        reserve(firstFragment);
    }

    /** Makes room for {@code more} octets; callers checked {@link #fits} first. */
    void reserve(int more) {
        if (buffer == null) {
            buffer = ByteBuffer.allocate(Math.min(maxBytes, Math.max(INITIAL_CAPACITY, more)));
        }
        int needed = buffer.position() + more;
        if (buffer.capacity() >= needed) {
            return;
        }
        int capacity = buffer.capacity();
        while (capacity < needed) {
            capacity = (int) Math.min(maxBytes, capacity * 2L);
        }
        ByteBuffer larger = ByteBuffer.allocate(capacity);
        buffer.flip();
        larger.put(buffer);
        buffer = larger;
    }

    /** Copies {@code count} octets from {@code in}'s position (reserved beforehand). */
    void append(ByteBuffer in, int count) {
        int limit = in.limit();
        in.limit(in.position() + count);
        buffer.put(in);
        in.limit(limit);
    }

    /** Closes the block and hands it to the listener in read mode; the buffer is reused after. */
    void deliver(FrameListener listener) {
        int blockStream = streamId;
        streamId = 0;
        buffer.flip();
        listener.headers(blockStream, buffer, endStream);
        buffer.clear();
    }
}
