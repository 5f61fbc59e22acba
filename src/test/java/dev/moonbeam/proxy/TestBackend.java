package dev.moonbeam.proxy;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small blocking HTTP/1.1 origin for end-to-end tests: one thread per connection, keep-alive,
 * a pluggable handler, and counters for accepted connections and requests.
 */
public final class TestBackend implements AutoCloseable {
    /** Answers one request; may write anything (including garbage) and may close the socket. */
    @FunctionalInterface
    public interface Handler {
        void handle(HttpMessage request, InputStream in, OutputStream out, Socket socket) throws IOException;
    }

    final String name;
    private final ServerSocket server;
    private volatile Handler handler;
    private final Thread acceptor;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    public final AtomicInteger accepted = new AtomicInteger();
    public final AtomicInteger requests = new AtomicInteger();
    public final AtomicInteger inProgress = new AtomicInteger();
    public final ConcurrentLinkedQueue<HttpMessage> received = new ConcurrentLinkedQueue<>();
    private volatile boolean closed;

    public TestBackend(String name, Handler handler) throws IOException {
        this(name, handler, 0);
    }

    public TestBackend(String name, Handler handler, int port) throws IOException {
        this(name, handler, new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    }

    /** On a chosen address, e.g. 127.0.0.2 (all of 127/8 is loopback on Linux). */
    public TestBackend(String name, Handler handler, InetSocketAddress bindTo) throws IOException {
        this.name = name;
        this.handler = handler;
        this.server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(bindTo, 1024);
        this.acceptor = new Thread(this::acceptLoop, "backend-" + name);
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    public String address() {
        return server.getInetAddress().getHostAddress() + ":" + port();
    }

    /** Connections open now (a connection MoonBeam closed is gone once its serving thread saw the end). */
    public int openConnections() {
        return sockets.size();
    }

    void handler(Handler newHandler) {
        handler = newHandler;
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket socket = server.accept();
                if (closed) {
                    // ServerSocket.close() does not stop a blocked accept at once: a connection
                    // arriving just after close() must not be served by a "dead" backend.
                    socket.close();
                    return;
                }
                accepted.incrementAndGet();
                sockets.add(socket);
                Thread worker = new Thread(() -> serve(socket), "backend-" + name + "-conn");
                worker.setDaemon(true);
                worker.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            socket.setTcpNoDelay(true);
            InputStream in = new BufferedInputStream(socket.getInputStream(), 65536);
            OutputStream out = socket.getOutputStream();
            while (!socket.isClosed()) {
                HttpMessage request = HttpMessage.read(in, false, false);
                if (request == null) {
                    return;
                }
                requests.incrementAndGet();
                received.add(request);
                inProgress.incrementAndGet();
                try {
                    handler.handle(request, in, out, socket);
                } finally {
                    inProgress.decrementAndGet();
                }
                out.flush();
            }
        } catch (IOException e) {
            // Peer went away; fine for a test origin.
        } finally {
            sockets.remove(socket);
        }
    }

    /** Closes the listener and every connection (simulates a backend dying). */
    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        try {
            acceptor.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Socket socket : sockets) {
            socket.close();
        }
    }

    // ---- canned handlers ----

    public static void respond(OutputStream out, int status, String body, String... headers) throws IOException {
        respond(out, status, body.getBytes(StandardCharsets.UTF_8), headers);
    }

    public static void respond(OutputStream out, int status, byte[] body, String... headers) throws IOException {
        StringBuilder head = new StringBuilder("HTTP/1.1 ").append(status).append(' ').append(reason(status)).append("\r\n");
        for (String header : headers) {
            head.append(header).append("\r\n");
        }
        head.append("Content-Length: ").append(body.length).append("\r\n\r\n");
        out.write(head.toString().getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
    }

    static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 201 -> "Created";
            case 204 -> "No Content";
            case 304 -> "Not Modified";
            case 404 -> "Not Found";
            default -> "Status";
        };
    }

    /** Answers with the backend's name, so tests can see who served a request. */
    public static Handler named(String name) {
        return (request, in, out, socket) -> respond(out, 200, name, "X-Backend: " + name);
    }
}
