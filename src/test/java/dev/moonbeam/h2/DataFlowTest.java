package dev.moonbeam.h2;

import static dev.moonbeam.h2.FrameFlags.END_STREAM;
import static dev.moonbeam.h2.FrameFlags.PADDED;
import static dev.moonbeam.h2.FrameType.DATA;
import static dev.moonbeam.h2.Frames.ascii;
import static dev.moonbeam.h2.Frames.bytes;
import static dev.moonbeam.h2.Frames.concat;
import static dev.moonbeam.h2.Frames.frame;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * DATA is passed on as it arrives, never held for the whole frame, and the listener learns each
 * frame's flow-controlled length (payload including Pad Length and padding, §6.9.1) before its
 * data, so window accounting is exact whatever the split.
 */
class DataFlowTest {

    /** A DATA sequence, the data each stream must receive, and what it must be charged. */
    record Flow(String name, byte[] frames, String stream1Data, long stream1Charged, String stream3Data,
            long stream3Charged) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Flow> flows() {
        return Stream.of(
            new Flow("plain", frame(DATA, END_STREAM, 1, ascii("hello")), "hello", 5, "", 0),
            // 1 Pad Length + 5 data + 4 padding = 10 charged, 5 delivered.
            new Flow("padded", frame(DATA, PADDED | END_STREAM, 1, bytes(4, 'h', 'e', 'l', 'l', 'o', 0, 0, 0, 0)),
                    "hello", 10, "", 0),
            new Flow("padding only", frame(DATA, PADDED, 1, concat(bytes(200), new byte[200])), "", 201, "", 0),
            new Flow("empty frames charge nothing", concat(frame(DATA, 0, 1, new byte[0]), frame(DATA, END_STREAM, 1, new byte[0])),
                    "", 0, "", 0),
            new Flow("interleaved streams, mixed padding", concat(
                    frame(DATA, PADDED, 1, bytes(2, 'a', 'b', 0, 0)),
                    frame(DATA, 0, 3, ascii("xyz")),
                    frame(DATA, PADDED, 3, bytes(0, 'w')),
                    frame(DATA, END_STREAM, 1, ascii("cd")),
                    frame(DATA, PADDED | END_STREAM, 3, concat(bytes(255), ascii("v"), new byte[255]))),
                    "abcd", 5 + 2, "xyzwv", 3 + 2 + 257)
        );
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("flows")
    void chargesWholeFramesAndDeliversDataAtEverySplit(Flow flow) {
        byte[] input = concat(Frames.start(), flow.frames());
        Feed.eventsEveryWay(Feed.Setup.SERVER, input);
        for (int cut = 0; cut <= input.length; cut++) {
            Feed.Outcome outcome = Feed.split(Feed.Setup.SERVER, input, cut);
            assertThat(outcome.listener().flowControlled(1)).as("stream 1 at %d", cut).isEqualTo(flow.stream1Charged());
            assertThat(outcome.listener().flowControlled(3)).as("stream 3 at %d", cut).isEqualTo(flow.stream3Charged());
            assertThat(outcome.listener().flowControlled(0)).isEqualTo(flow.stream1Charged() + flow.stream3Charged());
            assertThat(dataOf(outcome.events(), 1)).isEqualTo(flow.stream1Data());
            assertThat(dataOf(outcome.events(), 3)).isEqualTo(flow.stream3Data());
        }
    }

    @Test
    void deliversDataBeforeTheFrameIsComplete() {
        byte[] frame = frame(DATA, END_STREAM, 1, ascii("0123456789"));
        FrameReader reader = new FrameReader(FrameReader.Role.SERVER);
        Pieces pieces = new Pieces();
        ByteBuffer in = ByteBuffer.wrap(concat(Frames.start(), frame, new byte[0]));
        // Everything up to and including 3 data bytes.
        in.limit(Frames.start().length + FrameWriter.FRAME_HEADER_BYTES + 3);

        assertThat(reader.read(in, pieces)).isEqualTo(ReadStatus.NEED_MORE);
        assertThat(in.hasRemaining()).as("the partial payload is consumed, not held").isFalse();
        assertThat(pieces.log).containsExactly("start 1 fc=10", "piece 1 \"012\"");

        in.limit(in.capacity());
        assertThat(reader.read(in, pieces)).isEqualTo(ReadStatus.NEED_MORE);
        assertThat(pieces.log).containsExactly("start 1 fc=10", "piece 1 \"012\"", "piece 1 \"3456789\" end");
    }

    @Test
    void endStreamComesWithTheLastDataByteNotThePadding() {
        byte[] frame = frame(DATA, PADDED | END_STREAM, 1, bytes(3, 'a', 'b', 0, 0, 0));
        FrameReader reader = new FrameReader(FrameReader.Role.SERVER);
        Pieces pieces = new Pieces();
        ByteBuffer in = ByteBuffer.wrap(concat(Frames.start(), frame));
        in.limit(in.capacity() - 3);

        reader.read(in, pieces);
        assertThat(pieces.log).containsExactly("start 1 fc=6", "piece 1 \"ab\" end");
        in.limit(in.capacity());
        reader.read(in, pieces);
        assertThat(in.hasRemaining()).isFalse();
        assertThat(pieces.log).hasSize(2);
    }

    @Test
    void oneByteAtATimeGivesOnePiecePerByteAndEndStreamOnlyOnTheLast() {
        byte[] input = concat(Frames.start(), frame(DATA, END_STREAM, 1, ascii("abcde")));
        FrameReader reader = new FrameReader(FrameReader.Role.SERVER);
        Pieces pieces = new Pieces();
        ByteBuffer in = ByteBuffer.allocate(input.length);
        in.flip();
        for (byte b : input) {
            in.compact().put(b).flip();
            assertThat(reader.read(in, pieces)).isEqualTo(ReadStatus.NEED_MORE);
        }
        assertThat(pieces.log).containsExactly("start 1 fc=5", "piece 1 \"a\"", "piece 1 \"b\"", "piece 1 \"c\"",
                "piece 1 \"d\"", "piece 1 \"e\" end");
    }

    @Test
    void emptyDataFramesWithoutEndStreamAreCounted() {
        byte[] empty = frame(DATA, 0, 1, new byte[0]);
        byte[] input = concat(Frames.start(), empty, empty, empty, frame(DATA, END_STREAM, 1, new byte[0]));
        Feed.Outcome outcome = Feed.whole(Feed.Setup.SERVER, input);
        assertThat(outcome.reader().emptyDataFrames()).isEqualTo(3);
    }

    /** The DATA payload a stream received, from the recorded events. */
    private static String dataOf(List<String> events, int streamId) {
        StringBuilder data = new StringBuilder();
        String prefix = "DATA " + streamId + " \"";
        for (String event : events) {
            if (event.startsWith(prefix)) {
                data.append(event, prefix.length(), event.lastIndexOf('"'));
            }
        }
        return data.toString();
    }

    /** Records DATA pieces exactly as delivered, unjoined. */
    private static final class Pieces extends RecordingListener {
        final List<String> log = new ArrayList<>();

        @Override
        public void dataFrameStart(int streamId, int flowControlledLength) {
            log.add("start " + streamId + " fc=" + flowControlledLength);
        }

        @Override
        public void data(int streamId, ByteBuffer in, int offset, int length, boolean endStream) {
            byte[] piece = new byte[length];
            IntStream.range(0, length).forEach(i -> piece[i] = in.get(offset + i));
            log.add("piece " + streamId + " " + text(ByteBuffer.wrap(piece)) + (endStream ? " end" : ""));
        }
    }
}
