package dev.moonbeam.loop;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * Fixed-size direct buffers for one event loop.
 *
 * <p>Owned by one loop thread: no locks, no atomics. A connection acquires a buffer only while it
 * has bytes in flight and gives it back as soon as the buffer is empty, so idle keep-alive
 * connections hold none. Released buffers are kept (LIFO, for cache warmth) up to
 * {@code maxRetained}; beyond that they are left to the GC.
 *
 * <p>Counts of buffers currently out and the peak let tests assert that every buffer came back.
 *
 * <p>When the process's direct memory ({@code -XX:MaxDirectMemorySize}) is used up, {@link #acquire}
 * throws {@link Exhausted} instead of an {@code OutOfMemoryError}, quickly (see {@link DirectMemory});
 * the connection that asked is refused, the loop and its other connections go on.
 */
public final class BufferPool {
    /**
     * No direct memory is left for a new buffer. Unchecked, so that the many places that take a
     * buffer need no new signatures; each connection class catches it where its other failures end.
     */
    public static final class Exhausted extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Exhausted(int bytes, Throwable cause) {
            super("no direct buffer memory left for " + bytes + " bytes", cause, false, false);
        }
    }

    /** Large enough for one full TLS record (16 KiB plaintext + header, MAC, padding). */
    public static final int DEFAULT_BUFFER_SIZE = 17 * 1024 + 512;
    public static final int DEFAULT_MAX_RETAINED = 1024;

    /** Source for zeroing; never written, so sharing it between loops is safe. */
    private static final byte[] ZEROS = new byte[4096];

    private final int bufferSize;
    private final boolean direct;
    private final int maxRetained;
    private final ArrayDeque<ByteBuffer> free;
    private int outstanding;
    private int peakOutstanding;
    private long allocated;

    public BufferPool(int bufferSize, int maxRetained) {
        this(bufferSize, maxRetained, true);
    }

    /**
     * A pool of heap buffers, for the TLS engine: the JDK's AES-GCM allocates temporary arrays for
     * every record it reads from or writes to a direct buffer, and not for heap ones (measured:
     * about a third less garbage per TLS request). Socket I/O on heap buffers goes through the
     * JDK's per-thread direct buffer, which allocates nothing once warm.
     */
    public static BufferPool heap(int bufferSize, int maxRetained) {
        return new BufferPool(bufferSize, maxRetained, false);
    }

    private BufferPool(int bufferSize, int maxRetained, boolean direct) {
        this.direct = direct;
        if (bufferSize <= 0 || maxRetained < 0) {
            throw new IllegalArgumentException("bufferSize must be > 0 and maxRetained >= 0");
        }
        this.bufferSize = bufferSize;
        this.maxRetained = maxRetained;
        // Sized for every buffer it may retain (4 KiB by default), so the deque never grows: its
        // growth is a branch the JIT turns into a deoptimising trap when the warm-up never took it.
        this.free = new ArrayDeque<>(Math.min(maxRetained, DEFAULT_MAX_RETAINED));
    }

    public static BufferPool withDefaults() {
        return new BufferPool(DEFAULT_BUFFER_SIZE, DEFAULT_MAX_RETAINED);
    }

    /**
     * A cleared buffer in fill mode (position 0, limit = capacity).
     *
     * @throws Exhausted when a direct buffer is needed and the direct memory budget has no room
     */
    public ByteBuffer acquire() {
        ByteBuffer buffer = free.pollFirst();
        if (buffer == null) {
            buffer = direct ? allocateDirect() : ByteBuffer.allocate(bufferSize);
            allocated++;
        }
        outstanding++;
        if (outstanding > peakOutstanding) {
            peakOutstanding = outstanding;
        }
        return buffer;
    }

    private ByteBuffer allocateDirect() {
        if (!DirectMemory.mayAllocate(bufferSize)) {
            throw new Exhausted(bufferSize, null);
        }
        try {
            return ByteBuffer.allocateDirect(bufferSize);
        } catch (OutOfMemoryError e) {
            DirectMemory.failed(bufferSize, e);
            throw new Exhausted(bufferSize, e);
        }
    }

    /**
     * Direct buffers that could not be had since start, all pools of the process together (each
     * one a connection refused or closed): {@code moonbeam_buffer_allocation_failures_total}.
     */
    public static long directAllocationFailures() {
        return DirectMemory.failures();
    }

    /**
     * Returns a buffer taken from this pool. The contents are zeroed first when the caller says
     * they held plaintext, so decrypted data does not linger in memory another connection reuses.
     */
    public void release(ByteBuffer buffer) {
        if (buffer.capacity() != bufferSize || buffer.isDirect() != direct) {
            throw new IllegalArgumentException("buffer does not belong to this pool");
        }
        outstanding--;
        buffer.clear();
        if (free.size() < maxRetained) {
            free.addFirst(buffer);
        }
    }

    /**
     * Gives {@code buffer} back when it holds nothing (fill mode, position 0) and returns null;
     * otherwise returns it unchanged. For {@code in = pool.releaseIfEmpty(in)}: a connection holds
     * a buffer only while it has bytes in flight.
     */
    public ByteBuffer releaseIfEmpty(ByteBuffer buffer) {
        if (buffer != null && buffer.position() == 0) {
            release(buffer);
            return null;
        }
        return buffer;
    }

    /**
     * Moves as many bytes as fit from {@code src} (read mode) into {@code dst} (fill mode);
     * returns how many. The one copy loop-owned relays and the TLS engine need.
     */
    public static int copyWhatFits(ByteBuffer src, ByteBuffer dst) {
        int count = Math.min(src.remaining(), dst.remaining());
        int limit = src.limit();
        src.limit(src.position() + count);
        dst.put(src);
        src.limit(limit);
        return count;
    }

    /** Like {@link #release} but overwrites the contents first (for buffers that held plaintext). */
    public void releaseZeroed(ByteBuffer buffer) {
        releaseZeroed(buffer, buffer.capacity());
    }

    /**
     * Like {@link #releaseZeroed(ByteBuffer)} for a buffer only whose first {@code dirtyBytes} were
     * ever written: zeroing all 17 KiB for a 100-byte request was the hottest spot of a TLS
     * keep-alive profile.
     */
    public void releaseZeroed(ByteBuffer buffer, int dirtyBytes) {
        buffer.clear();
        int left = Math.min(dirtyBytes, buffer.capacity());
        while (left > 0) {
            int chunk = Math.min(left, ZEROS.length);
            buffer.put(ZEROS, 0, chunk); // a bulk copy, not a byte loop
            left -= chunk;
        }
        release(buffer);
    }

    public int bufferSize() {
        return bufferSize;
    }

    public int outstanding() {
        return outstanding;
    }

    public int peakOutstanding() {
        return peakOutstanding;
    }

    public long allocatedTotal() {
        return allocated;
    }

    public int retained() {
        return free.size();
    }
}
