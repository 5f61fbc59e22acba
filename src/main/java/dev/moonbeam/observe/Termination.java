package dev.moonbeam.observe;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Why a request ended, in the words the access log ({@code termination=}) and the metric label
 * ({@code moonbeam_request_terminations_total{reason}}) use. docs/operations.md says what to do
 * about each.
 */
public enum Termination {
    /** The backend's whole response (or MoonBeam's own redirect) reached the client. */
    COMPLETED(false),
    /** The client closed or reset its connection before the response was complete (logged as 499). */
    CLIENT_CLOSED(false),
    /** The client stalled: its head or body did not arrive in time (408), or it stopped reading the response. */
    CLIENT_TIMEOUT(false),
    /** The request was malformed or not something a reverse proxy serves (400, 501, 505). */
    BAD_REQUEST(false),
    /** The request was over a configured size limit (413, 414, 431). */
    LIMIT_REACHED(false),
    /** No backend was up (503 without trying one). */
    NO_BACKEND(false),
    /** Every eligible backend was at max_connections and the queue was full (503). */
    QUEUE_FULL(false),
    /** The request waited its whole queue.timeout for a backend slot (503). */
    QUEUE_TIMEOUT(false),
    /** Connecting failed or timed out on every backend tried (502). */
    BACKEND_CONNECT_FAILED(true),
    /** The backend closed or reset the connection before its response was complete (502, or a cut response). */
    BACKEND_RESET(true),
    /** The backend did not answer, or stopped sending, within timeouts.backend_response (504, or a cut response). */
    BACKEND_TIMEOUT(true),
    /** The backend's response was not valid HTTP/1.1 (502, or a cut response). */
    BACKEND_INVALID_RESPONSE(true),
    /**
     * MoonBeam had no direct buffer memory left for the request (-XX:MaxDirectMemorySize used up):
     * 503, or a cut response. Logged as an error with what is in use and counted in
     * moonbeam_buffer_allocation_failures_total as well.
     */
    OUT_OF_BUFFER_MEMORY(false),
    /** MoonBeam was stopping: the request was still running when timeouts.shutdown_drain ran out (503). */
    SHUTDOWN(false);

    private final boolean backendFault;
    private final String label;
    private final byte[] labelBytes;

    Termination(boolean backendFault) {
        this.backendFault = backendFault;
        this.label = name().toLowerCase(Locale.ROOT);
        this.labelBytes = label.getBytes(StandardCharsets.US_ASCII);
    }

    /** True when the backend misbehaved: counted against it in its error figures. */
    public boolean isBackendFault() {
        return backendFault;
    }

    /** The plain word for logs and metrics, e.g. {@code queue_timeout}. */
    public String label() {
        return label;
    }

    byte[] labelBytes() {
        return labelBytes;
    }

    /** The reason for a request MoonBeam refused with {@code status} before it reached a backend. */
    public static Termination ofRejection(int status) {
        return switch (status) {
            case 408 -> CLIENT_TIMEOUT;
            case 413, 414, 431 -> LIMIT_REACHED;
            default -> BAD_REQUEST;
        };
    }
}
