package dev.moonbeam.loop;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;

/**
 * {@link Transport} that passes bytes straight to a non-blocking channel. Holds no buffers of its
 * own, so flush has nothing to do and release is a no-op.
 *
 * <p>Owned by the event loop that owns the connection.
 */
public final class PlainTransport implements Transport {
    private final ByteChannel channel;

    public PlainTransport(ByteChannel channel) {
        this.channel = channel;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return channel.read(dst); // socket read
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        return channel.write(src); // socket write
    }

    @Override
    public boolean flush() {
        return true;
    }

    @Override
    public boolean hasBufferedInput() {
        return false;
    }

    @Override
    public boolean wantsRead() {
        return false;
    }

    @Override
    public boolean wantsWrite() {
        return false;
    }

    @Override
    public void shutdownOutput() throws IOException {
        PrereadChannel.shutdownOutput(channel); // FIN
    }

    @Override
    public void release() {
        // nothing held
    }
}
