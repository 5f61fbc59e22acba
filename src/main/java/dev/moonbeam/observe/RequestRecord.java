package dev.moonbeam.observe;

import dev.moonbeam.balance.Backend;
import dev.moonbeam.http.HttpHead;

/**
 * What one finished request looked like, for the access log and metrics. One instance per client
 * connection, refilled for every request, so recording allocates nothing. Valid only during
 * {@link RequestListener#requestFinished}; listeners copy what they keep.
 *
 * <p>Loop-owned.
 */
public final class RequestRecord {
    public static final int CLIENT_CLOSED_REQUEST = 499;

    /** The client's address as text bytes (e.g. {@code 127.0.0.1}); set once per connection. */
    public byte[] clientAddress;
    public boolean tls;
    /** The request came as an HTTP/2 stream (its head is the HTTP/1.1 form the backend saw). */
    public boolean http2;
    /** The request head, or null when the request could not be parsed (a 400 before any head). */
    public HttpHead request;
    public long startEpochMillis;
    public long startNanos;
    public long endNanos;
    /** Status sent to the client, or 499 when the client left first. */
    public int status;
    /** Bytes of response (head and body) handed to the client for this request. */
    public long bytesSent;
    /** The backend that served it, or null when none was reached. */
    public Backend backend;
    /** Time to connect to the backend, or -1 for a pooled connection. */
    public long connectNanos;
    /** From sending the request to the backend until its response head arrived, or -1. */
    public long backendHeadNanos;
    /** From sending the request to the backend until the exchange ended, or -1. */
    public long backendNanos;
    /** Why the request ended. */
    public Termination termination;
    /** Time spent waiting in the backend queue, or -1 when the request did not wait. */
    public long queueNanos;

    /** Starts a new record for a request that begins now. */
    public void begin(HttpHead head, long epochMillis, long nanos) {
        request = head;
        startEpochMillis = epochMillis;
        startNanos = nanos;
        endNanos = nanos;
        status = 0;
        bytesSent = 0;
        backend = null;
        connectNanos = -1;
        backendHeadNanos = -1;
        backendNanos = -1;
        termination = null;
        queueNanos = -1;
    }

    public long totalNanos() {
        return endNanos - startNanos;
    }
}
