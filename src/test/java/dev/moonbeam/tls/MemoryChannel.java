package dev.moonbeam.tls;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;

/**
 * The server's end of an in-memory connection that passes at most {@code maxChunk} bytes per call,
 * like a socket under load. Returns 0 when nothing is there, -1 after {@link #endOfInput}.
 */
final class MemoryChannel implements ByteChannel {
    private final int maxChunk;
    private final ByteBuffer inbound = ByteBuffer.allocate(16 << 20); // fill mode
    final ByteArrayOutputStream written = new ByteArrayOutputStream();
    private boolean endOfInput;
    private boolean open = true;
    /** When set, write() takes nothing, like a full socket send buffer. */
    boolean full;

    MemoryChannel(int maxChunk) {
        this.maxChunk = maxChunk;
    }

    void offer(byte[] bytes) {
        inbound.put(bytes);
    }

    int pending() {
        return inbound.position();
    }

    void endOfInput() {
        endOfInput = true;
    }

    byte[] takeWritten() {
        byte[] bytes = written.toByteArray();
        written.reset();
        return bytes;
    }

    @Override
    public int read(ByteBuffer dst) {
        inbound.flip();
        try {
            if (!inbound.hasRemaining()) {
                return endOfInput ? -1 : 0;
            }
            int count = Math.min(maxChunk, Math.min(dst.remaining(), inbound.remaining()));
            for (int i = 0; i < count; i++) {
                dst.put(inbound.get());
            }
            return count;
        } finally {
            inbound.compact();
        }
    }

    @Override
    public int write(ByteBuffer src) {
        if (full) {
            return 0;
        }
        int count = Math.min(maxChunk, src.remaining());
        for (int i = 0; i < count; i++) {
            written.write(src.get());
        }
        return count;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public void close() {
        open = false;
    }
}
