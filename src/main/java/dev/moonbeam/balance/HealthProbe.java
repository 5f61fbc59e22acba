package dev.moonbeam.balance;

import dev.moonbeam.config.HealthCheckConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One health probe: a blocking {@code GET} over a fresh plain socket, judged by its status line
 * alone (the body is never read; {@code Connection: close} lets the backend end it).
 *
 * <p>Used by the health checker's control thread only; {@link #abort} may come from any thread
 * (close() during a probe) and closes the socket in use, which ends a blocked connect or read.
 *
 * <p>Bounded in time: the connect gets the timeout, then every read gets what is left of it, so a
 * backend that drips one byte at a time still ends the probe at {@code timeout} (the socket read
 * timeout alone restarts on every byte). Bounded in memory: the status line is read into a fixed
 * buffer and anything longer fails.
 */
final class HealthProbe {
    static final String USER_AGENT = "MoonBeam-health-check";
    /** Longer than any sane status line ("HTTP/1.1 200 OK"); a longer one is not HTTP we expect. */
    private static final int MAX_STATUS_LINE = 1024;

    /** A probe's outcome: passed, or why not (for the log), and the status when one was read. */
    record Result(boolean passed, int status, String reason) {
        static Result failed(String reason) {
            return new Result(false, 0, reason);
        }
    }

    private volatile Socket current;
    private volatile boolean aborted;

    Result probe(BackendSpec backend, HealthCheckConfig check) {
        long timeoutNanos = check.timeout().toNanos();
        long deadline = System.nanoTime() + timeoutNanos;
        if (aborted) {
            return Result.failed("checker closed");
        }
        try (Socket socket = new Socket()) {
            current = socket;
            if (aborted) {
                return Result.failed("checker closed");
            }
            socket.setTcpNoDelay(true);
            socket.connect(backend.address(), millisAtLeastOne(timeoutNanos));
            OutputStream out = socket.getOutputStream();
            out.write(request(backend, check));
            out.flush();
            return judge(readStatusLine(socket, deadline), check);
        } catch (SocketTimeoutException e) {
            return Result.failed("no answer within " + human(check.timeout()));
        } catch (ConnectException e) {
            return Result.failed("connect failed: " + e.getMessage());
        } catch (IOException e) {
            return Result.failed(aborted ? "checker closed" : "I/O error: " + e.getMessage());
        } finally {
            current = null;
        }
    }

    /** Ends a probe in progress and every later one. */
    void abort() {
        aborted = true;
        Socket socket = current;
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException e) {
                // Closing to interrupt; nothing more to do.
            }
        }
    }

    static byte[] request(BackendSpec backend, HealthCheckConfig check) {
        String host = check.host() != null ? check.host() : hostHeader(backend);
        String head = "GET " + check.path() + " HTTP/1.1\r\n"
                + "Host: " + host + "\r\n"
                + "User-Agent: " + USER_AGENT + "\r\n"
                + "Accept: */*\r\n"
                + "Connection: close\r\n\r\n";
        byte[] request = head.getBytes(StandardCharsets.US_ASCII);
        if (!backend.sendProxyProtocol()) {
            return request;
        }
        // A backend that expects a PROXY header refuses a connection without one; LOCAL says
        // "this is the balancer itself", as HAProxy's check-send-proxy does.
        byte[] withHeader = new byte[PROXY_V2_LOCAL.length + request.length];
        System.arraycopy(PROXY_V2_LOCAL, 0, withHeader, 0, PROXY_V2_LOCAL.length);
        System.arraycopy(request, 0, withHeader, PROXY_V2_LOCAL.length, request.length);
        return withHeader;
    }

    /** PROXY protocol v2: signature, version 2 + LOCAL, family UNSPEC, no address block. */
    private static final byte[] PROXY_V2_LOCAL = {
        0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x20, 0x00, 0x00, 0x00};

    /** The backend as configured, {@code host:port}; that is what the origin would see from a client. */
    private static String hostHeader(BackendSpec backend) {
        return backend.hostPort();
    }

    /** The status line without CRLF, or null when the connection ended first. */
    private static String readStatusLine(Socket socket, long deadline) throws IOException {
        InputStream in = socket.getInputStream();
        byte[] line = new byte[MAX_STATUS_LINE];
        int length = 0;
        while (length < line.length) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new SocketTimeoutException("deadline");
            }
            socket.setSoTimeout(millisAtLeastOne(left));
            int n = in.read(line, length, line.length - length);
            if (n < 0) {
                return length == 0 ? null : "";
            }
            for (int i = length; i < length + n; i++) {
                if (line[i] == '\n') {
                    int end = i > 0 && line[i - 1] == '\r' ? i - 1 : i;
                    return new String(line, 0, end, StandardCharsets.ISO_8859_1);
                }
            }
            length += n;
        }
        return "";
    }

    /** RFC 9112 §4: {@code HTTP-version SP 3DIGIT SP [reason]}. */
    static Result judge(String statusLine, HealthCheckConfig check) {
        if (statusLine == null) {
            return Result.failed("connection closed before a response");
        }
        boolean shape = statusLine.length() >= 12 && statusLine.startsWith("HTTP/1.")
                && Character.isDigit(statusLine.charAt(7)) && statusLine.charAt(8) == ' '
                && isDigit(statusLine, 9) && isDigit(statusLine, 10) && isDigit(statusLine, 11)
                && (statusLine.length() == 12 || statusLine.charAt(12) == ' ');
        if (!shape) {
            return Result.failed("not an HTTP/1.x status line: \"" + printable(statusLine) + "\"");
        }
        int status = Integer.parseInt(statusLine.substring(9, 12));
        if (check.expects(status)) {
            return new Result(true, status, "status " + status);
        }
        return new Result(false, status, "status " + status + ", expected " + check.expectStatusMin() + "-" + check.expectStatusMax());
    }

    private static boolean isDigit(String s, int index) {
        char c = s.charAt(index);
        return c >= '0' && c <= '9';
    }

    private static String printable(String s) {
        String cut = s.length() > 60 ? s.substring(0, 60) + "..." : s;
        return cut.replaceAll("[^\\x20-\\x7e]", "?");
    }

    private static int millisAtLeastOne(long nanos) {
        // 0 means "no timeout" to java.net: never pass it.
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(nanos)));
    }

    private static String human(Duration duration) {
        long millis = duration.toMillis();
        return millis % 1000 == 0 ? millis / 1000 + "s" : millis + "ms";
    }
}
