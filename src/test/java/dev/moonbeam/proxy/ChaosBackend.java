package dev.moonbeam.proxy;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A raw {@link ServerSocket} origin whose behaviour on each connection is a small {@link Script}:
 * read a request head, write given bytes, drip bytes slowly, sleep, wait in silence, half-close,
 * close, or abort with a reset. Scripts may branch on the request they just read
 * ({@link Script#route}), so one origin serves healthy requests and a fault side by side.
 *
 * <p>Every step is bounded in time ({@link #MAX_WAIT_MILLIS} at most for any read or wait) and
 * every loop in count, so a test that goes wrong fails instead of hanging. One daemon thread per
 * connection; {@link #down()} / {@link #up()} stop and restart listening on the same port (a
 * flapping origin); {@link #close()} resets every connection and stops.
 */
final class ChaosBackend implements AutoCloseable {
    /** No read or wait in a script lasts longer than this. */
    static final long MAX_WAIT_MILLIS = 10_000;
    /** No {@link Script#repeat} runs its body more often than this. */
    static final int MAX_REPEATS = 10_000;

    /** One action on a connection; returns false to end the script (the connection closes). */
    @FunctionalInterface
    interface Step {
        boolean run(Conn conn) throws IOException, InterruptedException;
    }

    /** A request head as the origin read it (its body, if it had a Content-Length, is read and dropped). */
    record Request(String method, String target, String head) {
    }

    /** A fluent list of steps. Scripts are immutable once built and may be shared by connections. */
    static final class Script {
        private final List<Step> steps = new ArrayList<>();

        static Script of() {
            return new Script();
        }

        private Script add(Step step) {
            steps.add(step);
            return this;
        }

        /** Reads the next request head (and a Content-Length body); a close by the proxy ends the script. */
        Script readRequest() {
            return add(conn -> conn.readRequest(MAX_WAIT_MILLIS) != null);
        }

        /**
         * A keep-alive timeout of {@code idleMillis}: waits that long for the first byte of the next
         * request, closes if none came (as an origin whose idle timeout is shorter than the proxy's).
         */
        Script readRequestWithin(long idleMillis) {
            return add(conn -> conn.readRequest(idleMillis) != null);
        }

        Script write(String text) {
            return write(text.getBytes(StandardCharsets.ISO_8859_1));
        }

        Script write(byte[] bytes) {
            return add(conn -> {
                conn.out.write(bytes);
                conn.out.flush();
                return true;
            });
        }

        /** A whole response with a Content-Length. */
        Script respond(int status, String body, String... headers) {
            StringBuilder head = new StringBuilder("HTTP/1.1 ").append(status).append(" X\r\n");
            for (String header : headers) {
                head.append(header).append("\r\n");
            }
            head.append("Content-Length: ").append(body.length()).append("\r\n\r\n").append(body);
            return write(head.toString());
        }

        /** Writes {@code text} one byte at a time, {@code intervalMillis} apart (a slow drip). */
        Script drip(String text, long intervalMillis) {
            byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
            return add(conn -> {
                for (byte b : bytes) {
                    conn.out.write(b);
                    conn.out.flush();
                    if (conn.sleepUnlessClosed(intervalMillis)) {
                        return false;
                    }
                }
                return true;
            });
        }

        Script sleep(long millis) {
            return add(conn -> {
                Thread.sleep(Math.min(millis, MAX_WAIT_MILLIS));
                return true;
            });
        }

        /**
         * Says nothing: reads and discards whatever comes until the proxy closes (which ends the
         * script) or {@code maxMillis} pass.
         */
        Script silence(long maxMillis) {
            return add(conn -> !conn.discardUntilClosed(maxMillis));
        }

        /** Blocks until {@code release} opens (at most {@link #MAX_WAIT_MILLIS}). */
        Script await(CountDownLatch release) {
            return add(conn -> {
                release.await(MAX_WAIT_MILLIS, TimeUnit.MILLISECONDS);
                return true;
            });
        }

        /** Counts down {@code signal} (e.g. "the fault has happened"). */
        Script signal(CountDownLatch signal) {
            return add(conn -> {
                signal.countDown();
                return true;
            });
        }

        /** A chunked response that sends a chunk every {@code intervalMillis} until {@code release} opens. */
        Script streamChunksUntil(CountDownLatch release, long intervalMillis, String chunk) {
            return add(conn -> {
                conn.out.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MAX_WAIT_MILLIS);
                byte[] frame = (Integer.toHexString(chunk.length()) + "\r\n" + chunk + "\r\n").getBytes(StandardCharsets.US_ASCII);
                do {
                    conn.out.write(frame);
                    conn.out.flush();
                } while (!release.await(intervalMillis, TimeUnit.MILLISECONDS) && System.nanoTime() - deadline < 0);
                conn.out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                conn.out.flush();
                return true;
            });
        }

        /** Aborts: SO_LINGER 0 then close, so the kernel sends RST instead of FIN. */
        Script reset() {
            return add(conn -> {
                conn.reset();
                return false;
            });
        }

        /** Sends FIN but keeps reading (a half-close). */
        Script shutdownOutput() {
            return add(conn -> {
                conn.socket.shutdownOutput();
                return true;
            });
        }

        Script close() {
            return add(conn -> {
                conn.socket.close();
                return false;
            });
        }

        /** Runs {@code body} {@code times} times (at most {@link #MAX_REPEATS}) or until it ends the connection. */
        Script repeat(int times, Script body) {
            int bounded = Math.min(times, MAX_REPEATS);
            return add(conn -> {
                for (int i = 0; i < bounded; i++) {
                    if (!body.run(conn)) {
                        return false;
                    }
                }
                return true;
            });
        }

        /** Continues with the script {@code router} picks for the request read last. */
        Script route(Function<Request, Script> router) {
            return add(conn -> router.apply(conn.lastRequest).run(conn));
        }

        boolean run(Conn conn) throws IOException, InterruptedException {
            for (Step step : steps) {
                if (!step.run(conn)) {
                    return false;
                }
            }
            return true;
        }
    }

    /** A connection as a script sees it. */
    static final class Conn {
        final int index;
        final Socket socket;
        final InputStream in;
        final OutputStream out;
        final ChaosBackend origin;
        Request lastRequest;

        Conn(int index, Socket socket, ChaosBackend origin) throws IOException {
            this.index = index;
            this.socket = socket;
            this.origin = origin;
            this.in = new BufferedInputStream(socket.getInputStream(), 65536);
            this.out = socket.getOutputStream();
        }

        /** The next request, or null when the proxy closed or nothing began within {@code idleMillis}. */
        Request readRequest(long idleMillis) throws IOException {
            socket.setSoTimeout((int) Math.min(idleMillis, MAX_WAIT_MILLIS));
            int first;
            try {
                first = in.read();
            } catch (SocketTimeoutException e) {
                origin.idleClosed.incrementAndGet();
                return null; // our keep-alive timeout: the caller's script ends and the socket closes
            }
            if (first < 0) {
                origin.peerClosed.incrementAndGet();
                return null;
            }
            socket.setSoTimeout((int) MAX_WAIT_MILLIS);
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            head.write(first);
            int matched = 0;
            byte[] end = {'\r', '\n', '\r', '\n'};
            while (matched < 4) {
                int b = in.read();
                if (b < 0) {
                    origin.peerClosed.incrementAndGet();
                    return null;
                }
                head.write(b);
                matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
            }
            String text = head.toString(StandardCharsets.ISO_8859_1);
            String[] requestLine = text.substring(0, text.indexOf("\r\n")).split(" ");
            for (String line : text.split("\r\n")) {
                if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                    in.readNBytes(Integer.parseInt(line.substring(15).strip()));
                }
            }
            lastRequest = new Request(requestLine[0], requestLine[1], text);
            origin.requests.add(lastRequest);
            return lastRequest;
        }

        /** Reads and drops bytes until EOF or reset (true) or {@code maxMillis} (false). */
        boolean discardUntilClosed(long maxMillis) throws IOException {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.min(maxMillis, MAX_WAIT_MILLIS));
            byte[] sink = new byte[4096];
            while (true) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    return false;
                }
                socket.setSoTimeout((int) left);
                try {
                    if (in.read(sink) < 0) {
                        origin.peerClosed.incrementAndGet();
                        return true;
                    }
                } catch (SocketTimeoutException e) {
                    return false;
                } catch (IOException e) {
                    origin.peerClosed.incrementAndGet();
                    return true;
                }
            }
        }

        /** Sleeps {@code millis}; true if the proxy closed its side meanwhile (seen without blocking). */
        boolean sleepUnlessClosed(long millis) throws IOException, InterruptedException {
            Thread.sleep(millis);
            if (in.available() > 0) {
                return false;
            }
            socket.setSoTimeout(1);
            try {
                if (in.read() < 0) {
                    origin.peerClosed.incrementAndGet();
                    return true;
                }
                return false; // a byte we did not expect: ignore it
            } catch (SocketTimeoutException e) {
                return false;
            } catch (IOException e) {
                origin.peerClosed.incrementAndGet();
                return true;
            } finally {
                socket.setSoTimeout((int) MAX_WAIT_MILLIS);
            }
        }

        void reset() throws IOException {
            socket.setSoLinger(true, 0);
            socket.close();
        }
    }

    final String name;
    private final Function<Integer, Script> scripts;
    private final int port;
    private volatile ServerSocket server;
    private volatile Thread acceptor;
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    final AtomicInteger accepted = new AtomicInteger();
    /** Connections on which the proxy's close (EOF or reset) was seen by a read. */
    final AtomicInteger peerClosed = new AtomicInteger();
    /** Connections this origin closed for its own keep-alive timeout. */
    final AtomicInteger idleClosed = new AtomicInteger();
    final ConcurrentLinkedQueue<Request> requests = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<Throwable> scriptFailures = new ConcurrentLinkedQueue<>();
    private volatile boolean closed;

    /** Every connection runs {@code script}. */
    ChaosBackend(String name, Script script) throws IOException {
        this(name, index -> script);
    }

    /** Connection {@code i} (0, 1, ...) runs {@code scripts.apply(i)}. */
    ChaosBackend(String name, Function<Integer, Script> scripts) throws IOException {
        this.name = name;
        this.scripts = scripts;
        ServerSocket first = bind(0);
        this.port = first.getLocalPort();
        listen(first);
    }

    /** A keep-alive origin that reads requests and answers each with the script {@code routes} maps its target to. */
    static Script serving(Map<String, Script> routes, Script otherwise) {
        Map<String, Script> table = new LinkedHashMap<>(routes);
        return Script.of().repeat(MAX_REPEATS, Script.of().readRequest()
                .route(request -> table.getOrDefault(request.target(), otherwise)));
    }

    private static ServerSocket bind(int port) throws IOException {
        ServerSocket socket = new ServerSocket();
        socket.setReuseAddress(true);
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 128);
        return socket;
    }

    private void listen(ServerSocket socket) {
        server = socket;
        Thread thread = new Thread(() -> acceptLoop(socket), "chaos-" + name);
        thread.setDaemon(true);
        acceptor = thread;
        thread.start();
    }

    int port() {
        return port;
    }

    String address() {
        return "127.0.0.1:" + port;
    }

    /** Connections open now (the origin's side). */
    int openConnections() {
        return open.size();
    }

    private void acceptLoop(ServerSocket socket) {
        while (!socket.isClosed()) {
            Socket accepted;
            try {
                accepted = socket.accept();
            } catch (IOException e) {
                return;
            }
            if (closed || socket != server) {
                abortQuietly(accepted); // arrived while going down: a dead origin serves nobody
                continue;
            }
            int index = this.accepted.getAndIncrement();
            open.add(accepted);
            Thread worker = new Thread(() -> serve(index, accepted), "chaos-" + name + "-" + index);
            worker.setDaemon(true);
            threads.add(worker);
            worker.start();
        }
    }

    private void serve(int index, Socket socket) {
        try (socket) {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout((int) MAX_WAIT_MILLIS);
            scripts.apply(index).run(new Conn(index, socket, this));
        } catch (IOException e) {
            // The proxy went away or reset: that ends a script as well.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | AssertionError e) {
            scriptFailures.add(e);
        } finally {
            open.remove(socket);
            threads.remove(Thread.currentThread());
        }
    }

    /** Stops listening (new connections are refused) and resets every open connection. */
    synchronized void down() throws IOException {
        ServerSocket current = server;
        server = null;
        if (current != null) {
            current.close();
            join(acceptor);
        }
        for (Socket socket : open) {
            abortQuietly(socket);
        }
    }

    /** Listens again on the same port (a few attempts: the port is ours, but close and bind race). */
    synchronized void up() throws IOException, InterruptedException {
        if (server != null || closed) {
            return;
        }
        IOException last = null;
        for (int attempt = 0; attempt < 20; attempt++) {
            try {
                listen(bind(port));
                return;
            } catch (IOException e) {
                last = e;
                Thread.sleep(10);
            }
        }
        throw last;
    }

    @Override
    public void close() throws IOException {
        closed = true;
        down();
        for (Thread thread : threads) {
            join(thread);
        }
    }

    private static void join(Thread thread) {
        if (thread == null) {
            return;
        }
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void abortQuietly(Socket socket) {
        try {
            socket.setSoLinger(true, 0);
            socket.close();
        } catch (IOException e) {
            // already gone
        }
    }
}
