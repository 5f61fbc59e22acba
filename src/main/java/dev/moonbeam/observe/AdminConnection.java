package dev.moonbeam.observe;

import dev.moonbeam.http.ErrorResponses;
import dev.moonbeam.http.HttpHead;
import dev.moonbeam.http.HttpLimits;
import dev.moonbeam.http.ParseStatus;
import dev.moonbeam.http.RequestMethod;
import dev.moonbeam.http.RequestParser;
import dev.moonbeam.loop.BufferPool;
import dev.moonbeam.loop.EventLoop;
import dev.moonbeam.loop.IoHandler;
import dev.moonbeam.loop.PlainTransport;
import dev.moonbeam.loop.Timeout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.concurrent.TimeUnit;

/**
 * One admin client: reads requests with MoonBeam's {@link RequestParser}, answers each with a
 * body rendered into a byte array, and writes it without blocking (waiting for OP_WRITE when the
 * socket is full). Keep-alive and pipelining work; a request the parser rejects gets its error
 * status and the connection closes.
 *
 * <p>States ({@link State}): READING (waiting for a request; the idle timeout applies, counted from
 * the last response, so a slow head cannot hold the connection), WRITING (a response is going out;
 * the same timeout, restarted on every write that makes progress), CLOSED. Only {@link #setState}
 * changes it.
 *
 * <p>Owned by the admin loop's thread; no locks. Allocation is fine here (not the request path);
 * the input buffer comes from the loop's pool and is held only while it holds bytes, and a response
 * goes out through a pool buffer taken for each write.
 */
final class AdminConnection implements IoHandler {
    private enum State { READING, WRITING, CLOSED }

    static final long IDLE_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(30);
    /** Admin requests are small; these keep a hostile one small too. */
    static final HttpLimits LIMITS = new HttpLimits(2048, 8192, 64, 256, 64 * 1024, EnumSet.noneOf(dev.moonbeam.http.Leniency.class));
    private static final byte[] METRICS = ascii("/metrics");
    private static final byte[] STATUS = ascii("/status");
    private static final byte[] HEALTHZ = ascii("/healthz");
    private static final byte[] OK = ascii("ok\n");
    private static final byte[] DRAINING = ascii("draining\n");

    private final AdminEndpoint endpoint;
    private final EventLoop loop;
    private final SocketChannel channel;
    private final PlainTransport transport;
    private final RequestParser parser = new RequestParser(LIMITS);
    private final Timeout timeout = new Timeout(this::expired);
    private SelectionKey key;
    private State state = State.READING;
    /** Pooled, fill mode; null while no unread bytes are held. */
    private ByteBuffer in;
    /** The response being written, read mode; null when none. */
    private ByteBuffer out;
    private boolean closeAfterWrite;

    private AdminConnection(AdminEndpoint endpoint, SocketChannel channel) {
        this.endpoint = endpoint;
        this.loop = endpoint.loop();
        this.channel = channel;
        this.transport = new PlainTransport(channel);
    }

    static AdminConnection open(AdminEndpoint endpoint, SocketChannel channel) throws IOException {
        AdminConnection connection = new AdminConnection(endpoint, channel);
        connection.key = endpoint.loop().register(channel, SelectionKey.OP_READ, connection);
        connection.armTimeout();
        return connection;
    }

    @Override
    public void onReady(SelectionKey readyKey, int readyOps) throws IOException {
        if (state == State.WRITING && (readyOps & SelectionKey.OP_WRITE) != 0) {
            flushResponse();
            if (state == State.READING && in != null) {
                serveBuffered(); // pipelined requests already read: OP_READ would not signal them
            }
        } else if (state == State.READING && (readyOps & SelectionKey.OP_READ) != 0) {
            read();
        }
    }

    @Override
    public void abort(Throwable cause) {
        close();
    }

    private void read() throws IOException {
        if (in == null) {
            in = loop.buffers().acquire();
        }
        int n = transport.read(in); // socket read
        if (n < 0) {
            close();
            return;
        }
        serveBuffered();
    }

    /**
     * Answers every complete request held in {@code in}, in order, until one needs more bytes or
     * its response cannot be written at once. Bounded by the bytes held: each round consumes some.
     */
    private void serveBuffered() throws IOException {
        while (state == State.READING && in != null) {
            ParseStatus status;
            in.flip();
            try {
                status = parser.parse(in);
                while (status == ParseStatus.HEAD_COMPLETE || status == ParseStatus.BODY) {
                    status = parser.parse(in); // any request body is read and ignored
                }
            } finally {
                in.compact();
            }
            if (in.position() == 0) {
                loop.buffers().release(in);
                in = null;
            }
            switch (status) {
                case NEED_MORE:
                    return;
                case ERROR:
                    respondError(parser.errorStatus());
                    return;
                case MESSAGE_COMPLETE:
                    respond(parser.head());
                    parser.reset();
                    break;
                default:
                    throw new IllegalStateException("admin parser returned " + status);
            }
        }
    }

    private void respond(HttpHead head) throws IOException {
        boolean keepAlive = head.isKeepAlive();
        RequestMethod method = head.method();
        if (method != RequestMethod.GET && method != RequestMethod.HEAD) {
            send(405, "Method Not Allowed", "text/plain; charset=utf-8", ascii("method not allowed\n"),
                    "Allow: GET, HEAD\r\n", keepAlive, false);
            return;
        }
        boolean headOnly = method == RequestMethod.HEAD;
        if (pathIs(head, METRICS)) {
            send(200, "OK", PrometheusText.CONTENT_TYPE, endpoint.pages().metrics(), "", keepAlive, headOnly);
        } else if (pathIs(head, STATUS)) {
            send(200, "OK", "text/html; charset=utf-8", endpoint.pages().status(), "", keepAlive, headOnly);
        } else if (pathIs(head, HEALTHZ)) {
            if (endpoint.pages().healthy()) {
                send(200, "OK", "text/plain; charset=utf-8", OK, "", keepAlive, headOnly);
            } else {
                send(503, "Service Unavailable", "text/plain; charset=utf-8", DRAINING, "", keepAlive, headOnly);
            }
        } else {
            send(404, "Not Found", "text/plain; charset=utf-8", ascii("not found; try /status, /metrics or /healthz\n"),
                    "", keepAlive, headOnly);
        }
    }

    /** The path (target up to '?') equals {@code path}. */
    private static boolean pathIs(HttpHead head, byte[] path) {
        byte[] bytes = head.bytes();
        int end = head.targetStart();
        while (end < head.targetEnd() && bytes[end] != '?') {
            end++;
        }
        if (end - head.targetStart() != path.length) {
            return false;
        }
        for (int i = 0; i < path.length; i++) {
            if (bytes[head.targetStart() + i] != path[i]) {
                return false;
            }
        }
        return true;
    }

    private void send(int status, String reason, String contentType, byte[] body, String extraHeaders,
            boolean keepAlive, boolean headOnly) throws IOException {
        String headText = "HTTP/1.1 " + status + " " + reason + "\r\n"
                + "Content-Type: " + contentType + "\r\n"
                + "Content-Length: " + body.length + "\r\n"
                + "Cache-Control: no-store\r\n"
                + extraHeaders
                + (keepAlive ? "" : "Connection: close\r\n")
                + "\r\n";
        byte[] headBytes = headText.getBytes(StandardCharsets.US_ASCII);
        byte[] response = new byte[headBytes.length + (headOnly ? 0 : body.length)];
        System.arraycopy(headBytes, 0, response, 0, headBytes.length);
        if (!headOnly) {
            System.arraycopy(body, 0, response, headBytes.length, body.length);
        }
        startWrite(ByteBuffer.wrap(response), !keepAlive);
    }

    private void respondError(int status) throws IOException {
        startWrite(ErrorResponses.forStatus(status), true);
    }

    private void startWrite(ByteBuffer response, boolean close) throws IOException {
        out = response;
        closeAfterWrite = close;
        setState(State.WRITING);
        flushResponse();
    }

    /** Writes what the socket takes; waits for OP_WRITE if it is full. */
    private void flushResponse() throws IOException {
        int before = out.remaining();
        // Through a pooled direct buffer: a heap buffer is copied by the JDK into a temporary direct
        // one of the whole response's size, which cannot be had once direct memory is used up (the
        // pools hold it) - and then /metrics is what an operator wants to read.
        ByteBuffer staging = loop.buffers().acquire();
        try {
            while (out.hasRemaining()) {
                int start = out.position();
                staging.clear();
                BufferPool.copyWhatFits(out, staging);
                staging.flip();
                int written = transport.write(staging); // socket write
                out.position(start + written);
                if (written == 0) {
                    break;
                }
            }
        } finally {
            loop.buffers().release(staging);
        }
        if (out.hasRemaining()) {
            if (out.remaining() < before) {
                armTimeout(); // progress: a slow but live reader gets a fresh timeout
            }
            key.interestOps(SelectionKey.OP_WRITE);
            return;
        }
        out = null;
        if (closeAfterWrite) {
            close();
            return;
        }
        setState(State.READING);
        key.interestOps(SelectionKey.OP_READ);
        armTimeout();
    }

    private void armTimeout() {
        loop.timers().schedule(timeout, loop.now() + IDLE_TIMEOUT_NANOS);
    }

    private void expired() {
        close();
    }

    private void close() {
        if (state == State.CLOSED) {
            return;
        }
        setState(State.CLOSED);
        loop.timers().cancel(timeout);
        if (in != null) {
            loop.buffers().release(in);
            in = null;
        }
        out = null;
        if (key != null) {
            key.cancel();
        }
        AdminEndpoint.closeQuietly(channel);
        endpoint.connectionClosed();
    }

    private void setState(State next) {
        state = next;
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }
}
