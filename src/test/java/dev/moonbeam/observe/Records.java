package dev.moonbeam.observe;

import dev.moonbeam.balance.Backend;
import dev.moonbeam.balance.BackendSpec;
import dev.moonbeam.http.HttpHead;
import dev.moonbeam.http.HttpLimits;
import dev.moonbeam.http.ParseStatus;
import dev.moonbeam.http.RequestParser;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** Builds {@link RequestRecord}s as the proxy fills them, from real parsed heads. */
final class Records {
    /** 2026-11-26T10:50:50.123Z */
    static final long EPOCH_MILLIS = 1_795_690_250_123L;

    private Records() {
    }

    static HttpHead head(String text) {
        RequestParser parser = new RequestParser(HttpLimits.DEFAULTS);
        ParseStatus status = parser.parse(ByteBuffer.wrap(text.getBytes(StandardCharsets.ISO_8859_1)));
        if (status != ParseStatus.HEAD_COMPLETE) {
            throw new AssertionError("head did not parse: " + status + " " + parser.errorReason());
        }
        return parser.head();
    }

    static Backend backend(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        InetSocketAddress address = new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
        return new Backend(new BackendSpec(hostPort, address, 1));
    }

    /**
     * @param head null for a request refused before its head parsed
     * @param backend null when none was reached
     */
    static RequestRecord record(HttpHead head, int status, long bytesSent, Backend backend,
            long connectMillis, long headMillis, long backendMillis, long totalMillis, Termination termination) {
        RequestRecord r = new RequestRecord();
        r.clientAddress = "127.0.0.1".getBytes(StandardCharsets.US_ASCII);
        r.begin(head, EPOCH_MILLIS, 1_000_000_000L);
        r.status = status;
        r.bytesSent = bytesSent;
        r.backend = backend;
        r.connectNanos = nanos(connectMillis);
        r.backendHeadNanos = nanos(headMillis);
        r.backendNanos = nanos(backendMillis);
        r.endNanos = r.startNanos + TimeUnit.MILLISECONDS.toNanos(totalMillis);
        r.termination = termination;
        return r;
    }

    private static long nanos(long millis) {
        return millis < 0 ? -1 : TimeUnit.MILLISECONDS.toNanos(millis);
    }
}
