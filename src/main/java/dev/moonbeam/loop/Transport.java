package dev.moonbeam.loop;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Byte stream of one client connection as the HTTP code sees it: plaintext in, plaintext out.
 * Whether the bytes cross the wire as TLS records or as they are is the implementation's business,
 * so the connection code above has one path for both.
 *
 * <p>Implementations are owned by the event loop that owns the connection.
 */
public interface Transport {
    /** Reads plaintext into dst (fill mode): bytes read, 0 if none now, -1 at a clean end of stream (FIN / close_notify). */
    int read(ByteBuffer dst) throws IOException;

    /** Writes plaintext from src (read mode); returns bytes taken (may be 0 when the socket is full). */
    int write(ByteBuffer src) throws IOException;

    /** Writes out bytes the transport holds itself (handshake flights, encrypted records); true when none remain. */
    boolean flush() throws IOException;

    /**
     * True when plaintext (or whole records) is already held in memory, so the next {@link #read}
     * returns bytes without the socket becoming readable again. A loop must not wait for OP_READ
     * while this is true: the kernel will not signal bytes that already left the socket.
     */
    boolean hasBufferedInput();

    /**
     * True while the transport cannot take input at all (TLS handshake tasks running elsewhere):
     * the owner must not ask for OP_READ, or a readable socket would spin the loop.
     */
    default boolean readPaused() {
        return false;
    }

    /** True while the transport needs OP_READ for its own sake (e.g. handshake). */
    boolean wantsRead();

    /** True while the transport needs OP_WRITE for its own sake (bytes of its own still to send). */
    boolean wantsWrite();

    /** Graceful end of our output (close_notify then FIN for TLS; FIN for plain). */
    void shutdownOutput() throws IOException;

    /** Releases buffers; does not close the channel. Idempotent. */
    void release();
}
