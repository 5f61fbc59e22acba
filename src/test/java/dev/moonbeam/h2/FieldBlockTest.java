package dev.moonbeam.h2;

import static dev.moonbeam.h2.FrameFlags.END_HEADERS;
import static dev.moonbeam.h2.FrameFlags.END_STREAM;
import static dev.moonbeam.h2.FrameFlags.PADDED;
import static dev.moonbeam.h2.FrameType.CONTINUATION;
import static dev.moonbeam.h2.FrameType.HEADERS;
import static dev.moonbeam.h2.FrameReaderRulesTest.conn;
import static dev.moonbeam.h2.Frames.bytes;
import static dev.moonbeam.h2.Frames.concat;
import static dev.moonbeam.h2.Frames.filled;
import static dev.moonbeam.h2.Frames.frame;
import static dev.moonbeam.h2.Frames.header;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Field blocks across HEADERS and CONTINUATION (§4.3, §6.10), and the bound on their total size
 * that stops the CONTINUATION flood (CVE-2024-27316) before anything beyond it is buffered.
 */
class FieldBlockTest {
    private static final int BOUND = 100;
    private static final Feed.Setup SMALL = Feed.Setup.SERVER.withMaxFieldBlock(BOUND);

    /** Fragment sizes of HEADERS then CONTINUATION frames; the last frame carries END_HEADERS. */
    record Sequence(String name, int[] fragments, boolean fits) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Sequence> sequences() {
        return Stream.of(
            new Sequence("HEADERS at the bound", new int[] {100}, true),
            new Sequence("HEADERS over the bound", new int[] {101}, false),
            new Sequence("CONTINUATION reaching the bound", new int[] {40, 40, 20}, true),
            new Sequence("CONTINUATION one past the bound", new int[] {40, 40, 21}, false),
            new Sequence("many small CONTINUATION frames past the bound", tinyFragments(101), false),
            new Sequence("many small CONTINUATION frames at the bound", tinyFragments(100), true),
            new Sequence("empty HEADERS, then everything in CONTINUATION", new int[] {0, 0, 100}, true)
        );
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sequences")
    void theBoundAppliesToTheWholeBlock(Sequence sequence) {
        ByteArrayOutputStream input = new ByteArrayOutputStream();
        input.writeBytes(Frames.start());
        StringBuilder block = new StringBuilder();
        int[] fragments = sequence.fragments();
        for (int i = 0; i < fragments.length; i++) {
            byte[] fragment = filled(fragments[i], (char) ('a' + i % 26));
            block.append(new String(fragment, java.nio.charset.StandardCharsets.ISO_8859_1));
            int flags = i == fragments.length - 1 ? END_HEADERS : 0;
            input.writeBytes(frame(i == 0 ? HEADERS : CONTINUATION, flags | (i == 0 ? END_STREAM : 0), 1, fragment));
        }
        List<String> events = Feed.eventsEveryWay(SMALL, input.toByteArray());
        if (sequence.fits()) {
            assertThat(events).containsExactly("SETTINGS {}",
                    "HEADERS 1 " + RecordingListener.text(ByteBuffer.wrap(Frames.ascii(block.toString()))) + " end",
                    "status NEED_MORE");
        } else {
            assertThat(events).containsExactly("SETTINGS {}", conn(FrameError.FIELD_BLOCK_TOO_LARGE), "status ERROR");
        }
    }

    @Test
    void aContinuationOverTheBoundIsRefusedAtItsHeader() {
        // Only the header of the offending frame is sent: the decision needs no payload.
        byte[] input = concat(Frames.start(), frame(HEADERS, 0, 1, filled(90, 'a')), header(11, CONTINUATION, 0, 1));
        Feed.Outcome outcome = Feed.whole(SMALL, input);
        assertThat(outcome.events()).containsExactly("SETTINGS {}", conn(FrameError.FIELD_BLOCK_TOO_LARGE), "status ERROR");
        assertThat(outcome.reader().error()).isEqualTo(FrameError.FIELD_BLOCK_TOO_LARGE);
        assertThat(outcome.reader().error().code()).isEqualTo(ErrorCode.ENHANCE_YOUR_CALM);
    }

    @Test
    void theBoundIsPerBlockNotPerConnection() {
        byte[] block = frame(HEADERS, END_HEADERS, 1, filled(80, 'a'));
        byte[] second = frame(HEADERS, END_HEADERS, 3, filled(80, 'b'));
        List<String> events = Feed.eventsEveryWay(SMALL, concat(Frames.start(), block, second));
        assertThat(events).hasSize(4).last().isEqualTo("status NEED_MORE");
    }

    @Test
    void paddingDoesNotCountTowardTheBound() {
        byte[] padded = frame(HEADERS, PADDED | END_HEADERS, 1, concat(bytes(200), filled(100, 'p'), new byte[200]));
        List<String> events = Feed.eventsEveryWay(SMALL, concat(Frames.start(), padded));
        assertThat(events).hasSize(3).element(1).asString().startsWith("HEADERS 1 \"pppp");
    }

    @Test
    void blocksUpToTheDefaultBoundArriveWholeAndOneByteMoreIsRefused() {
        int max = Http2Settings.DEFAULT_MAX_FRAME_SIZE;
        ByteArrayOutputStream input = new ByteArrayOutputStream();
        input.writeBytes(Frames.start());
        input.writeBytes(frame(HEADERS, 0, 1, filled(max, 'h')));
        input.writeBytes(frame(CONTINUATION, 0, 1, filled(max, 'i')));
        input.writeBytes(frame(CONTINUATION, 0, 1, filled(max, 'j')));
        byte[] open = input.toByteArray();
        byte[] whole = concat(open, frame(CONTINUATION, END_HEADERS, 1, filled(max, 'k')));
        byte[] over = concat(open, frame(CONTINUATION, 0, 1, filled(max, 'k')), frame(CONTINUATION, END_HEADERS, 1, bytes('!')));

        BlockCapture capture = new BlockCapture();
        FrameReader reader = new FrameReader(FrameReader.Role.SERVER);
        assertThat(reader.read(ByteBuffer.wrap(whole), capture)).isEqualTo(ReadStatus.NEED_MORE);
        assertThat(capture.block).hasSize(FrameReader.DEFAULT_MAX_FIELD_BLOCK_BYTES);
        assertThat(capture.block[0]).isEqualTo((byte) 'h');
        assertThat(capture.block[max]).isEqualTo((byte) 'i');
        assertThat(capture.block[4 * max - 1]).isEqualTo((byte) 'k');

        assertThat(Feed.eventsEveryWay(Feed.Setup.SERVER, over))
                .containsExactly("SETTINGS {}", conn(FrameError.FIELD_BLOCK_TOO_LARGE), "status ERROR");
    }

    @Test
    void emptyContinuationFramesAreCountedSoTheConnectionCanCutTheFlood() {
        int flood = 1000;
        ByteArrayOutputStream input = new ByteArrayOutputStream();
        input.writeBytes(Frames.start());
        input.writeBytes(frame(HEADERS, 0, 1, bytes('a')));
        for (int i = 0; i < flood; i++) {
            input.writeBytes(frame(CONTINUATION, 0, 1, new byte[0]));
        }
        Feed.Outcome outcome = Feed.whole(Feed.Setup.SERVER, input.toByteArray());
        assertThat(outcome.events()).containsExactly("SETTINGS {}", "status NEED_MORE");
        assertThat(outcome.reader().emptyContinuationFrames()).isEqualTo(flood);
        assertThat(outcome.reader().isFieldBlockOpen()).isTrue();

        // The connection checks the counter after each read and stops past its threshold.
        FrameReader reader = new FrameReader(FrameReader.Role.SERVER);
        ByteBuffer in = ByteBuffer.wrap(input.toByteArray());
        int threshold = 100;
        ReadStatus status = ReadStatus.NEED_MORE;
        RecordingListener listener = new RecordingListener();
        for (int end = 64; status == ReadStatus.NEED_MORE && end <= in.capacity(); end += 64) {
            in.limit(end);
            status = reader.read(in, listener);
            if (reader.emptyContinuationFrames() > threshold) {
                reader.stop();
            }
        }
        assertThat(reader.read(in, listener)).isEqualTo(ReadStatus.STOPPED);
        assertThat(reader.emptyContinuationFrames()).isBetween((long) threshold, threshold + 8L);
    }

    private static int[] tinyFragments(int total) {
        int[] fragments = new int[total];
        java.util.Arrays.fill(fragments, 1);
        return fragments;
    }

    private static final class BlockCapture extends RecordingListener {
        byte[] block;

        @Override
        public void headers(int streamId, ByteBuffer fieldBlock, boolean endStream) {
            block = new byte[fieldBlock.remaining()];
            fieldBlock.get(block);
        }
    }
}
