package dev.moonbeam.h2;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Records reader events as strings, split-independent: the DATA pieces of one frame are joined
 * into one {@code DATA} event, so every split of the same input must give the same list. Checks
 * the piece contract on the way (violations must stay empty) and keeps flow-control totals.
 */
class RecordingListener implements FrameListener {
    private final List<String> events = new ArrayList<>();
    private final List<String> violations = new ArrayList<>();
    /** Sum of flowControlledLength per stream, and under key 0 for the connection. */
    private final Map<Integer, Long> flowControlled = new HashMap<>();
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private int pendingStream;
    private boolean frameOpen;
    private boolean pendingEnd;
    private int pieces;

    List<String> events() {
        flush();
        return events;
    }

    List<String> violations() {
        return violations;
    }

    /** DATA pieces delivered so far (depends on the split). */
    int pieces() {
        return pieces;
    }

    long flowControlled(int streamId) {
        return flowControlled.getOrDefault(streamId, 0L);
    }

    @Override
    public void dataFrameStart(int streamId, int flowControlledLength) {
        flush();
        events.add("DATA_START " + streamId + " fc=" + flowControlledLength);
        flowControlled.merge(streamId, (long) flowControlledLength, Long::sum);
        flowControlled.merge(0, (long) flowControlledLength, Long::sum);
        pendingStream = streamId;
        frameOpen = true;
        pendingEnd = false;
    }

    @Override
    public void data(int streamId, ByteBuffer in, int offset, int length, boolean endStream) {
        pieces++;
        if (!frameOpen) {
            violations.add("data without dataFrameStart");
        }
        if (streamId != pendingStream) {
            violations.add("data on stream " + streamId + " in a frame of " + pendingStream);
        }
        if (pendingEnd) {
            violations.add("data after endStream");
        }
        if (length == 0 && !endStream) {
            violations.add("empty piece without endStream");
        }
        if (offset < 0 || offset + length > in.limit()) {
            violations.add("piece outside the buffer");
            return;
        }
        for (int i = 0; i < length; i++) {
            pending.write(in.get(offset + i));
        }
        pendingEnd = endStream;
    }

    @Override
    public void headers(int streamId, ByteBuffer block, boolean endStream) {
        add("HEADERS " + streamId + " " + text(block) + (endStream ? " end" : ""));
    }

    @Override
    public void priority(int streamId, int dependency, boolean exclusive, int weight) {
        add("PRIORITY " + streamId + " dep=" + dependency + (exclusive ? " exclusive" : "") + " weight=" + weight);
    }

    @Override
    public void rstStream(int streamId, ErrorCode errorCode) {
        add("RST_STREAM " + streamId + " " + errorCode);
    }

    @Override
    public void settings(Http2Settings changes) {
        add("SETTINGS " + changes);
    }

    @Override
    public void settingsAck() {
        add("SETTINGS_ACK");
    }

    @Override
    public void ping(long payload, boolean ack) {
        add("PING " + String.format("%016x", payload) + (ack ? " ack" : ""));
    }

    @Override
    public void goAway(int lastStreamId, ErrorCode errorCode) {
        add("GOAWAY " + lastStreamId + " " + errorCode);
    }

    @Override
    public void windowUpdate(int streamId, int increment) {
        add("WINDOW_UPDATE " + streamId + " " + increment);
    }

    @Override
    public void unknownFrame(int type, int streamId, int length) {
        add("UNKNOWN " + FrameType.name(type) + " " + streamId + " len=" + length);
    }

    @Override
    public void streamError(int streamId, FrameError error) {
        add("STREAM_ERROR " + streamId + " " + error.code() + " " + error);
    }

    @Override
    public void connectionError(FrameError error) {
        add("CONNECTION_ERROR " + error.code() + " " + error);
    }

    private void add(String event) {
        flush();
        events.add(event);
    }

    /** Ends the DATA event in progress, if any. */
    private void flush() {
        if (!frameOpen) {
            return;
        }
        if (pending.size() > 0 || pendingEnd) {
            events.add("DATA " + pendingStream + " " + text(ByteBuffer.wrap(pending.toByteArray()))
                    + (pendingEnd ? " end" : ""));
        }
        pending.reset();
        frameOpen = false;
        pendingEnd = false;
    }

    /** Quoted, printable ASCII kept, everything else as {@code \xNN}; long runs abbreviated. */
    static String text(ByteBuffer bytes) {
        StringBuilder out = new StringBuilder("\"");
        int length = bytes.remaining();
        for (int i = 0; i < length; i++) {
            if (length > 64 && i == 32) {
                out.append("...(").append(length).append(")...");
                i = length - 16;
            }
            int b = bytes.get(bytes.position() + i) & 0xFF;
            if (b >= 0x20 && b < 0x7F && b != '"' && b != '\\') {
                out.append((char) b);
            } else {
                out.append(String.format("\\x%02x", b));
            }
        }
        return out.append('"').toString();
    }
}
