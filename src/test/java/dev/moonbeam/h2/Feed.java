package dev.moonbeam.h2;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Test driver: feeds input to a {@link FrameReader} the way a connection would (unconsumed bytes
 * stay in the buffer, new bytes are appended after a compact) and records the events, ending with
 * the final status. Every loop is bounded.
 */
final class Feed {
    /** Reader settings for one run. */
    record Setup(FrameReader.Role role, int maxFrameSize, int maxFieldBlock) {
        static final Setup SERVER = new Setup(FrameReader.Role.SERVER, Http2Settings.DEFAULT_MAX_FRAME_SIZE,
                FrameReader.DEFAULT_MAX_FIELD_BLOCK_BYTES);
        static final Setup CLIENT = new Setup(FrameReader.Role.CLIENT, Http2Settings.DEFAULT_MAX_FRAME_SIZE,
                FrameReader.DEFAULT_MAX_FIELD_BLOCK_BYTES);

        FrameReader reader() {
            return new FrameReader(role, maxFrameSize, maxFieldBlock);
        }

        Setup withMaxFieldBlock(int bytes) {
            return new Setup(role, maxFrameSize, bytes);
        }
    }

    /** Events with the final {@code status ...} last; violations of the read contract (must be empty). */
    record Outcome(List<String> events, List<String> violations, RecordingListener listener, FrameReader reader) {}

    private Feed() {}

    /** Largest input split at every offset; longer ones are fed whole, bytewise and piped only. */
    static final int EVERY_SPLIT_MAX_INPUT = 2048;
    /** The smallest buffer that can hold a frame header, and a few awkward sizes above it. */
    static final int[] PIPE_CAPACITIES = {FrameReader.MAX_UNCONSUMED_BYTES + 1, 10, 17, 100};

    /**
     * Feeds {@code input} whole, split at every offset, one byte at a time and through small
     * pipes; asserts every way gives the same events without violations, and returns them.
     */
    static List<String> eventsEveryWay(Setup setup, byte[] input) {
        Outcome whole = whole(setup, input);
        assertThat(whole.violations()).as("whole").isEmpty();
        if (input.length <= EVERY_SPLIT_MAX_INPUT) {
            for (int cut = 0; cut <= input.length; cut++) {
                Outcome split = split(setup, input, cut);
                assertThat(split.violations()).as("split at %d", cut).isEmpty();
                assertThat(split.events()).as("split at %d", cut).isEqualTo(whole.events());
            }
        }
        Outcome bytewise = bytewise(setup, input);
        assertThat(bytewise.violations()).as("one byte at a time").isEmpty();
        assertThat(bytewise.events()).as("one byte at a time").isEqualTo(whole.events());
        for (int capacity : PIPE_CAPACITIES) {
            Outcome piped = pipe(setup, input, capacity);
            assertThat(piped.violations()).as("pipe of %d", capacity).isEmpty();
            assertThat(piped.events()).as("pipe of %d", capacity).isEqualTo(whole.events());
        }
        return whole.events();
    }

    static Outcome whole(Setup setup, byte[] input) {
        return run(setup, input, new int[0]);
    }

    static Outcome bytewise(Setup setup, byte[] input) {
        return run(setup, input, IntStream.range(1, input.length).toArray());
    }

    /** Two pieces, split at {@code cut}. */
    static Outcome split(Setup setup, byte[] input, int cut) {
        return run(setup, input, new int[] {cut});
    }

    /** Pieces ending at the given ascending cut offsets, then the rest. */
    static Outcome run(Setup setup, byte[] input, int[] cuts) {
        FrameReader reader = setup.reader();
        RecordingListener listener = new RecordingListener();
        List<String> violations = new ArrayList<>();
        ByteBuffer buffer = ByteBuffer.allocate(input.length + 1);
        buffer.flip();
        ReadStatus status = ReadStatus.NEED_MORE;
        int from = 0;
        for (int piece = 0; piece <= cuts.length && status == ReadStatus.NEED_MORE; piece++) {
            int to = piece < cuts.length ? cuts[piece] : input.length;
            buffer.compact();
            buffer.put(input, from, to - from);
            buffer.flip();
            from = to;
            status = readOnce(reader, buffer, listener, violations);
        }
        return finish(reader, listener, violations, status);
    }

    /**
     * Through a buffer of only {@code capacity} bytes, filled as far as it goes each time: proves
     * the reader never needs to hold more than {@link FrameReader#MAX_UNCONSUMED_BYTES}.
     */
    static Outcome pipe(Setup setup, byte[] input, int capacity) {
        FrameReader reader = setup.reader();
        RecordingListener listener = new RecordingListener();
        List<String> violations = new ArrayList<>();
        ByteBuffer buffer = ByteBuffer.allocate(capacity);
        ReadStatus status = ReadStatus.NEED_MORE;
        int from = 0;
        for (int guard = 0; guard <= input.length + 1 && status == ReadStatus.NEED_MORE; guard++) {
            int count = Math.min(buffer.remaining(), input.length - from);
            buffer.put(input, from, count);
            from += count;
            buffer.flip();
            status = readOnce(reader, buffer, listener, violations);
            buffer.compact();
            if (from == input.length) {
                break;
            }
            if (count == 0) {
                violations.add("no room in a " + capacity + "-byte buffer");
                break;
            }
        }
        return finish(reader, listener, violations, status);
    }

    private static ReadStatus readOnce(FrameReader reader, ByteBuffer buffer, RecordingListener listener,
            List<String> violations) {
        int before = buffer.position();
        int limit = buffer.limit();
        ReadStatus status = reader.read(buffer, listener);
        if (buffer.position() < before) {
            violations.add("position moved back");
        }
        if (buffer.limit() != limit) {
            violations.add("limit changed");
        }
        if (status == ReadStatus.NEED_MORE && buffer.remaining() > FrameReader.MAX_UNCONSUMED_BYTES) {
            violations.add("NEED_MORE with " + buffer.remaining() + " bytes left");
        }
        return status;
    }

    private static Outcome finish(FrameReader reader, RecordingListener listener, List<String> violations,
            ReadStatus status) {
        List<String> events = new ArrayList<>(listener.events());
        events.add("status " + status);
        violations.addAll(listener.violations());
        return new Outcome(events, violations, listener, reader);
    }
}
