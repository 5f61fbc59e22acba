package dev.moonbeam.proxy;

import dev.moonbeam.h2.ErrorCode;
import dev.moonbeam.h2.FrameFlags;
import dev.moonbeam.h2.FrameWriter;
import dev.moonbeam.h2.HpackEncoder;
import dev.moonbeam.h2.Http2Settings;
import dev.moonbeam.h2.ResponseFields;
import dev.moonbeam.h2.TrailerLines;
import dev.moonbeam.http.HttpHead;
import dev.moonbeam.loop.BufferPool;
import dev.moonbeam.loop.Transport;
import java.io.IOException;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;

/**
 * What an HTTP/2 connection sends: one output buffer that every stream's frames share, the HPACK
 * encoder, and the client's connection-level window (RFC 9113 §6.9). {@link #CONTROL_RESERVE}
 * bytes are always kept for control frames, so acknowledgements, resets and END_STREAM fit even
 * when responses filled the rest. A header block too large for the room now waits in its stream
 * (the HPACK state already counts it) and goes out first when room frees.
 *
 * <p>Loop-owned, one per {@link Http2Connection}.
 */
final class Http2Output {
    /** Output room kept for control frames (acks, resets, window updates, GOAWAY, END_STREAM). */
    static final int CONTROL_RESERVE = 1024;
    /** Room a response head may take before the exchange is told to write it. */
    private static final int HEAD_ROOM = 8192;

    private final Http2Connection connection;
    private final Worker worker;
    private final Http2Settings peer;
    private final HpackEncoder encoder;
    private final ResponseFields responseFields;
    private ByteBuffer out;
    /** Bytes we may still send on the connection (the client's connection window). */
    private long sendWindow = Http2Settings.DEFAULT_INITIAL_WINDOW_SIZE;
    /** Where the flags byte of the last DATA frame queued is, so END_STREAM can join it; -1 if none. */
    private int lastDataFlagsAt = -1;
    private int lastDataStream;
    private int lastDataEnd;
    /** After a connection error's GOAWAY nothing more is written (RFC 9113 §5.4.1). */
    private boolean stopped;
    /** A stream found no room since the last {@link #takeRoomWanted}. */
    private boolean roomWanted;

    Http2Output(Http2Connection connection, Worker worker, Http2Settings peer, int tableSize) {
        this.connection = connection;
        this.worker = worker;
        this.peer = peer;
        this.encoder = new HpackEncoder(tableSize);
        this.responseFields = worker.http2ResponseFields();
    }

    // ---- room ----

    int room() {
        return out == null ? buffers().bufferSize() : out.remaining();
    }

    boolean hasQueued() {
        return out != null && out.position() > 0;
    }

    boolean roomForHead() {
        if (room() >= HEAD_ROOM + CONTROL_RESERVE) {
            return true;
        }
        roomWanted = true;
        return false;
    }

    /** DATA payload that fits now: the connection window and the output buffer, less room for frame headers. */
    long dataRoom() {
        int room = room() - CONTROL_RESERVE - 2 * FrameWriter.FRAME_HEADER_BYTES;
        if (room <= 0) {
            roomWanted = true; // a wait for the connection window ends with its WINDOW_UPDATE instead
        }
        return Math.max(0, Math.min(sendWindow, room));
    }

    /**
     * Whether a stream found no output room since the last call: the connection then lets every
     * stream try again once bytes left.
     */
    boolean takeRoomWanted() {
        boolean wanted = roomWanted;
        roomWanted = false;
        return wanted;
    }

    boolean isSendBlocked() {
        return sendWindow <= 0 || hasQueued();
    }

    /** @return false when the increment overflows the window (a FLOW_CONTROL_ERROR, §6.9.1) */
    boolean windowUpdate(int increment) {
        sendWindow += increment;
        return sendWindow <= Http2Settings.MAX_WINDOW_SIZE;
    }

    void stop() {
        stopped = true;
    }

    // ---- header blocks ----

    /**
     * HEADERS (and CONTINUATION) for a response head.
     *
     * @return bytes the head takes on the wire, or -1 when it cannot be sent (the connection failed)
     */
    int headers(Http2Stream stream, HttpHead response, boolean endStream) {
        if (stopped) {
            return -1;
        }
        ByteBuffer block = worker.http2BlockScratch();
        block.clear();
        try {
            encoder.beginBlock(block);
            encoder.status(response.statusCode(), block);
            responseFields.encode(response, encoder, block);
        } catch (BufferOverflowException tooLarge) {
            // Larger than any head the response parser lets through; the encoder's table may now
            // hold entries the client never saw, so the connection cannot go on.
            connection.fail(ErrorCode.INTERNAL_ERROR, "response head does not fit " + block.capacity() + " bytes of HPACK");
            return -1;
        }
        block.flip();
        int length = block.remaining();
        queueBlock(stream, block, endStream);
        return length + FrameWriter.FRAME_HEADER_BYTES;
    }

    /**
     * Trailer fields of a chunked response as a HEADERS frame that ends the stream (RFC 9113 §8.1).
     *
     * @return false when none were sent (the caller ends the stream with empty DATA)
     */
    boolean trailers(Http2Stream stream, byte[] lines, int length) {
        if (stopped || stream.hasPendingBlock()) {
            return false;
        }
        ByteBuffer block = worker.http2BlockScratch();
        block.clear();
        encoder.beginBlock(block);
        int fields = TrailerLines.encode(lines, length, encoder, block, worker.http2NameScratch());
        block.flip();
        if (fields == 0) {
            return false;
        }
        queueBlock(stream, block, true);
        return true;
    }

    /** An error status as a bodiless response that ends the stream. */
    boolean errorHeaders(int streamId, int status) {
        if (stopped || room() < 64 + CONTROL_RESERVE / 2) {
            return false;
        }
        ByteBuffer target = out();
        int start = target.position();
        int blockStart = start + FrameWriter.FRAME_HEADER_BYTES;
        target.position(blockStart);
        encoder.beginBlock(target);
        encoder.status(status, target);
        int length = target.position() - blockStart;
        target.position(start);
        FrameWriter.headersHeader(target, streamId, length, FrameFlags.END_HEADERS | FrameFlags.END_STREAM);
        target.position(blockStart + length);
        lastDataFlagsAt = -1;
        return true;
    }

    /** Sends a block that waited for room, once there is room. */
    boolean sendPendingBlock(Http2Stream stream) {
        if (!stream.hasPendingBlock() || stopped) {
            return false;
        }
        if (!blockFits(stream.pendingBlock().remaining())) {
            roomWanted = true;
            return false;
        }
        emitBlock(stream.id, stream.pendingBlock(), stream.pendingEndStream());
        stream.blockSent();
        return true;
    }

    void peerTableSize(long size) {
        encoder.setPeerMaxTableSize((int) Math.min(Integer.MAX_VALUE, size));
    }

    private void queueBlock(Http2Stream stream, ByteBuffer block, boolean endStream) {
        if (!stream.hasPendingBlock() && blockFits(block.remaining())) {
            emitBlock(stream.id, block, endStream);
        } else {
            stream.holdBlock(block, endStream);
            roomWanted = true;
        }
    }

    private boolean blockFits(int length) {
        int frames = Math.max(1, (length + peer.maxFrameSize() - 1) / peer.maxFrameSize());
        return room() - CONTROL_RESERVE >= length + frames * FrameWriter.FRAME_HEADER_BYTES;
    }

    /** HEADERS, then CONTINUATION frames for what exceeds the client's frame size (RFC 9113 §4.3). */
    private void emitBlock(int streamId, ByteBuffer block, boolean endStream) {
        ByteBuffer target = out();
        boolean first = true;
        do {
            int n = Math.min(block.remaining(), peer.maxFrameSize());
            boolean last = n == block.remaining();
            if (first) {
                int flags = (last ? FrameFlags.END_HEADERS : 0) | (endStream ? FrameFlags.END_STREAM : 0);
                FrameWriter.headersHeader(target, streamId, n, flags);
            } else {
                FrameWriter.continuationHeader(target, streamId, n, last ? FrameFlags.END_HEADERS : 0);
            }
            int limit = block.limit();
            block.limit(block.position() + n);
            target.put(block);
            block.limit(limit);
            first = false;
        } while (block.hasRemaining());
        lastDataFlagsAt = -1;
    }

    // ---- DATA ----

    /** DATA frames for {@code length} bytes at {@code source}'s position (advanced); returns the bytes sent. */
    int data(int streamId, ByteBuffer source, int length) {
        if (stopped) {
            source.position(source.position() + length);
            return length;
        }
        ByteBuffer target = out();
        int sent = 0;
        while (sent < length) {
            int n = Math.min(length - sent, peer.maxFrameSize());
            lastDataFlagsAt = target.position() + 4; // length (3), type (1), then the flags byte
            lastDataStream = streamId;
            FrameWriter.dataHeader(target, streamId, n, 0);
            int limit = source.limit();
            source.limit(source.position() + n);
            target.put(source);
            source.limit(limit);
            sent += n;
        }
        sendWindow -= sent;
        lastDataEnd = target.position();
        return sent;
    }

    /**
     * Ends a stream: on its last DATA frame when that is still the last thing queued (one frame
     * less per response), else with an empty DATA frame.
     */
    void endStream(Http2Stream stream) {
        if (stopped) {
            return;
        }
        if (stream.hasPendingBlock()) {
            stream.endWithPendingBlock(); // e.g. Content-Length: 0 behind a head that waits for room
            return;
        }
        int streamId = stream.id;
        ByteBuffer target = out();
        if (lastDataStream == streamId && lastDataFlagsAt >= 0 && lastDataEnd == target.position()) {
            target.put(lastDataFlagsAt, (byte) (target.get(lastDataFlagsAt) | FrameFlags.END_STREAM));
        } else {
            FrameWriter.dataHeader(target, streamId, 0, FrameFlags.END_STREAM);
        }
        lastDataFlagsAt = -1;
    }

    // ---- control frames ----

    void rstStream(int streamId, ErrorCode code) {
        if (!stopped && room() >= FrameWriter.RST_STREAM_BYTES) {
            FrameWriter.rstStream(out(), streamId, code);
            lastDataFlagsAt = -1;
        }
    }

    /** Our SETTINGS (§3.4: the server preface) and the connection window we give. */
    void preface(Http2Settings ours, int connectionWindowIncrement) {
        FrameWriter.settings(out(), ours);
        FrameWriter.windowUpdate(out(), 0, connectionWindowIncrement);
    }

    void settingsAck() {
        if (!stopped && room() >= FrameWriter.SETTINGS_ACK_BYTES) {
            FrameWriter.settingsAck(out());
            lastDataFlagsAt = -1;
        }
    }

    void pingAck(long payload) {
        if (!stopped && room() >= FrameWriter.PING_BYTES) {
            FrameWriter.pingAck(out(), payload);
            lastDataFlagsAt = -1;
        }
    }

    /** @return true when there was room for it */
    boolean windowUpdateFrame(int streamId, int increment) {
        if (stopped || room() < FrameWriter.WINDOW_UPDATE_BYTES) {
            return false;
        }
        FrameWriter.windowUpdate(out(), streamId, increment);
        lastDataFlagsAt = -1;
        return true;
    }

    /** GOAWAY, when it fits whole: cutting a queued frame to make room would garble what the client reads. */
    void goAway(int lastStreamId, ErrorCode code) {
        if (room() >= FrameWriter.GOAWAY_BYTES) {
            FrameWriter.goAway(out(), lastStreamId, code);
            lastDataFlagsAt = -1;
        }
    }

    // ---- the socket ----

    /** Writes what is queued; true if any byte moved. */
    boolean flush(Transport transport) throws IOException {
        boolean moved = false;
        if (out != null && out.position() > 0) {
            lastDataFlagsAt = -1; // compact moves what is left: the last frame can no longer be amended
            out.flip();
            try {
                moved = transport.write(out) > 0;
            } finally {
                out.compact();
            }
        }
        transport.flush();
        return moved;
    }

    /** Between events an empty output holds no buffer. */
    void releaseIfEmpty() {
        out = buffers().releaseIfEmpty(out);
    }

    void release() {
        if (out != null) {
            buffers().releaseZeroed(out);
            out = null;
        }
    }

    private ByteBuffer out() {
        if (out == null) {
            out = buffers().acquire();
        }
        return out;
    }

    private BufferPool buffers() {
        return worker.loop().buffers();
    }
}
