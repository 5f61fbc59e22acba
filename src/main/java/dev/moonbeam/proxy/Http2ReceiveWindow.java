package dev.moonbeam.proxy;

/**
 * The connection-level receive window of one HTTP/2 connection (RFC 9113 §6.9.1): request body
 * bytes the client may still send on all streams together, and the credit we owe it for bytes
 * that have left our buffers (handed to a backend, dropped with a stream, or never kept).
 * Credit comes back only as bytes leave, so a client that uploads on many streams to slow backends
 * holds at most {@link #SIZE} bytes of our memory. Stream windows are the streams' own
 * ({@link Http2Stream#receiveWindow}).
 *
 * <p>Loop-owned, one per {@link Http2Connection}; debited by {@link Http2Inbound}, credited by
 * {@link Http2StreamTable}.
 */
final class Http2ReceiveWindow {
    /** The window we give: announced in the preface, restored by WINDOW_UPDATE as credit is paid. */
    static final int SIZE = 1 << 20;

    /** Body bytes the client may still send before we give credit. */
    private long window = SIZE;
    /** Bytes gone from our buffers and not yet returned to the client. */
    private int owed;

    /**
     * Charges a DATA frame's flow-controlled length.
     *
     * @return false when the client sent beyond the window (a FLOW_CONTROL_ERROR, §6.9.1)
     */
    boolean debit(int flowControlledLength) {
        window -= flowControlledLength;
        return window >= 0;
    }

    /** Bytes that left our buffers (or were never kept): the client gets them back. */
    void owe(int bytes) {
        owed += bytes;
    }

    /**
     * WINDOW_UPDATE on stream 0 once a quarter of the window is owed: fewer, larger updates.
     *
     * @return true when one was queued
     */
    boolean sendCredit(Http2Output output) {
        if (owed >= SIZE / 4 && output.windowUpdateFrame(0, owed)) {
            window += owed;
            owed = 0;
            return true;
        }
        return false;
    }
}
