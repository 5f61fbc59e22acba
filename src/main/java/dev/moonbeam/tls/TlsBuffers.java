package dev.moonbeam.tls;

import dev.moonbeam.loop.BufferPool;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;

/**
 * The three buffers of one TLS connection, each taken from the loop's pool only while it holds
 * bytes: {@code netIn} for ciphertext not yet unwrapped (a partial record, or records waiting for
 * plaintext to be read), {@code appIn} for plaintext not yet read (zeroed on release), and
 * {@code netOut} for ciphertext not yet written. An idle connection holds none. All three stay in
 * fill mode between calls.
 *
 * <p>Owned by the connection's loop thread.
 */
final class TlsBuffers {
    private final BufferPool pool;
    /** Outbound ciphertext may hold several records so they leave in one write. */
    private final BufferPool outPool;
    private ByteBuffer netIn;
    private ByteBuffer appIn;
    /** How far into {@code appIn} plaintext was ever written, so release zeroes only that much. */
    private int appInDirty;
    private ByteBuffer netOut;

    TlsBuffers(BufferPool pool, BufferPool outPool) {
        this.pool = pool;
        this.outPool = outPool;
    }

    int inBufferSize() {
        return pool.bufferSize();
    }

    int smallestBufferSize() {
        return Math.min(pool.bufferSize(), outPool.bufferSize());
    }

    // ---- ciphertext in -------------------------------------------------------------------------

    boolean hasHeldInput() {
        return netIn != null;
    }

    /** Room for more ciphertext: a whole buffer when none is held, else what the held one has left. */
    int inputRoom() {
        return netIn == null ? pool.bufferSize() : netIn.remaining();
    }

    /** Copies all of src into the held-input buffer, taking one from the pool if needed. */
    void holdInput(ByteBuffer src) {
        if (netIn == null) {
            netIn = pool.acquire();
        }
        netIn.put(src);
    }

    /** The held input in read mode; pair with {@link #afterHeldInput}. */
    ByteBuffer flipHeldInput() {
        return netIn.flip();
    }

    /** Back to fill mode; the buffer goes back to the pool when empty or when nobody will read the rest. */
    void afterHeldInput(boolean discardRest) {
        netIn.compact();
        if (netIn.position() == 0 || discardRest) {
            pool.release(netIn);
            netIn = null;
        }
    }

    // ---- plaintext in --------------------------------------------------------------------------

    boolean hasPlaintext() {
        return appIn != null;
    }

    /** The plaintext buffer in fill mode, taken from the pool if none is held. */
    ByteBuffer plaintextTarget() {
        if (appIn == null) {
            appIn = pool.acquire();
        }
        return appIn;
    }

    /** After an unwrap: a plaintext buffer that received nothing goes straight back (nothing to zero). */
    void releasePlaintextIfUnused() {
        if (appIn != null && appIn.position() == 0) {
            pool.release(appIn);
            appIn = null;
        }
    }

    /** Copies pending plaintext into dst (fill mode); releases (zeroed) the buffer once empty. */
    int readPlaintext(ByteBuffer dst) {
        if (appIn == null) {
            return 0;
        }
        appIn.flip();
        // Compaction only moves bytes down, so the largest limit seen bounds what was ever written.
        appInDirty = Math.max(appInDirty, appIn.limit());
        try {
            return BufferPool.copyWhatFits(appIn, dst);
        } finally {
            appIn.compact();
            if (appIn.position() == 0) {
                pool.releaseZeroed(appIn, appInDirty);
                appIn = null;
                appInDirty = 0;
            }
        }
    }

    // ---- ciphertext out ------------------------------------------------------------------------

    boolean hasOutput() {
        return netOut != null;
    }

    /** The output buffer in fill mode, taken from the pool if none is held. */
    ByteBuffer outputTarget() {
        if (netOut == null) {
            netOut = outPool.acquire();
        }
        return netOut;
    }

    /** Bytes of ciphertext waiting (0 when no buffer is held). */
    int outputBytes() {
        return netOut == null ? 0 : netOut.position();
    }

    void releaseOutputIfEmpty() {
        if (netOut != null && netOut.position() == 0) {
            outPool.release(netOut);
            netOut = null;
        }
    }

    /** Copies pending ciphertext into dst (fill mode); returns bytes copied. */
    int drainTo(ByteBuffer dst) {
        netOut.flip();
        try {
            return BufferPool.copyWhatFits(netOut, dst);
        } finally {
            netOut.compact();
            releaseOutputIfEmpty();
        }
    }

    /** Writes pending ciphertext to a non-blocking channel; returns bytes written. */
    int writeTo(WritableByteChannel channel) throws IOException {
        netOut.flip();
        try {
            return channel.write(netOut); // socket write
        } finally {
            netOut.compact();
            releaseOutputIfEmpty();
        }
    }

    /** Returns every buffer to the pool, plaintext zeroed. Idempotent. */
    void releaseAll() {
        if (netIn != null) {
            pool.release(netIn);
            netIn = null;
        }
        if (appIn != null) {
            pool.releaseZeroed(appIn);
            appIn = null;
            appInDirty = 0;
        }
        if (netOut != null) {
            outPool.release(netOut);
            netOut = null;
        }
    }
}
