package dev.moonbeam.h2;

import java.nio.ByteBuffer;

/**
 * What {@link FrameReader} found, one call per event, in wire order. Implemented by the HTTP/2
 * connection and called on its event-loop thread only, from inside {@link FrameReader#read}.
 *
 * <p>Buffers passed in are the reader's or the caller's and valid only during the call: copy what
 * must outlive it. A listener that decides the connection is finished (a flow-control or stream
 * state violation, a flood) calls {@link FrameReader#stop()}; no further call follows.
 *
 * <p>The reader checks framing only. Stream state (§5.1), stream id ordering (§5.1.1), flow-control
 * windows (§6.9) and SETTINGS acknowledgement timing are the listener's; it gets every id and
 * length it needs for them.
 */
public interface FrameListener {

    /**
     * A DATA frame on {@code streamId} has passed validation; {@link #data} calls for its bytes
     * follow. {@code flowControlledLength} is the whole frame payload including the Pad Length
     * octet and padding, the amount §6.9.1 charges against both the stream and the connection
     * window. It is known before any data arrives, so the window can be debited (and a
     * FLOW_CONTROL_ERROR raised) here, once per frame.
     */
    void dataFrameStart(int streamId, int flowControlledLength);

    /**
     * A piece of DATA payload, padding stripped: bytes {@code in[offset, offset + length)} at
     * absolute indexes. Delivered as the bytes arrive, never waiting for the whole frame, so a
     * frame may come in several pieces (a different number for each split of the input). Read
     * with absolute gets, {@code get(offset, dst)} or a duplicate; do not change {@code in}'s
     * limit (the reader sets its position after the call).
     *
     * <p>{@code endStream} is true only on the last piece of a frame with END_STREAM. Pieces have
     * {@code length > 0}, except one empty piece carrying {@code endStream} when a frame with
     * END_STREAM has no data octets.
     */
    void data(int streamId, ByteBuffer in, int offset, int length, boolean endStream);

    /**
     * A complete field block: the fragments of one HEADERS frame and its CONTINUATION frames
     * (§4.3), padding and priority fields removed, between {@code block}'s position and limit.
     * {@code endStream} is the HEADERS frame's END_STREAM flag. The buffer is reused.
     *
     * <p>Decode every block, even for a stream that was reset, including after a
     * {@link #streamError} for the same HEADERS frame: the HPACK context depends on it (§4.3).
     */
    void headers(int streamId, ByteBuffer block, boolean endStream);

    /**
     * A valid PRIORITY frame (§6.3). Its signal is deprecated (§5.3.2) and MoonBeam ignores it;
     * it does not change stream state (§5.1), so the default does nothing.
     */
    default void priority(int streamId, int dependency, boolean exclusive, int weight) {}

    /** RST_STREAM (§6.4); unknown codes arrive as {@link ErrorCode#INTERNAL_ERROR} (§7). */
    void rstStream(int streamId, ErrorCode errorCode);

    /**
     * A SETTINGS frame with validated values (§6.5.2); {@link Http2Settings#isSet} marks the
     * identifiers it carried, unknown identifiers are already dropped. Apply with
     * {@link Http2Settings#apply}, then send SETTINGS ACK (§6.5.3). The holder is reused.
     */
    void settings(Http2Settings changes);

    /** The peer acknowledged our SETTINGS (§6.5.3). */
    void settingsAck();

    /** PING (§6.7): answer {@code ack == false} with a PING ACK of the same payload. */
    void ping(long payload, boolean ack);

    /** GOAWAY (§6.8); debug data is skipped. Unknown codes arrive as INTERNAL_ERROR (§7). */
    void goAway(int lastStreamId, ErrorCode errorCode);

    /** WINDOW_UPDATE (§6.9) with {@code 1 <= increment <= 2^31-1}; overflow checks are the listener's. */
    void windowUpdate(int streamId, int increment);

    /** A frame of a type this reader does not know, skipped unread (§4.1, §5.5). */
    default void unknownFrame(int type, int streamId, int length) {}

    /**
     * A stream error (§5.4.2): send RST_STREAM with {@code error.code()} on {@code streamId}. The
     * reader has skipped what it must and carries on.
     */
    void streamError(int streamId, FrameError error);

    /**
     * A connection error (§5.4.1): send GOAWAY with {@code error.code()} and close. The reader is
     * in its terminal ERROR state and reports nothing more.
     */
    void connectionError(FrameError error);
}
