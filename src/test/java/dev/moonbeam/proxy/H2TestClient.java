package dev.moonbeam.proxy;

import dev.moonbeam.h2.FrameFlags;
import dev.moonbeam.h2.FrameType;
import dev.moonbeam.h2.FrameWriter;
import dev.moonbeam.h2.HpackDecoder;
import dev.moonbeam.h2.HpackEncoder;
import dev.moonbeam.h2.HpackStatus;
import dev.moonbeam.h2.Http2Settings;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small blocking HTTP/2 client for end-to-end tests: TLS with ALPN h2, our own frame writer and
 * HPACK encoder for requests, frames read and decoded one by one. It gives back all the window
 * it is charged at once, so flow control never stalls it unless a test wants that. Also sends raw
 * frames, for conformance tests. Test-thread only.
 */
final class H2TestClient implements AutoCloseable {
    /** A frame as received. */
    record Frame(int type, int flags, int streamId, byte[] payload) {
        boolean has(int flag) {
            return (flags & flag) != 0;
        }

        int errorCode() {
            int at = type == FrameType.GOAWAY ? 4 : 0;
            return ByteBuffer.wrap(payload, at, 4).getInt();
        }
    }

    /** A response: its fields in order (pseudo ones included), body, and whether it ended cleanly. */
    record Response(int streamId, Map<String, String> fields, byte[] body, Integer resetCode) {
        int status() {
            return Integer.parseInt(fields.get(":status"));
        }

        String bodyText() {
            return new String(body, StandardCharsets.ISO_8859_1);
        }
    }

    final TlsClient tls;
    private final DataInputStream in;
    private final HpackEncoder encoder = new HpackEncoder(4096);
    private final HpackDecoder decoder = new HpackDecoder(4096, 1 << 20);
    private final ByteBuffer out = ByteBuffer.allocate(1 << 17);
    final List<Frame> received = new ArrayList<>();
    private int nextStreamId = 1;
    private long connectionWindow = 65_535;
    private int peerInitialWindow = 65_535;
    private final Map<Integer, Long> streamWindows = new java.util.HashMap<>();
    boolean autoWindowUpdate = true;

    H2TestClient(int port) throws IOException {
        this(port, true);
    }

    /** @param preface false to send nothing yet (a test that sends its own preface) */
    H2TestClient(int port, boolean preface) throws IOException {
        this(port, preface, TlsClient.MODERN);
    }

    H2TestClient(int port, boolean preface, List<String> protocols) throws IOException {
        tls = new TlsClient(port, null, protocols, List.of("h2", "http/1.1"));
        in = new DataInputStream(tls.in);
        if (preface) {
            out.put(dev.moonbeam.h2.FrameReader.PREFACE.getBytes(StandardCharsets.US_ASCII));
            FrameWriter.settings(out, new Http2Settings());
            flush();
        }
    }

    String applicationProtocol() {
        return tls.applicationProtocol();
    }

    /** Sends a request; {@code fields} are name, value pairs after the pseudo-header fields. Returns its stream id. */
    int request(String method, String path, byte[] body, String... fields) throws IOException {
        int streamId = nextStreamId;
        nextStreamId += 2;
        List<String> all = new ArrayList<>(List.of(":method", method, ":scheme", "https", ":path", path,
                ":authority", "h2.test"));
        all.addAll(List.of(fields));
        headers(streamId, body == null, all.toArray(new String[0]));
        if (body != null) {
            data(streamId, body, true);
        }
        return streamId;
    }

    Response get(String path) throws IOException {
        return response(request("GET", path, null));
    }

    /** HEADERS with the given name, value pairs as they are (no pseudo-fields added). */
    void headers(int streamId, boolean endStream, String... fields) throws IOException {
        nextStreamId = Math.max(nextStreamId, streamId + 2);
        ByteBuffer block = ByteBuffer.allocate(1 << 16);
        encoder.beginBlock(block);
        for (int i = 0; i < fields.length; i += 2) {
            byte[] name = fields[i].getBytes(StandardCharsets.ISO_8859_1);
            byte[] value = fields[i + 1].getBytes(StandardCharsets.ISO_8859_1);
            encoder.header(name, 0, name.length, value, 0, value.length, block);
        }
        block.flip();
        FrameWriter.headersHeader(out, streamId, block.remaining(),
                FrameFlags.END_HEADERS | (endStream ? FrameFlags.END_STREAM : 0));
        out.put(block);
        flush();
    }

    /** DATA within the windows the proxy gave (reading frames while it waits for more). */
    void data(int streamId, byte[] body, boolean endStream) throws IOException {
        int at = 0;
        do {
            int n = Math.min(16384, body.length - at);
            for (int waits = 0; n > 0 && Math.min(connectionWindow, streamWindow(streamId)) < n; waits++) {
                if (waits > 10_000) {
                    throw new IOException("no window for stream " + streamId);
                }
                next();
            }
            FrameWriter.dataHeader(out, streamId, n, endStream && at + n == body.length ? FrameFlags.END_STREAM : 0);
            out.put(body, at, n);
            connectionWindow -= n;
            streamWindows.put(streamId, streamWindow(streamId) - n);
            at += n;
            flush();
        } while (at < body.length);
    }

    private long streamWindow(int streamId) {
        return streamWindows.getOrDefault(streamId, (long) peerInitialWindow);
    }

    /** Raw bytes, for conformance tests. */
    void send(byte[] bytes) throws IOException {
        flush();
        tls.out.write(bytes);
        tls.out.flush();
    }

    void flush() throws IOException {
        out.flip();
        tls.out.write(out.array(), 0, out.limit());
        tls.out.flush();
        out.clear();
    }

    /** The next frame; acknowledges SETTINGS, tracks windows, gives back window, files stream frames. */
    Frame next() throws IOException {
        int length = in.readUnsignedByte() << 16 | in.readUnsignedByte() << 8 | in.readUnsignedByte();
        int type = in.readUnsignedByte();
        int flags = in.readUnsignedByte();
        int streamId = in.readInt() & 0x7FFF_FFFF;
        byte[] payload = new byte[length];
        in.readFully(payload);
        Frame frame = new Frame(type, flags, streamId, payload);
        received.add(frame);
        ByteBuffer view = ByteBuffer.wrap(payload);
        if (type == FrameType.SETTINGS && !frame.has(FrameFlags.ACK)) {
            while (view.remaining() >= 6) {
                int id = view.getShort() & 0xFFFF;
                long value = view.getInt() & 0xFFFF_FFFFL;
                if (id == Http2Settings.INITIAL_WINDOW_SIZE) {
                    peerInitialWindow = (int) value;
                }
            }
            FrameWriter.settingsAck(out);
            flush();
        } else if (type == FrameType.WINDOW_UPDATE) {
            int increment = view.getInt() & 0x7FFF_FFFF;
            if (streamId == 0) {
                connectionWindow += increment;
            } else {
                streamWindows.put(streamId, streamWindow(streamId) + increment);
            }
        } else if (type == FrameType.DATA && length > 0 && autoWindowUpdate) {
            FrameWriter.windowUpdate(out, 0, length);
            FrameWriter.windowUpdate(out, streamId, length);
            flush();
        }
        if (streamId != 0) {
            file(frame);
        }
        return frame;
    }

    private void file(Frame frame) {
        Partial target = streams.computeIfAbsent(frame.streamId, id -> new Partial());
        switch (frame.type) {
            case FrameType.HEADERS, FrameType.CONTINUATION -> {
                if (frame.type == FrameType.HEADERS) {
                    target.block.reset();
                    target.endStreamAfterBlock = frame.has(FrameFlags.END_STREAM);
                }
                target.block.write(frame.payload, 0, frame.payload.length);
                if (!frame.has(FrameFlags.END_HEADERS)) {
                    return; // the block goes on in CONTINUATION frames (RFC 9113 §4.3)
                }
                Map<String, String> decoded = decode(target.block.toByteArray());
                if (!(decoded.containsKey(":status") && decoded.get(":status").startsWith("1"))) {
                    target.fields.putAll(decoded); // 1xx are interim
                }
                if (target.endStreamAfterBlock) {
                    target.done = true;
                }
                return;
            }
            case FrameType.DATA -> target.body.write(frame.payload, 0, frame.payload.length);
            case FrameType.RST_STREAM -> {
                target.resetCode = frame.errorCode();
                target.done = true;
            }
            default -> { }
        }
        if (frame.has(FrameFlags.END_STREAM) && frame.type == FrameType.DATA) {
            target.done = true;
        }
    }

    /** What has arrived so far on one stream. */
    private static final class Partial {
        final Map<String, String> fields = new LinkedHashMap<>();
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        final ByteArrayOutputStream block = new ByteArrayOutputStream();
        boolean endStreamAfterBlock;
        Integer resetCode;
        boolean done;
    }

    private final Map<Integer, Partial> streams = new java.util.HashMap<>();

    /** Reads until stream {@code streamId} ends (END_STREAM or RST_STREAM), keeping other streams' frames for later calls. */
    Response response(int streamId) throws IOException {
        for (int frames = 0; frames < 100_000; frames++) {
            Partial partial = streams.get(streamId);
            if (partial != null && partial.done) {
                streams.remove(streamId);
                return new Response(streamId, partial.fields, partial.body.toByteArray(), partial.resetCode);
            }
            Frame frame = next();
            if (frame.type == FrameType.GOAWAY) {
                throw new IOException("GOAWAY code " + frame.errorCode() + " while waiting for stream " + streamId);
            }
        }
        throw new IOException("no end of stream " + streamId);
    }

    /** Reads frames until one of {@code type} arrives (or the connection ends: null). */
    Frame await(int type) throws IOException {
        try {
            for (int frames = 0; frames < 100_000; frames++) {
                Frame frame = next();
                if (frame.type == type) {
                    return frame;
                }
            }
        } catch (EOFException | java.net.SocketException e) {
            return null;
        }
        return null;
    }

    Map<String, String> decode(byte[] block) {
        Map<String, String> fields = new LinkedHashMap<>();
        HpackStatus status = decoder.decode(ByteBuffer.wrap(block), (name, no, nl, value, vo, vl, never) ->
                fields.merge(new String(name, no, nl, StandardCharsets.ISO_8859_1),
                        new String(value, vo, vl, StandardCharsets.ISO_8859_1), (a, b) -> a + ", " + b));
        if (status != HpackStatus.OK) {
            throw new IllegalStateException("HPACK " + status + ": " + decoder.lastError());
        }
        return fields;
    }

    /** True when the proxy ended the connection within the socket timeout. */
    boolean isClosedByPeer() {
        return tls.isClosedByPeer();
    }

    @Override
    public void close() throws IOException {
        tls.close();
    }
}
