package dev.moonbeam.h2;

import static dev.moonbeam.h2.FrameFlags.ACK;
import static dev.moonbeam.h2.FrameFlags.END_HEADERS;
import static dev.moonbeam.h2.FrameFlags.END_STREAM;
import static dev.moonbeam.h2.FrameFlags.PADDED;
import static dev.moonbeam.h2.FrameFlags.PRIORITY;
import static dev.moonbeam.h2.FrameType.CONTINUATION;
import static dev.moonbeam.h2.FrameType.DATA;
import static dev.moonbeam.h2.FrameType.GOAWAY;
import static dev.moonbeam.h2.FrameType.HEADERS;
import static dev.moonbeam.h2.FrameType.PING;
import static dev.moonbeam.h2.FrameType.PUSH_PROMISE;
import static dev.moonbeam.h2.FrameType.RST_STREAM;
import static dev.moonbeam.h2.FrameType.SETTINGS;
import static dev.moonbeam.h2.FrameType.WINDOW_UPDATE;
import static dev.moonbeam.h2.Frames.ascii;
import static dev.moonbeam.h2.Frames.bytes;
import static dev.moonbeam.h2.Frames.concat;
import static dev.moonbeam.h2.Frames.frame;
import static dev.moonbeam.h2.Frames.header;
import static dev.moonbeam.h2.Frames.int32;
import static dev.moonbeam.h2.Frames.settings;
import static dev.moonbeam.h2.Frames.zeros;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every framing rule of RFC 9113 §4–§6 the reader owns, one row each, plus every valid frame
 * type: after the preface and an empty SETTINGS, the row's frames and then a sentinel PING. A row
 * ending in a connection error must report nothing after it; any other row must go on to report
 * the sentinel. Each row is fed whole, split at every offset, one byte at a time and through
 * small pipes, and must give the same events every way.
 */
class FrameReaderRulesTest {
    private static final String SENTINEL = "PING 1122334455667788";
    private static final int MAX = Http2Settings.DEFAULT_MAX_FRAME_SIZE;
    private static final byte[] BIG = Frames.filled(MAX, 'x');

    /** One table row; {@code expected} omits the leading SETTINGS and the trailing sentinel/status. */
    record Case(String name, Feed.Setup setup, byte[] input, List<String> expected) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> rules() {
        return Stream.of(
            // §4.2: judged on the header, before a payload that never comes.
            server("DATA over MAX_FRAME_SIZE", header(MAX + 1, DATA, 0, 1), conn(FrameError.FRAME_TOO_LARGE)),
            server("HEADERS over MAX_FRAME_SIZE", header(MAX + 1, HEADERS, END_HEADERS, 1), conn(FrameError.FRAME_TOO_LARGE)),
            server("SETTINGS over MAX_FRAME_SIZE", header(MAX + 2, SETTINGS, 0, 0), conn(FrameError.FRAME_TOO_LARGE)),
            server("unknown type over MAX_FRAME_SIZE", header(MAX + 1, 0x20, 0, 0), conn(FrameError.FRAME_TOO_LARGE)),
            server("length field at 2^24-1", header(0xFF_FFFF, DATA, 0, 1), conn(FrameError.FRAME_TOO_LARGE)),
            server("DATA of exactly MAX_FRAME_SIZE", frame(DATA, END_STREAM, 1, BIG),
                    "DATA_START 1 fc=16384", "DATA 1 " + RecordingListener.text(ByteBuffer.wrap(BIG)) + " end"),
            server("unknown type of exactly MAX_FRAME_SIZE", frame(0x20, 0, 1, BIG), "UNKNOWN 0x20 1 len=16384"),

            // §6.1 DATA
            server("DATA", frame(DATA, 0, 1, ascii("hello")), "DATA_START 1 fc=5", "DATA 1 \"hello\""),
            server("DATA with END_STREAM", frame(DATA, END_STREAM, 3, ascii("hi")), "DATA_START 3 fc=2", "DATA 3 \"hi\" end"),
            server("DATA padded", frame(DATA, PADDED, 1, bytes(3, 'a', 'b', 0, 0, 0)), "DATA_START 1 fc=6", "DATA 1 \"ab\""),
            server("DATA non-zero padding is ignored", frame(DATA, PADDED, 1, bytes(2, 'a', 9, 9)), "DATA_START 1 fc=4", "DATA 1 \"a\""),
            server("DATA padding up to the Pad Length", frame(DATA, PADDED | END_STREAM, 1, bytes(2, 0, 0)),
                    "DATA_START 1 fc=3", "DATA 1 \"\" end"),
            server("DATA empty with END_STREAM", frame(DATA, END_STREAM, 1, zeros(0)), "DATA_START 1 fc=0", "DATA 1 \"\" end"),
            server("DATA empty", frame(DATA, 0, 1, zeros(0)), "DATA_START 1 fc=0"),
            server("DATA undefined flags are ignored", frame(DATA, 0xF6, 1, ascii("u")), "DATA_START 1 fc=1", "DATA 1 \"u\""),
            server("reserved bit of the stream id is ignored", frame(DATA, 0, 0x8000_0001, ascii("r")),
                    "DATA_START 1 fc=1", "DATA 1 \"r\""),
            server("DATA on stream 0", frame(DATA, 0, 0, ascii("abc")), conn(FrameError.STREAM_ID_ZERO)),
            server("DATA padded without Pad Length", frame(DATA, PADDED, 1, zeros(0)), conn(FrameError.FRAME_TOO_SHORT)),
            server("DATA Pad Length equal to payload", frame(DATA, PADDED, 1, bytes(1)), conn(FrameError.BAD_PADDING)),
            server("DATA Pad Length beyond payload", frame(DATA, PADDED, 1, bytes(10, 'a', 'b')), conn(FrameError.BAD_PADDING)),

            // §6.2 HEADERS
            server("HEADERS", frame(HEADERS, END_HEADERS | END_STREAM, 1, ascii("abc")), "HEADERS 1 \"abc\" end"),
            server("HEADERS with empty block", frame(HEADERS, END_HEADERS, 1, zeros(0)), "HEADERS 1 \"\""),
            server("HEADERS padded with priority", frame(HEADERS, PADDED | PRIORITY | END_HEADERS | END_STREAM, 1,
                    bytes(2, 0x80, 0, 0, 3, 15, 'a', 'b', 0, 0)), "HEADERS 1 \"ab\" end"),
            server("HEADERS padding fills the fragment", frame(HEADERS, PADDED | END_HEADERS, 1, bytes(2, 0, 0)), "HEADERS 1 \"\""),
            server("HEADERS on stream 0", frame(HEADERS, END_HEADERS, 0, ascii("a")), conn(FrameError.STREAM_ID_ZERO)),
            server("HEADERS on an even stream", frame(HEADERS, END_HEADERS, 2, ascii("a")), conn(FrameError.EVEN_STREAM_ID)),
            server("HEADERS padded without Pad Length", frame(HEADERS, PADDED | END_HEADERS, 1, zeros(0)),
                    conn(FrameError.FRAME_TOO_SHORT)),
            server("HEADERS PRIORITY without its fields", frame(HEADERS, PRIORITY | END_HEADERS, 1, zeros(4)),
                    conn(FrameError.FRAME_TOO_SHORT)),
            server("HEADERS padded and PRIORITY too short", frame(HEADERS, PADDED | PRIORITY | END_HEADERS, 1, zeros(5)),
                    conn(FrameError.FRAME_TOO_SHORT)),
            server("HEADERS padding beyond the fragment", frame(HEADERS, PADDED | END_HEADERS, 1, bytes(3, 'a', 0)),
                    conn(FrameError.BAD_PADDING)),
            server("HEADERS padding beyond the fragment after priority",
                    frame(HEADERS, PADDED | PRIORITY | END_HEADERS, 1, bytes(1, 0, 0, 0, 0, 15)), conn(FrameError.BAD_PADDING)),
            // §5.3.1: a stream error, and the block is still delivered for HPACK (§4.3).
            server("HEADERS depending on itself", frame(HEADERS, PRIORITY | END_HEADERS, 3, bytes(0, 0, 0, 3, 15, 'a')),
                    stream(3, FrameError.SELF_DEPENDENCY), "HEADERS 3 \"a\""),
            server("HEADERS exclusively depending on itself",
                    frame(HEADERS, PRIORITY | END_HEADERS, 3, bytes(0x80, 0, 0, 3, 15, 'a')),
                    stream(3, FrameError.SELF_DEPENDENCY), "HEADERS 3 \"a\""),

            // §6.10 CONTINUATION
            server("HEADERS then CONTINUATION", concat(frame(HEADERS, END_STREAM, 1, ascii("ab")),
                    frame(CONTINUATION, 0, 1, ascii("cd")), frame(CONTINUATION, END_HEADERS, 1, ascii("ef"))),
                    "HEADERS 1 \"abcdef\" end"),
            server("END_STREAM on CONTINUATION is not a CONTINUATION flag", concat(frame(HEADERS, 0, 1, ascii("a")),
                    frame(CONTINUATION, END_HEADERS | END_STREAM, 1, ascii("b"))), "HEADERS 1 \"ab\""),
            server("padded HEADERS then CONTINUATION", concat(frame(HEADERS, PADDED, 1, bytes(1, 'a', 0)),
                    frame(CONTINUATION, END_HEADERS, 1, ascii("b"))), "HEADERS 1 \"ab\""),
            server("empty CONTINUATION frames", concat(frame(HEADERS, 0, 1, ascii("a")), frame(CONTINUATION, 0, 1, zeros(0)),
                    frame(CONTINUATION, END_HEADERS, 1, zeros(0))), "HEADERS 1 \"a\""),
            server("DATA inside a field block", concat(frame(HEADERS, 0, 1, ascii("a")), frame(DATA, 0, 1, ascii("x"))),
                    conn(FrameError.FIELD_BLOCK_INTERRUPTED)),
            server("HEADERS of another stream inside a field block", concat(frame(HEADERS, 0, 1, ascii("a")),
                    frame(HEADERS, END_HEADERS, 3, ascii("b"))), conn(FrameError.FIELD_BLOCK_INTERRUPTED)),
            server("CONTINUATION of another stream", concat(frame(HEADERS, 0, 1, ascii("a")),
                    frame(CONTINUATION, END_HEADERS, 3, ascii("b"))), conn(FrameError.FIELD_BLOCK_INTERRUPTED)),
            server("CONTINUATION on stream 0 inside a field block", concat(frame(HEADERS, 0, 1, ascii("a")),
                    frame(CONTINUATION, END_HEADERS, 0, ascii("b"))), conn(FrameError.FIELD_BLOCK_INTERRUPTED)),
            server("PING inside a field block", concat(frame(HEADERS, 0, 1, ascii("a")), Frames.ping(1)),
                    conn(FrameError.FIELD_BLOCK_INTERRUPTED)),
            server("PRIORITY inside a field block", concat(frame(HEADERS, 0, 1, ascii("a")),
                    frame(FrameType.PRIORITY, 0, 1, bytes(0, 0, 0, 0, 15))), conn(FrameError.FIELD_BLOCK_INTERRUPTED)),
            server("SETTINGS inside a field block", concat(frame(HEADERS, 0, 1, ascii("a")), settings()),
                    conn(FrameError.FIELD_BLOCK_INTERRUPTED)),
            // §5.5: extension frames may not interrupt a field block.
            server("unknown frame inside a field block", concat(frame(HEADERS, 0, 1, ascii("a")), frame(0x20, 0, 1, ascii("z"))),
                    conn(FrameError.FIELD_BLOCK_INTERRUPTED)),
            server("CONTINUATION without HEADERS", frame(CONTINUATION, END_HEADERS, 1, ascii("a")),
                    conn(FrameError.CONTINUATION_WITHOUT_BLOCK)),
            server("CONTINUATION on stream 0", frame(CONTINUATION, END_HEADERS, 0, ascii("a")),
                    conn(FrameError.CONTINUATION_WITHOUT_BLOCK)),
            server("CONTINUATION after END_HEADERS", concat(frame(HEADERS, END_HEADERS, 1, ascii("a")),
                    frame(CONTINUATION, END_HEADERS, 1, ascii("b"))), "HEADERS 1 \"a\"", conn(FrameError.CONTINUATION_WITHOUT_BLOCK)),
            server("CONTINUATION after DATA", concat(frame(DATA, 0, 1, ascii("d")), frame(CONTINUATION, END_HEADERS, 1, ascii("b"))),
                    "DATA_START 1 fc=1", "DATA 1 \"d\"", conn(FrameError.CONTINUATION_WITHOUT_BLOCK)),

            // §6.3 PRIORITY
            server("PRIORITY", frame(FrameType.PRIORITY, 0, 3, bytes(0x80, 0, 0, 1, 255)), "PRIORITY 3 dep=1 exclusive weight=256"),
            server("PRIORITY for an idle even stream", frame(FrameType.PRIORITY, 0, 2, zeros(5)), "PRIORITY 2 dep=0 weight=1"),
            server("PRIORITY on stream 0", frame(FrameType.PRIORITY, 0, 0, zeros(5)), conn(FrameError.STREAM_ID_ZERO)),
            server("PRIORITY of 4 octets", frame(FrameType.PRIORITY, 0, 1, zeros(4)), stream(1, FrameError.BAD_PRIORITY_LENGTH)),
            server("PRIORITY of 6 octets", frame(FrameType.PRIORITY, 0, 1, zeros(6)), stream(1, FrameError.BAD_PRIORITY_LENGTH)),
            server("PRIORITY depending on itself", frame(FrameType.PRIORITY, 0, 5, bytes(0, 0, 0, 5, 0)),
                    stream(5, FrameError.SELF_DEPENDENCY)),

            // §6.4 RST_STREAM
            server("RST_STREAM", frame(RST_STREAM, 0, 1, int32(0x8)), "RST_STREAM 1 CANCEL"),
            server("RST_STREAM with an unknown code", frame(RST_STREAM, 0, 1, int32(0xFF)), "RST_STREAM 1 INTERNAL_ERROR"),
            server("RST_STREAM on stream 0", frame(RST_STREAM, 0, 0, int32(0x8)), conn(FrameError.STREAM_ID_ZERO)),
            server("RST_STREAM of 3 octets", frame(RST_STREAM, 0, 1, zeros(3)), conn(FrameError.BAD_RST_STREAM_LENGTH)),
            server("RST_STREAM of 5 octets", frame(RST_STREAM, 0, 1, zeros(5)), conn(FrameError.BAD_RST_STREAM_LENGTH)),

            // §6.5 SETTINGS
            server("SETTINGS with all six", settings(1, 8192, 2, 0, 3, 100, 4, 1_000_000, 5, 32768, 6, 16384),
                    "SETTINGS {HEADER_TABLE_SIZE=8192, ENABLE_PUSH=0, MAX_CONCURRENT_STREAMS=100, "
                            + "INITIAL_WINDOW_SIZE=1000000, MAX_FRAME_SIZE=32768, MAX_HEADER_LIST_SIZE=16384}"),
            server("SETTINGS at their bounds", settings(2, 1, 4, 0x7FFF_FFFF, 5, 16384, 1, 0xFFFF_FFFFL, 3, 0),
                    "SETTINGS {HEADER_TABLE_SIZE=4294967295, ENABLE_PUSH=1, MAX_CONCURRENT_STREAMS=0, "
                            + "INITIAL_WINDOW_SIZE=2147483647, MAX_FRAME_SIZE=16384}"),
            server("SETTINGS largest MAX_FRAME_SIZE", settings(5, 16_777_215), "SETTINGS {MAX_FRAME_SIZE=16777215}"),
            server("SETTINGS unknown identifiers are ignored", settings(0, 5, 7, 1, 8, 1, 0xFFFF, 9, 3, 10),
                    "SETTINGS {MAX_CONCURRENT_STREAMS=10}"),
            server("SETTINGS same identifier twice, last wins", settings(4, 100, 4, 200), "SETTINGS {INITIAL_WINDOW_SIZE=200}"),
            server("SETTINGS ACK", frame(SETTINGS, ACK, 0, zeros(0)), "SETTINGS_ACK"),
            server("SETTINGS on a stream", frame(SETTINGS, 0, 1, zeros(0)), conn(FrameError.STREAM_ID_NOT_ZERO)),
            server("SETTINGS ACK on a stream", frame(SETTINGS, ACK, 1, zeros(0)), conn(FrameError.STREAM_ID_NOT_ZERO)),
            server("SETTINGS ACK with payload", frame(SETTINGS, ACK, 0, zeros(6)), conn(FrameError.SETTINGS_ACK_WITH_PAYLOAD)),
            server("SETTINGS of 5 octets", frame(SETTINGS, 0, 0, zeros(5)), conn(FrameError.BAD_SETTINGS_LENGTH)),
            server("SETTINGS of 7 octets", frame(SETTINGS, 0, 0, zeros(7)), conn(FrameError.BAD_SETTINGS_LENGTH)),
            server("ENABLE_PUSH 2", settings(2, 2), conn(FrameError.BAD_ENABLE_PUSH)),
            server("ENABLE_PUSH 2^32-1", settings(2, 0xFFFF_FFFFL), conn(FrameError.BAD_ENABLE_PUSH)),
            server("INITIAL_WINDOW_SIZE 2^31", settings(4, 0x8000_0000L), conn(FrameError.BAD_INITIAL_WINDOW_SIZE)),
            server("INITIAL_WINDOW_SIZE 2^32-1", settings(4, 0xFFFF_FFFFL), conn(FrameError.BAD_INITIAL_WINDOW_SIZE)),
            server("MAX_FRAME_SIZE 16383", settings(5, 16383), conn(FrameError.BAD_MAX_FRAME_SIZE)),
            server("MAX_FRAME_SIZE 2^24", settings(5, 16_777_216), conn(FrameError.BAD_MAX_FRAME_SIZE)),
            server("MAX_FRAME_SIZE 0", settings(5, 0), conn(FrameError.BAD_MAX_FRAME_SIZE)),
            server("invalid setting after a valid one", settings(3, 100, 2, 2), conn(FrameError.BAD_ENABLE_PUSH)),

            // §8.4, §6.6 PUSH_PROMISE
            server("PUSH_PROMISE from a client", frame(PUSH_PROMISE, END_HEADERS, 1, bytes(0, 0, 0, 2, 'a')),
                    conn(FrameError.PUSH_PROMISE_RECEIVED)),

            // §6.7 PING
            server("PING", Frames.ping(0x0102_0304_0506_0708L), "PING 0102030405060708"),
            server("PING ACK", frame(PING, ACK, 0, bytes(0xFF, 0, 0, 0, 0, 0, 0, 1)), "PING ff00000000000001 ack"),
            server("PING undefined flags are ignored", frame(PING, 0xFE, 0, zeros(8)), "PING 0000000000000000"),
            server("PING on a stream", frame(PING, 0, 1, zeros(8)), conn(FrameError.STREAM_ID_NOT_ZERO)),
            server("PING of 7 octets", frame(PING, 0, 0, zeros(7)), conn(FrameError.BAD_PING_LENGTH)),
            server("PING of 9 octets", frame(PING, 0, 0, zeros(9)), conn(FrameError.BAD_PING_LENGTH)),

            // §6.8 GOAWAY
            server("GOAWAY", frame(GOAWAY, 0, 0, concat(int32(7), int32(0))), "GOAWAY 7 NO_ERROR"),
            server("GOAWAY with debug data", frame(GOAWAY, 0, 0, concat(int32(7), int32(0xB), ascii("calm down"))),
                    "GOAWAY 7 ENHANCE_YOUR_CALM"),
            server("GOAWAY reserved bit is ignored", frame(GOAWAY, 0, 0, concat(int32(0x8000_0009), int32(1))),
                    "GOAWAY 9 PROTOCOL_ERROR"),
            server("GOAWAY with an unknown code", frame(GOAWAY, 0, 0, concat(int32(1), int32(0x1234))), "GOAWAY 1 INTERNAL_ERROR"),
            server("GOAWAY on a stream", frame(GOAWAY, 0, 1, zeros(8)), conn(FrameError.STREAM_ID_NOT_ZERO)),
            server("GOAWAY of 7 octets", frame(GOAWAY, 0, 0, zeros(7)), conn(FrameError.BAD_GOAWAY_LENGTH)),
            server("GOAWAY empty", frame(GOAWAY, 0, 0, zeros(0)), conn(FrameError.BAD_GOAWAY_LENGTH)),

            // §6.9 WINDOW_UPDATE
            server("WINDOW_UPDATE for the connection", frame(WINDOW_UPDATE, 0, 0, int32(1000)), "WINDOW_UPDATE 0 1000"),
            server("WINDOW_UPDATE largest increment", frame(WINDOW_UPDATE, 0, 5, int32(0x7FFF_FFFF)), "WINDOW_UPDATE 5 2147483647"),
            server("WINDOW_UPDATE reserved bit is ignored", frame(WINDOW_UPDATE, 0, 1, int32(0x8000_0001)), "WINDOW_UPDATE 1 1"),
            server("WINDOW_UPDATE of 0 for the connection", frame(WINDOW_UPDATE, 0, 0, int32(0)),
                    conn(FrameError.ZERO_WINDOW_INCREMENT)),
            server("WINDOW_UPDATE of 0 for a stream", frame(WINDOW_UPDATE, 0, 3, int32(0)), stream(3, FrameError.ZERO_WINDOW_INCREMENT)),
            server("WINDOW_UPDATE of only the reserved bit", frame(WINDOW_UPDATE, 0, 3, int32(0x8000_0000)),
                    stream(3, FrameError.ZERO_WINDOW_INCREMENT)),
            server("WINDOW_UPDATE of 3 octets", frame(WINDOW_UPDATE, 0, 0, zeros(3)), conn(FrameError.BAD_WINDOW_UPDATE_LENGTH)),
            server("WINDOW_UPDATE of 5 octets on a stream", frame(WINDOW_UPDATE, 0, 1, zeros(5)),
                    conn(FrameError.BAD_WINDOW_UPDATE_LENGTH)),

            // §4.1, §5.5 unknown types
            server("unknown frame type", frame(0x20, 0xFF, 1, ascii("abc")), "UNKNOWN 0x20 1 len=3"),
            server("unknown frame type, empty", frame(0xFF, 0, 0, zeros(0)), "UNKNOWN 0xff 0 len=0"),
            server("unknown frame type between DATA", concat(frame(DATA, 0, 1, ascii("a")), frame(0x0A, 0, 1, ascii("zz")),
                    frame(DATA, END_STREAM, 1, ascii("b"))),
                    "DATA_START 1 fc=1", "DATA 1 \"a\"", "UNKNOWN 0xa 1 len=2", "DATA_START 1 fc=1", "DATA 1 \"b\" end"),

            // Client role: the server's preface is just its SETTINGS (§3.4).
            client("client: ENABLE_PUSH 0", settings(2, 0), "SETTINGS {ENABLE_PUSH=0}"),
            client("client: server enables push", settings(2, 1), conn(FrameError.SERVER_ENABLED_PUSH)),
            client("client: response HEADERS on our odd stream", frame(HEADERS, END_HEADERS, 1, ascii("r")), "HEADERS 1 \"r\""),
            client("client: HEADERS on an even stream", frame(HEADERS, END_HEADERS, 2, ascii("r")), conn(FrameError.EVEN_STREAM_ID)),
            client("client: PUSH_PROMISE with push disabled", frame(PUSH_PROMISE, END_HEADERS, 1, bytes(0, 0, 0, 2)),
                    conn(FrameError.PUSH_PROMISE_RECEIVED))
        );
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rules")
    void eachRuleGivesItsEventsEveryWay(Case c) {
        boolean server = c.setup().role() == FrameReader.Role.SERVER;
        byte[] input = concat(server ? Frames.start() : settings(), c.input(), Frames.sentinel());
        List<String> expected = new ArrayList<>();
        expected.add("SETTINGS {}");
        expected.addAll(c.expected());
        if (c.expected().get(c.expected().size() - 1).startsWith("CONNECTION_ERROR")) {
            expected.add("status ERROR");
        } else {
            expected.add(SENTINEL);
            expected.add("status NEED_MORE");
        }
        assertThat(Feed.eventsEveryWay(c.setup(), input)).isEqualTo(expected);
    }

    private static Case server(String name, byte[] input, String... expected) {
        return new Case(name, Feed.Setup.SERVER, input, List.of(expected));
    }

    private static Case client(String name, byte[] input, String... expected) {
        return new Case(name, Feed.Setup.CLIENT, input, List.of(expected));
    }

    static String conn(FrameError error) {
        return "CONNECTION_ERROR " + error.code() + " " + error;
    }

    static String stream(int streamId, FrameError error) {
        return "STREAM_ERROR " + streamId + " " + error.code() + " " + error;
    }
}
