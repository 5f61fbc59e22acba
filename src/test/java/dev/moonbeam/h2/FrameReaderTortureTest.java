package dev.moonbeam.h2;

import static dev.moonbeam.h2.Frames.ascii;
import static dev.moonbeam.h2.Frames.bytes;
import static dev.moonbeam.h2.Frames.concat;
import static dev.moonbeam.h2.Frames.frame;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.moonbeam.loop.Allocations;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Hostile and random input: the reader never throws, never breaks its buffer contract, gives the
 * same events for any split, stays silent once terminal, and allocates nothing in steady state.
 */
class FrameReaderTortureTest {
    private static final long SEED = 0x6D6F6F6E6265616DL; // "moonbeam"
    private static final Feed.Setup[] SETUPS = {
        Feed.Setup.SERVER, Feed.Setup.CLIENT, Feed.Setup.SERVER.withMaxFieldBlock(32)
    };

    @Test
    void randomBytesAfterPrefaceAndSettingsNeverThrow() {
        Random random = new Random(SEED);
        for (int run = 0; run < 3000; run++) {
            byte[] noise = new byte[random.nextInt(300)];
            random.nextBytes(noise);
            Feed.Setup setup = SETUPS[run % SETUPS.length];
            byte[] input = concat(setup.role() == FrameReader.Role.SERVER ? Frames.start() : Frames.settings(), noise);
            Feed.Outcome whole = Feed.whole(setup, input);
            Feed.Outcome cut = Feed.run(setup, input, randomCuts(random, input.length));
            assertThat(whole.violations()).as("run %d", run).isEmpty();
            assertThat(cut.violations()).as("run %d", run).isEmpty();
            assertThat(cut.events()).as("run %d", run).isEqualTo(whole.events());
        }
    }

    /** Plausible frames with random types, flags, ids and short payloads reach every state. */
    @Test
    void randomFramesGiveTheSameEventsHoweverSplit() {
        Random random = new Random(SEED + 1);
        int errors = 0;
        for (int run = 0; run < 1500; run++) {
            ByteArrayOutputStream input = new ByteArrayOutputStream();
            input.writeBytes(Frames.start());
            for (int frames = random.nextInt(8); frames > 0; frames--) {
                input.writeBytes(randomFrame(random));
            }
            byte[] bytes = input.toByteArray();
            Feed.Setup setup = SETUPS[run % 2 == 0 ? 0 : 2];
            Feed.Outcome whole = Feed.whole(setup, bytes);
            Feed.Outcome bytewise = Feed.bytewise(setup, bytes);
            Feed.Outcome piped = Feed.pipe(setup, bytes, FrameReader.MAX_UNCONSUMED_BYTES + 1 + random.nextInt(20));
            assertThat(whole.violations()).as("run %d", run).isEmpty();
            assertThat(bytewise.violations()).as("run %d", run).isEmpty();
            assertThat(piped.violations()).as("run %d", run).isEmpty();
            assertThat(bytewise.events()).as("run %d", run).isEqualTo(whole.events());
            assertThat(piped.events()).as("run %d", run).isEqualTo(whole.events());
            if (whole.reader().error() != null) {
                errors++;
            }
        }
        // Both outcomes are common, so the generator reaches deep as well as failing early.
        assertThat(errors).isBetween(300, 1200);
    }

    @Test
    void afterAConnectionErrorNothingIsConsumedOrReported() {
        FrameReader reader = new FrameReader(FrameReader.Role.SERVER);
        RecordingListener listener = new RecordingListener();
        ByteBuffer in = ByteBuffer.wrap(concat(Frames.start(), frame(FrameType.DATA, 0, 0, ascii("x")), Frames.ping(1)));
        assertThat(reader.read(in, listener)).isEqualTo(ReadStatus.ERROR);
        int position = in.position();
        assertThat(reader.read(in, listener)).isEqualTo(ReadStatus.ERROR);
        assertThat(in.position()).isEqualTo(position);
        assertThat(reader.error()).isEqualTo(FrameError.STREAM_ID_ZERO);
        reader.stop();
        assertThat(reader.read(in, listener)).as("ERROR stays ERROR").isEqualTo(ReadStatus.ERROR);
        assertThat(listener.events()).containsExactly("SETTINGS {}", FrameReaderRulesTest.conn(FrameError.STREAM_ID_ZERO));
    }

    @Test
    void stopFromAListenerEndsReadingAfterThatEvent() {
        FrameReader reader = new FrameReader(FrameReader.Role.SERVER);
        RecordingListener listener = new RecordingListener() {
            @Override
            public void ping(long payload, boolean ack) {
                super.ping(payload, ack);
                reader.stop();
            }
        };
        ByteBuffer in = ByteBuffer.wrap(concat(Frames.start(), Frames.ping(1), Frames.ping(2)));
        assertThat(reader.read(in, listener)).isEqualTo(ReadStatus.STOPPED);
        assertThat(in.remaining()).as("the second PING is left unread").isEqualTo(17);
        assertThat(reader.read(in, listener)).isEqualTo(ReadStatus.STOPPED);
        assertThat(listener.events()).containsExactly("SETTINGS {}", "PING 0000000000000001");
    }

    @Test
    void stopDuringDataConsumesOnlyTheDeliveredPiece() {
        FrameReader reader = new FrameReader(FrameReader.Role.SERVER);
        int[] pieces = {0};
        RecordingListener listener = new RecordingListener() {
            @Override
            public void data(int streamId, ByteBuffer in, int offset, int length, boolean endStream) {
                super.data(streamId, in, offset, length, endStream);
                pieces[0]++;
                reader.stop(); // e.g. the stream's window was overrun: FLOW_CONTROL_ERROR
            }
        };
        ByteBuffer in = ByteBuffer.wrap(concat(Frames.start(), frame(FrameType.DATA, FrameFlags.PADDED, 1,
                bytes(2, 'a', 'b', 0, 0)), Frames.ping(1)));
        assertThat(reader.read(in, listener)).isEqualTo(ReadStatus.STOPPED);
        assertThat(pieces[0]).isEqualTo(1);
        assertThat(listener.events()).containsExactly("SETTINGS {}", "DATA_START 1 fc=5", "DATA 1 \"ab\"");
    }

    @Test
    void aListenerMovingThePositionCannotDerailTheReader() {
        byte[] input = concat(Frames.start(), frame(FrameType.DATA, FrameFlags.END_STREAM, 1, ascii("hello")), Frames.ping(3));
        FrameReader reader = new FrameReader(FrameReader.Role.SERVER);
        RecordingListener listener = new RecordingListener() {
            @Override
            public void data(int streamId, ByteBuffer in, int offset, int length, boolean endStream) {
                super.data(streamId, in, offset, length, endStream);
                in.position(in.limit()); // a careless relative read
            }
        };
        assertThat(reader.read(ByteBuffer.wrap(input), listener)).isEqualTo(ReadStatus.NEED_MORE);
        assertThat(listener.events()).containsExactly("SETTINGS {}", "DATA_START 1 fc=5", "DATA 1 \"hello\" end",
                "PING 0000000000000003");
    }

    @Test
    void steadyStateAllocatesNothing() {
        assumeTrue(Allocations.supported(), "thread allocation counter not available");
        byte[] round = concat(
                frame(FrameType.HEADERS, FrameFlags.PRIORITY, 1, concat(bytes(0, 0, 0, 0, 15), new byte[3000])),
                frame(FrameType.CONTINUATION, FrameFlags.END_HEADERS, 1, new byte[1000]),
                frame(FrameType.DATA, FrameFlags.PADDED | FrameFlags.END_STREAM, 1, concat(bytes(10), new byte[8000], new byte[10])),
                Frames.settings(1, 4096, 3, 100, 4, 1 << 20, 0x99, 1),
                frame(FrameType.SETTINGS, FrameFlags.ACK, 0, new byte[0]),
                Frames.ping(9),
                frame(FrameType.WINDOW_UPDATE, 0, 0, Frames.int32(1 << 16)),
                frame(FrameType.WINDOW_UPDATE, 0, 3, Frames.int32(0)),
                frame(FrameType.PRIORITY, 0, 3, bytes(0, 0, 0, 1, 15)),
                frame(FrameType.RST_STREAM, 0, 1, Frames.int32(8)),
                frame(0x20, 0, 1, new byte[100]),
                frame(FrameType.GOAWAY, 0, 0, new byte[20]));
        FrameReader reader = new FrameReader(FrameReader.Role.SERVER);
        FrameListener quiet = new QuietListener();
        ByteBuffer start = ByteBuffer.wrap(Frames.start());
        assertThat(reader.read(start, quiet)).isEqualTo(ReadStatus.NEED_MORE);
        ByteBuffer in = ByteBuffer.allocateDirect(round.length);
        ByteBuffer staging = ByteBuffer.wrap(round);
        for (int warm = 0; warm < 2000; warm++) {
            feedInHalves(reader, quiet, in, staging, warm % 97 + 1);
        }
        long before = Allocations.allocatedBytes();
        for (int i = 0; i < 2000; i++) {
            feedInHalves(reader, quiet, in, staging, i % 97 + 1);
        }
        long allocated = Allocations.allocatedBytes() - before;
        assertThat(allocated).as("bytes allocated for 2000 rounds of 12 frames").isLessThan(1024);
    }

    /** One round of frames in two reads split at {@code cut}, the way a connection compacts. */
    private static void feedInHalves(FrameReader reader, FrameListener listener, ByteBuffer in, ByteBuffer staging, int cut) {
        in.clear();
        staging.clear().limit(cut);
        in.put(staging).flip();
        if (reader.read(in, listener) != ReadStatus.NEED_MORE) {
            throw new AssertionError("reader stopped");
        }
        in.compact();
        staging.limit(staging.capacity());
        in.put(staging).flip();
        if (reader.read(in, listener) != ReadStatus.NEED_MORE || in.hasRemaining()) {
            throw new AssertionError("round not consumed");
        }
    }

    private static byte[] randomFrame(Random random) {
        // Mostly the ten defined types, sometimes an extension type.
        int type = random.nextInt(12) < 10 ? random.nextInt(10) : 0x0A + random.nextInt(240);
        int flags = random.nextInt(4) == 0 ? random.nextInt(256)
                : new int[] {0, FrameFlags.END_STREAM, FrameFlags.END_HEADERS, FrameFlags.PADDED,
                    FrameFlags.END_HEADERS | FrameFlags.END_STREAM, FrameFlags.PRIORITY | FrameFlags.END_HEADERS}[random.nextInt(6)];
        if (type == FrameType.PUSH_PROMISE && random.nextBoolean()) {
            type = FrameType.DATA; // always fatal, so rarer
        }
        // Mostly the right kind of stream id for the type, sometimes the wrong one.
        boolean connectionFrame = type == FrameType.SETTINGS || type == FrameType.PING || type == FrameType.GOAWAY;
        boolean wrong = random.nextInt(10) == 0;
        int streamId = connectionFrame != wrong || (type == FrameType.WINDOW_UPDATE && random.nextBoolean())
                ? 0 : 1 + 2 * random.nextInt(3);
        if (random.nextInt(20) == 0) {
            streamId |= 0x8000_0000;
        }
        int length = switch (type) {
            case FrameType.SETTINGS -> 6 * random.nextInt(3) + (random.nextInt(6) == 0 ? 1 : 0);
            case FrameType.PING, FrameType.GOAWAY -> random.nextInt(4) == 0 ? random.nextInt(12) : 8;
            case FrameType.WINDOW_UPDATE, FrameType.RST_STREAM -> random.nextInt(4) == 0 ? random.nextInt(6) : 4;
            case FrameType.PRIORITY -> random.nextInt(4) == 0 ? random.nextInt(7) : 5;
            default -> random.nextInt(25);
        };
        byte[] payload = new byte[length];
        random.nextBytes(payload);
        if (type == FrameType.SETTINGS) {
            for (int at = 0; at + 6 <= length; at += 6) {
                payload[at] = 0;
                payload[at + 1] = (byte) random.nextInt(8);
                if (random.nextBoolean()) {
                    payload[at + 2] = 0;
                    payload[at + 3] = 0;
                }
            }
        }
        if (length > 0 && (flags & FrameFlags.PADDED) != 0) {
            payload[0] = (byte) random.nextInt(length + 2);
        }
        return frame(type, flags, streamId, payload);
    }

    private static int[] randomCuts(Random random, int length) {
        return IntStream.generate(() -> random.nextInt(length + 1)).limit(random.nextInt(6)).sorted().toArray();
    }

    /** Does nothing, allocates nothing. */
    private static final class QuietListener implements FrameListener {
        @Override public void dataFrameStart(int streamId, int flowControlledLength) {}
        @Override public void data(int streamId, ByteBuffer in, int offset, int length, boolean endStream) {}
        @Override public void headers(int streamId, ByteBuffer block, boolean endStream) {}
        @Override public void rstStream(int streamId, ErrorCode errorCode) {}
        @Override public void settings(Http2Settings changes) {}
        @Override public void settingsAck() {}
        @Override public void ping(long payload, boolean ack) {}
        @Override public void goAway(int lastStreamId, ErrorCode errorCode) {}
        @Override public void windowUpdate(int streamId, int increment) {}
        @Override public void streamError(int streamId, FrameError error) {}
        @Override public void connectionError(FrameError error) {}
    }
}
