package dev.moonbeam.tls;

import dev.moonbeam.loop.PrereadChannel;
import dev.moonbeam.loop.Transport;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLException;

/**
 * {@link TlsEngine} bound to a non-blocking channel, so the HTTP code reads and writes plaintext and
 * never learns the connection is TLS. Socket reads go into the loop-wide scratch buffer, which
 * holds nothing between calls; the engine copies out only leftovers.
 *
 * <p>A failed handshake surfaces as an {@link SSLException} from {@link #read} after any alert was
 * flushed (best effort), exactly like a reset socket on a plain connection: the caller closes.
 *
 * <p>Owned by the event loop that owns the connection.
 */
public final class TlsTransport implements Transport {
    /** Answer for a client that spoke plain HTTP to the TLS port; it can read this, not an alert. */
    static final byte[] PLAIN_HTTP_RESPONSE = ("HTTP/1.1 400 Bad Request\r\n"
            + "Content-Type: text/plain\r\nContent-Length: 36\r\nConnection: close\r\n\r\n"
            + "This port speaks HTTPS; use https:\n").getBytes(StandardCharsets.US_ASCII);
    /** Each round moves one buffer's worth of bytes; the bound only guards against a spin. */
    private static final int MAX_ROUNDS = 64;

    private final ByteChannel channel;
    private final TlsEngine engine;
    private final ByteBuffer scratch;
    private boolean outputShutdown;
    private boolean finSent;
    private boolean plainResponseSent;
    private TlsEngine.Result lastResult = TlsEngine.Result.NEED_INPUT;

    /**
     * @param scratch the loop's shared read buffer, at least one pool buffer in size; used only
     *        within a call
     */
    public TlsTransport(ByteChannel channel, TlsEngine engine, ByteBuffer scratch) {
        if (scratch.capacity() < engine.inboundRoom()) {
            throw new IllegalArgumentException("scratch buffer smaller than one pool buffer");
        }
        this.channel = channel;
        this.engine = engine;
        this.scratch = scratch;
    }

    public TlsEngine engine() {
        return engine;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        for (int round = 0; round < MAX_ROUNDS; round++) {
            if (engine.tasksRunning()) {
                return 0; // the engine calls its owner back when the handshake tasks are done
            }
            if (engine.hasPlaintext()) {
                return engine.readPlaintext(dst);
            }
            if (engine.failure() != null) {
                flushQuietly(); // the alert, or the 400 for a plain-HTTP client
                throw new SSLException("TLS " + engine.failure()
                        + (engine.failureCause() == null ? "" : ": " + engine.failureCause().getMessage()));
            }
            if (engine.inboundClosed() || engine.state() == TlsEngine.State.CLOSED) {
                return -1;
            }
            if (lastResult == TlsEngine.Result.NEED_PLAINTEXT_READ && engine.hasHeldInput()) {
                lastResult = engine.resume(); // whole records waited behind the plaintext just read
                flush();
                continue;
            }
            scratch.clear().limit(Math.min(engine.inboundRoom(), scratch.capacity()));
            int count = channel.read(scratch); // socket read
            if (count < 0) {
                scratch.clear();
                lastResult = engine.endOfInput();
                continue; // a handshake cut short becomes a failure above; otherwise end of stream
            }
            if (count == 0) {
                scratch.clear();
                flush();
                return 0;
            }
            scratch.flip();
            lastResult = engine.receive(scratch);
            scratch.clear();
            flush();
        }
        return 0;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        if (engine.hasPendingOutput() && !flush()) {
            return 0;
        }
        int taken = 0;
        for (int round = 0; round < MAX_ROUNDS && src.hasRemaining(); round++) {
            int count = engine.send(src);
            if (count < 0) {
                if (taken > 0) {
                    break;
                }
                throw new SSLException("TLS connection is closed for writing");
            }
            taken += count;
            if (!flush() || count == 0) {
                break;
            }
        }
        return taken;
    }

    @Override
    public boolean flush() throws IOException {
        for (int round = 0; round < MAX_ROUNDS; round++) {
            if (engine.hasPendingOutput()) {
                engine.writeTo(channel);
                if (engine.hasPendingOutput()) {
                    return false; // socket full; wait for OP_WRITE
                }
                continue;
            }
            if (engine.state() == TlsEngine.State.HANDSHAKING || lastResult == TlsEngine.Result.NEED_FLUSH) {
                lastResult = engine.resume(); // a flight may follow the one just written
                if (engine.hasPendingOutput()) {
                    continue;
                }
            }
            break;
        }
        if (engine.hasPendingOutput()) {
            return false;
        }
        sendPlainAnswerIfHttp();
        if (outputShutdown && !finSent && engine.state() == TlsEngine.State.CLOSED) {
            finSent = true;
            PrereadChannel.shutdownOutput(channel); // FIN after close_notify
        }
        return true;
    }

    @Override
    public boolean hasBufferedInput() {
        return engine.hasPlaintext()
                || (engine.hasHeldInput() && lastResult == TlsEngine.Result.NEED_PLAINTEXT_READ);
    }

    @Override
    public boolean readPaused() {
        return engine.tasksRunning();
    }

    @Override
    public boolean wantsRead() {
        return engine.state() == TlsEngine.State.HANDSHAKING && !engine.hasPendingOutput();
    }

    @Override
    public boolean wantsWrite() {
        return engine.hasPendingOutput();
    }

    @Override
    public void shutdownOutput() throws IOException {
        outputShutdown = true;
        engine.closeOutbound();
        flush();
    }

    @Override
    public void release() {
        engine.release();
    }

    /** True once the whole 400 for a plain-HTTP client went out (tests and logs). */
    public boolean plainResponseSent() {
        return plainResponseSent;
    }

    private void sendPlainAnswerIfHttp() throws IOException {
        if (plainResponseSent || engine.failure() != TlsEngine.Failure.NOT_TLS || !engine.looksLikePlainHttp()) {
            return;
        }
        plainResponseSent = true;
        // Best effort, one write: a connection that cannot take 150 bytes now gets a plain close.
        channel.write(ByteBuffer.wrap(PLAIN_HTTP_RESPONSE)); // socket write
    }

    private void flushQuietly() {
        try {
            flush();
        } catch (IOException e) {
            // the peer is gone; the caller closes the channel anyway
        }
    }
}
