package dev.moonbeam.h2;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Test sink: records every field as strings (ISO-8859-1, byte for byte), plus hex helpers. */
final class HpackRecorder implements HpackSink {
    /** One delivered field. */
    record Field(String name, String value, boolean neverIndexed) {
        static Field of(String name, String value) {
            return new Field(name, value, false);
        }

        @Override
        public String toString() {
            return name + ": " + value + (neverIndexed ? " (never indexed)" : "");
        }
    }

    final List<Field> fields = new ArrayList<>();

    @Override
    public void header(byte[] name, int nameOff, int nameLen, byte[] value, int valueOff, int valueLen,
            boolean neverIndexed) {
        fields.add(new Field(new String(name, nameOff, nameLen, StandardCharsets.ISO_8859_1),
                new String(value, valueOff, valueLen, StandardCharsets.ISO_8859_1), neverIndexed));
    }

    static byte[] hex(String text) {
        String clean = text.replaceAll("\\s", "");
        byte[] out = new byte[clean.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Integer.parseInt(clean.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }

    static String hex(ByteBuffer flipped) {
        StringBuilder sb = new StringBuilder();
        for (int i = flipped.position(); i < flipped.limit(); i++) {
            sb.append(String.format("%02x", flipped.get(i) & 0xff));
        }
        return sb.toString();
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** The decoder's dynamic table, newest first, as "name: value" strings. */
    static List<String> table(HpackDecoder decoder) {
        List<String> entries = new ArrayList<>();
        for (int i = 1; i <= decoder.tableLength(); i++) {
            entries.add(new String(decoder.tableName(i), StandardCharsets.ISO_8859_1) + ": "
                    + new String(decoder.tableValue(i), StandardCharsets.ISO_8859_1));
        }
        return entries;
    }
}
