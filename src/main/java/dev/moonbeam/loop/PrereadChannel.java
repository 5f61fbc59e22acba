package dev.moonbeam.loop;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.SocketChannel;

/**
 * A socket channel with bytes already read from it put back in front: what a PROXY protocol
 * header reader took past the header belongs to the TLS or HTTP code that comes next. Reads serve
 * those bytes first, then the socket's. Loop-owned like the channel.
 */
public final class PrereadChannel implements ByteChannel {
    private final SocketChannel socket;
    private ByteBuffer preread;

    /** @param preread bytes in read mode; taken over, not copied */
    public PrereadChannel(ByteBuffer preread, SocketChannel socket) {
        this.preread = preread.hasRemaining() ? preread : null;
        this.socket = socket;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (preread == null) {
            return socket.read(dst);
        }
        int count = BufferPool.copyWhatFits(preread, dst);
        if (!preread.hasRemaining()) {
            preread = null;
        }
        return count;
    }

    /** True while bytes put back are still unread: no socket event will announce them. */
    public boolean hasPreread() {
        return preread != null;
    }

    /**
     * Sends FIN on the socket under {@code channel} (a socket channel, or one with bytes put back);
     * a transport over anything else has no FIN to send.
     */
    public static void shutdownOutput(ByteChannel channel) throws IOException {
        SocketChannel socket = channel instanceof PrereadChannel preread ? preread.socket
                : channel instanceof SocketChannel plain ? plain : null;
        if (socket != null && socket.isOpen()) {
            socket.shutdownOutput();
        }
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        return socket.write(src);
    }

    @Override
    public boolean isOpen() {
        return socket.isOpen();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
