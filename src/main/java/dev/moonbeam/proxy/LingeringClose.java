package dev.moonbeam.proxy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * The last step of closing a client connection (nginx's lingering close): after our final bytes
 * and FIN, read and discard what the client still sends until it closes too. Closing with unread
 * input makes the kernel send RST, which can destroy the response before the client reads it. The
 * socket is read directly, not through the transport: once close_notify is out, a TLS engine reads
 * nothing more. Stateless; the caller bounds the whole wait with its closing timer.
 */
final class LingeringClose {
    /** Reads per call, so one chatty client cannot hold the loop. */
    private static final int MAX_READS = 64;

    private LingeringClose() {
    }

    /**
     * @param scratch any loop-owned buffer; its contents are thrown away
     * @return true once the client closed its side (or the socket failed), false to wait for more
     */
    static boolean discardUntilEof(SocketChannel channel, ByteBuffer scratch) {
        try {
            for (int reads = 0; reads < MAX_READS; reads++) {
                scratch.clear();
                int n = channel.read(scratch);
                if (n < 0) {
                    return true;
                }
                if (n == 0) {
                    return false;
                }
            }
            return false;
        } catch (IOException e) {
            return true; // a reset: nothing more will come
        } finally {
            scratch.clear();
        }
    }
}
