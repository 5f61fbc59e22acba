package dev.moonbeam.warmup;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.Locale;
import javax.net.SocketFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * One warm-up client thread: until its deadline, cycles through what real clients make the proxy
 * do — keep-alive requests of several sizes, uploads, pipelining, a new connection (and TLS
 * handshake, full or resumed) per request, a malformed request, and plain HTTP when there is a
 * plain listener. Blocking sockets with short timeouts, so it can always stop. Only ever connects
 * to the warm-up proxy's loopback addresses.
 */
final class WarmUpClient implements Runnable {
    private static final int TIMEOUT_MILLIS = 2_000;
    private static final byte[] UPLOAD = new byte[1024];

    private final InetSocketAddress tlsAddress;
    private final InetSocketAddress plainAddress;
    private final SocketFactory tlsSockets;
    private final long deadlineNanos;
    final Counts counts = new Counts();

    /** What this client got done; read after the thread ended. */
    static final class Counts {
        long requests;
        long connections;
        long failures;
        String lastFailure;
    }

    WarmUpClient(InetSocketAddress tlsAddress, InetSocketAddress plainAddress, long deadlineNanos) throws IOException {
        this.tlsAddress = tlsAddress;
        this.plainAddress = plainAddress;
        this.deadlineNanos = deadlineNanos;
        this.tlsSockets = tlsAddress == null ? null : trustingOwnCertificate().getSocketFactory();
    }

    /**
     * The warm-up talks to this process's own listener on loopback, with whatever certificate it
     * was given (often self-signed), so there is nothing to verify.
     */
    private static SSLContext trustingOwnCertificate() throws IOException {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {new X509TrustManager() {
                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType) {
                }

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType) {
                }

                @Override
                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }
            }}, new SecureRandom());
            return context;
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException("cannot set up the warm-up's TLS client: " + e.getMessage(), e);
        }
    }

    @Override
    public void run() {
        InetSocketAddress main = tlsAddress != null ? tlsAddress : plainAddress;
        // Mostly keep-alive requests, the steady state that must be compiled well, most of them in
        // plain HTTP (see WarmUp.privateConfig). Between short blocks of them, the rare paths: new
        // connections (each a TLS handshake), Connection: close, pipelining, a malformed request.
        // Interleaved all along rather than in long blocks: the JIT profiles a method only once it
        // is warm, and a branch its profile never saw taken is compiled as a trap, so that its
        // first real use (a burst of reconnecting clients) deoptimises the hottest code.
        for (int cycle = 0; System.nanoTime() < deadlineNanos; cycle++) {
            if (plainAddress != null && plainAddress != main) {
                step(() -> keepAlive(plainAddress, 200));
            }
            step(() -> keepAlive(main, 100));
            step(() -> newConnections(main, 2));
            if (cycle % 2 == 0) {
                step(() -> pipelined(main, 4));
            }
            if (cycle % 8 == 0) {
                step(() -> malformed(main));
            }
        }
    }

    private interface Step {
        void run() throws IOException;
    }

    private void step(Step step) {
        if (System.nanoTime() >= deadlineNanos) {
            return;
        }
        try {
            step.run();
        } catch (IOException | RuntimeException e) {
            counts.failures++;
            counts.lastFailure = e.toString();
        }
    }

    private Socket connect(InetSocketAddress address) throws IOException {
        Socket socket = address == tlsAddress ? tlsSockets.createSocket() : new Socket();
        socket.setSoTimeout(TIMEOUT_MILLIS);
        socket.setTcpNoDelay(true);
        socket.connect(address, TIMEOUT_MILLIS);
        if (socket instanceof SSLSocket tls) {
            tls.startHandshake();
        }
        counts.connections++;
        return socket;
    }

    private void keepAlive(InetSocketAddress address, int requests) throws IOException {
        try (Socket socket = connect(address)) {
            InputStream in = new BufferedInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            for (int i = 0; i < requests && System.nanoTime() < deadlineNanos; i++) {
                if (i % 10 == 5) {
                    out.write(request("POST", "/upload", UPLOAD.length, false));
                    out.write(UPLOAD);
                } else {
                    String path = i % 20 == 7 ? "/64k" : i % 20 == 13 ? "/chunked" : "/100b";
                    out.write(request("GET", path, -1, false));
                }
                out.flush();
                expect(in, 200);
            }
        }
    }

    private void newConnections(InetSocketAddress address, int count) throws IOException {
        for (int i = 0; i < count && System.nanoTime() < deadlineNanos; i++) {
            try (Socket socket = connect(address)) {
                socket.getOutputStream().write(request("GET", "/100b", -1, true));
                socket.getOutputStream().flush();
                expect(new BufferedInputStream(socket.getInputStream()), 200);
            }
        }
    }

    private void pipelined(InetSocketAddress address, int depth) throws IOException {
        try (Socket socket = connect(address)) {
            OutputStream out = socket.getOutputStream();
            for (int i = 0; i < depth; i++) {
                out.write(request("GET", "/100b", -1, false));
            }
            out.flush();
            InputStream in = new BufferedInputStream(socket.getInputStream());
            for (int i = 0; i < depth; i++) {
                expect(in, 200);
            }
        }
    }

    /** A header line without a colon: the proxy answers 400 and closes. */
    private void malformed(InetSocketAddress address) throws IOException {
        try (Socket socket = connect(address)) {
            socket.getOutputStream().write("GET /100b HTTP/1.1\r\nHost: warmup\r\nno colon here\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            expect(new BufferedInputStream(socket.getInputStream()), 400);
        }
    }

    private static byte[] request(String method, String path, int bodyLength, boolean close) {
        return (method + " " + path + " HTTP/1.1\r\nHost: warmup.invalid\r\nUser-Agent: moonbeam-warmup\r\n"
                + (bodyLength >= 0 ? "Content-Length: " + bodyLength + "\r\n" : "")
                + (close ? "Connection: close\r\n" : "") + "\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** Reads one whole response (Content-Length or chunked body) and checks its status. */
    private void expect(InputStream in, int status) throws IOException {
        String head = readHead(in);
        int code = Integer.parseInt(head.substring(9, 12));
        String lower = head.toLowerCase(Locale.ROOT);
        int at = lower.indexOf("\r\ncontent-length:");
        if (at >= 0) {
            int end = lower.indexOf('\r', at + 2);
            in.readNBytes(Integer.parseInt(lower.substring(at + 17, end).trim()));
        } else if (lower.contains("\r\ntransfer-encoding: chunked")) {
            for (int size = chunkSize(in); size > 0; size = chunkSize(in)) {
                in.readNBytes(size + 2);
            }
            readHead(in); // trailers and the final CRLF
        }
        if (code != status) {
            throw new IOException("warm-up expected " + status + ", got " + code);
        }
        counts.requests++;
    }

    private static int chunkSize(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0 || line.length() > 32) {
                throw new IOException("bad chunk size line");
            }
            if (b != '\r') {
                line.append((char) b);
            }
        }
        return Integer.parseInt(line.toString().trim(), 16);
    }

    /** Up to and including the empty line (a lone CRLF when only the end of trailers is left). */
    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (true) {
            int b = in.read();
            if (b < 0 || head.length() > 16 * 1024) {
                throw new IOException("response head cut short");
            }
            head.append((char) b);
            int n = head.length();
            if (b == '\n' && (n == 2 && head.charAt(0) == '\r'
                    || n >= 4 && head.charAt(n - 2) == '\r' && head.charAt(n - 3) == '\n' && head.charAt(n - 4) == '\r')) {
                return head.toString();
            }
        }
    }
}
