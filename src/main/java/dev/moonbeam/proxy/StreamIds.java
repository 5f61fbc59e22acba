package dev.moonbeam.proxy;

/**
 * Recent stream ids of one HTTP/2 connection, to tell the two kinds of frame for a stream that is
 * no longer open (RFC 9113 §5.1): frames on a stream <em>we</em> reset may still be in flight and
 * are ignored; HEADERS on a stream that was opened and closed is STREAM_CLOSED; an id below the
 * highest that was never opened is PROTOCOL_ERROR (§5.1.1). Bounded rings: an id old enough to
 * have left them is treated as never opened, which only makes the error code stricter.
 *
 * <p>Loop-owned, one per {@link Http2Connection}, held by its {@link Http2StreamTable}.
 */
final class StreamIds {
    private final int[] opened = new int[256];
    private final int[] resetByUs = new int[64];
    private int openedNext;
    private int resetNext;

    void opened(int streamId) {
        opened[openedNext++ % opened.length] = streamId;
    }

    void resetByUs(int streamId) {
        resetByUs[resetNext++ % resetByUs.length] = streamId;
    }

    boolean wasOpened(int streamId) {
        return contains(opened, streamId);
    }

    boolean wasResetByUs(int streamId) {
        return contains(resetByUs, streamId);
    }

    private static boolean contains(int[] ids, int streamId) {
        for (int id : ids) {
            if (id == streamId) {
                return true;
            }
        }
        return false;
    }
}
