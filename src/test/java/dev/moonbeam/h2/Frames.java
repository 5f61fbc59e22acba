package dev.moonbeam.h2;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Test-side frame builder, written from RFC 9113 §4.1 independently of {@link FrameWriter} so
 * the reader is not tested against the writer's own mistakes.
 */
final class Frames {
    /** Payload of the PING every table case ends with, to show the reader carried on. */
    static final long SENTINEL_PING = 0x1122_3344_5566_7788L;

    private Frames() {}

    static byte[] preface() {
        return ascii(FrameReader.PREFACE);
    }

    /** Preface and an empty SETTINGS: what every server-side case starts with. */
    static byte[] start() {
        return concat(preface(), settings());
    }

    /** A frame whose length field matches its payload. */
    static byte[] frame(int type, int flags, int streamId, byte[] payload) {
        return concat(header(payload.length, type, flags, streamId), payload);
    }

    /** A frame header alone, with any length field (the payload may follow or not). */
    static byte[] header(int length, int type, int flags, int streamId) {
        return new byte[] {
            (byte) (length >>> 16), (byte) (length >>> 8), (byte) length, (byte) type, (byte) flags,
            (byte) (streamId >>> 24), (byte) (streamId >>> 16), (byte) (streamId >>> 8), (byte) streamId
        };
    }

    /** SETTINGS from identifier/value pairs. */
    static byte[] settings(long... idValue) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < idValue.length; i += 2) {
            out.writeBytes(new byte[] {(byte) (idValue[i] >>> 8), (byte) idValue[i]});
            out.writeBytes(int32((int) idValue[i + 1]));
        }
        return frame(FrameType.SETTINGS, 0, 0, out.toByteArray());
    }

    static byte[] ping(long payload) {
        return frame(FrameType.PING, 0, 0, concat(int32((int) (payload >>> 32)), int32((int) payload)));
    }

    static byte[] sentinel() {
        return ping(SENTINEL_PING);
    }

    static byte[] int32(int value) {
        return new byte[] {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
    }

    static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte) values[i];
        }
        return out;
    }

    static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    static byte[] zeros(int count) {
        return new byte[count];
    }

    static byte[] filled(int count, char c) {
        byte[] out = new byte[count];
        java.util.Arrays.fill(out, (byte) c);
        return out;
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }
}
