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
    /** Connections a crowd step holds open at once: wrk's usual 50, give or take. */
    private static final int CROWD = 32;

    private final InetSocketAddress tlsAddress;
    private final InetSocketAddress plainAddress;
    private final SocketFactory tlsSockets;
    private final long deadlineNanos;
    private int requestStyle;
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
            if (cycle % 4 == 1) {
                step(() -> crowd(plainAddress != null ? plainAddress : main, CROWD));
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

    /**
     * {@code size} connections open at once, each with two requests in flight at the same time
     * as the others': the proxy's per-loop structures (timers, buffer pools, backend pools) grow
     * to a crowd's size and many backend connections open, as when a load test starts.
     */
    private void crowd(InetSocketAddress address, int size) throws IOException {
        Socket[] sockets = new Socket[size];
        InputStream[] ins = new InputStream[size];
        try {
            for (int i = 0; i < size && System.nanoTime() < deadlineNanos; i++) {
                sockets[i] = connect(address);
                ins[i] = new BufferedInputStream(sockets[i].getInputStream());
            }
            for (int round = 0; round < 2; round++) {
                for (Socket socket : sockets) {
                    if (socket != null) {
                        socket.getOutputStream().write(request("GET", "/100b", -1, false));
                        socket.getOutputStream().flush();
                    }
                }
                for (InputStream in : ins) {
                    if (in != null) {
                        expect(in, 200);
                    }
                }
            }
        } finally {
            for (Socket socket : sockets) {
                if (socket != null) {
                    socket.close();
                }
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

    /**
     * A request head in one of the shapes real clients send — wrk's bare Host, curl's, an explicit
     * keep-alive, a browser's long one, lower-case names — so that the parser's branches for each
     * are compiled as taken rather than as traps that the first real client of that kind trips.
     */
    private byte[] request(String method, String path, int bodyLength, boolean close) {
        StringBuilder head = new StringBuilder(512).append(method).append(' ').append(path).append(" HTTP/1.1\r\n");
        switch (requestStyle++ % 5) {
            case 0 -> head.append("Host: 127.0.0.1:8443\r\n");
            case 1 -> head.append("Host: warmup.invalid\r\nUser-Agent: curl/8.14.1\r\nAccept: */*\r\n");
            case 2 -> head.append("Host: warmup.invalid\r\nConnection: keep-alive\r\nUser-Agent: moonbeam-warmup\r\n");
            case 3 -> head.append("Host: www.warmup.invalid\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:140.0) "
                    + "Gecko/20100101 Firefox/140.0\r\nAccept: text/html,application/xhtml+xml,application/xml;q=0.9,"
                    + "*/*;q=0.8\r\nAccept-Language: en-GB,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n"
                    + "Cookie: session=0123456789abcdef; theme=dark\r\nUpgrade-Insecure-Requests: 1\r\n"
                    + "Sec-Fetch-Dest: document\r\nSec-Fetch-Mode: navigate\r\nX-Request-Id: warmup-1\r\n");
            default -> head.append("host: warmup.invalid\r\nuser-agent: h2load nghttp2/1.64.0\r\naccept: */*\r\n");
        }
        if (bodyLength >= 0) {
            head.append("Content-Length: ").append(bodyLength).append("\r\n");
        }
        if (close) {
            head.append("Connection: close\r\n");
        }
        return head.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII);
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
