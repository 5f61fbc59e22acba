package dev.moonbeam.warmup;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small HTTP/1.1 origin on 127.0.0.1 for the warm-up: keep-alive, answers 100 bytes, 64 KiB
 * ({@code /64k}) or a chunked body ({@code /chunked}), reads request bodies by Content-Length.
 * Blocking sockets on threads of its own, so it shares no code path with the proxy's loops.
 * Lives only for the warm-up.
 */
final class WarmUpOrigin implements AutoCloseable {
    private static final int MAX_HEAD = 16 * 1024;
    private static final byte[] SMALL = filled(100);
    private static final byte[] LARGE = filled(64 * 1024);

    private final ServerSocket server;
    private final ExecutorService threads;
    private final String name;
    /** Responses so far, across connections; steers the header mix. */
    private final AtomicInteger served = new AtomicInteger();

    WarmUpOrigin(String name) throws IOException {
        this.name = name;
        server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        threads = Executors.newCachedThreadPool(runnable -> {
            Thread thread = new Thread(runnable, "warmup-" + name);
            thread.setDaemon(true);
            return thread;
        });
        threads.execute(this::acceptLoop);
    }

    InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                threads.execute(() -> serve(socket));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(10_000);
            InputStream in = new BufferedInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            StringBuilder head = new StringBuilder();
            while (readHead(in, head)) {
                String text = head.toString().toLowerCase(Locale.ROOT);
                skip(in, contentLength(text));
                String target = text.substring(text.indexOf(' ') + 1, text.indexOf(' ', text.indexOf(' ') + 1));
                boolean close = text.contains("\r\nconnection: close");
                if (respond(out, target, close)) {
                    return;
                }
            }
        } catch (IOException | RuntimeException e) {
            // the proxy closed or reset the connection: nothing to do in a warm-up
        }
    }

    /** Answers one request; true when the connection must close after it. */
    private boolean respond(OutputStream out, String target, boolean close) throws IOException {
        int n = served.incrementAndGet();
        // Headers as real origins send them (nginx's set, some with "Connection: keep-alive"), and
        // now and then a "Connection: close": the proxy then opens a new backend connection while
        // its code is hot, as it does in production. A branch the warm-up never takes is compiled
        // as a trap, and the first real request that takes it deoptimises the request path.
        boolean closeAnyway = close || n % 64 == 0;
        String connection = closeAnyway ? "Connection: close\r\n" : n % 2 == 0 ? "Connection: keep-alive\r\n" : "";
        String common = "HTTP/1.1 200 OK\r\nServer: moonbeam-warmup\r\nDate: Sun, 29 Nov 2026 00:00:00 GMT\r\n"
                + "Content-Type: text/plain\r\nX-Origin: " + name + "\r\n" + connection;
        if (target.startsWith("/chunked")) {
            out.write((common + "Transfer-Encoding: chunked\r\n\r\n64\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(SMALL);
            out.write("\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        } else {
            byte[] body = target.startsWith("/64k") ? LARGE : SMALL;
            String validators = n % 3 == 0 ? "" : "Last-Modified: Sat, 28 Nov 2026 00:00:00 GMT\r\n"
                    + "ETag: \"6a1b2c3d-" + Integer.toHexString(body.length) + "\"\r\nAccept-Ranges: bytes\r\n";
            out.write((common + "Content-Length: " + body.length + "\r\n" + validators + "\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(body);
        }
        out.flush();
        return closeAnyway;
    }

    /** Reads one request head into {@code head}; false at a clean end of stream. */
    private static boolean readHead(InputStream in, StringBuilder head) throws IOException {
        head.setLength(0);
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                if (head.length() == 0) {
                    return false;
                }
                throw new IOException("truncated head");
            }
            head.append((char) b);
            if (head.length() > MAX_HEAD) {
                throw new IOException("head too large");
            }
            matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3))
                    ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return true;
    }

    private static long contentLength(String head) {
        int at = head.indexOf("\r\ncontent-length:");
        if (at < 0) {
            return 0;
        }
        int end = head.indexOf('\r', at + 2);
        return Long.parseLong(head.substring(at + "\r\ncontent-length:".length(), end).trim());
    }

    private static void skip(InputStream in, long count) throws IOException {
        for (long left = count; left > 0; ) {
            long skipped = in.skip(left);
            if (skipped <= 0) {
                if (in.read() < 0) {
                    throw new IOException("body cut short");
                }
                skipped = 1;
            }
            left -= skipped;
        }
    }

    private static byte[] filled(int size) {
        byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++) {
            bytes[i] = (byte) ('a' + i % 26);
        }
        return bytes;
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
        threads.shutdownNow();
    }
}
