package dev.moonbeam.h2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.function.ToIntFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Exact octets of every frame the writer produces (RFC 9113 §4.1, §6), and a round trip through the reader. */
class FrameWriterTest {

    /** One writer call, its documented size and the octets it must produce. */
    record Written(String name, ToIntFunction<ByteBuffer> write, int size, String hex) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Written> frames() {
        Http2Settings ours = new Http2Settings()
                .set(Http2Settings.MAX_CONCURRENT_STREAMS, 100)
                .set(Http2Settings.INITIAL_WINDOW_SIZE, 1 << 20)
                .set(Http2Settings.MAX_FRAME_SIZE, 16384)
                .set(Http2Settings.MAX_HEADER_LIST_SIZE, 65536)
                .set(Http2Settings.HEADER_TABLE_SIZE, 4096)
                .set(Http2Settings.ENABLE_PUSH, 1); // ignored: we always send 0
        return Stream.of(
            new Written("frame header", out -> FrameWriter.frameHeader(out, 0x123456, 0x1, 0x5, 0x7FFF_FFFF),
                    FrameWriter.FRAME_HEADER_BYTES, "123456 01 05 7fffffff"),
            new Written("SETTINGS", out -> FrameWriter.settings(out, ours), FrameWriter.SETTINGS_BYTES,
                    "000024 04 00 00000000 0003 00000064 0004 00100000 0005 00004000 0006 00010000 0001 00001000 0002 00000000"),
            new Written("SETTINGS, defaults: unlimited as 2^32-1", out -> FrameWriter.settings(out, new Http2Settings()),
                    FrameWriter.SETTINGS_BYTES,
                    "000024 04 00 00000000 0003 ffffffff 0004 0000ffff 0005 00004000 0006 ffffffff 0001 00001000 0002 00000000"),
            new Written("SETTINGS ACK", FrameWriter::settingsAck, FrameWriter.SETTINGS_ACK_BYTES, "000000 04 01 00000000"),
            new Written("PING", out -> FrameWriter.ping(out, 0x0102_0304_0506_0708L), FrameWriter.PING_BYTES,
                    "000008 06 00 00000000 0102030405060708"),
            new Written("PING ACK", out -> FrameWriter.pingAck(out, -1L), FrameWriter.PING_BYTES,
                    "000008 06 01 00000000 ffffffffffffffff"),
            new Written("GOAWAY", out -> FrameWriter.goAway(out, 5, ErrorCode.ENHANCE_YOUR_CALM), FrameWriter.GOAWAY_BYTES,
                    "000008 07 00 00000000 00000005 0000000b"),
            new Written("RST_STREAM", out -> FrameWriter.rstStream(out, 3, ErrorCode.CANCEL), FrameWriter.RST_STREAM_BYTES,
                    "000004 03 00 00000003 00000008"),
            new Written("WINDOW_UPDATE", out -> FrameWriter.windowUpdate(out, 0, 0x7FFF_FFFF), FrameWriter.WINDOW_UPDATE_BYTES,
                    "000004 08 00 00000000 7fffffff"),
            new Written("DATA header", out -> FrameWriter.dataHeader(out, 1, 100, FrameFlags.END_STREAM),
                    FrameWriter.FRAME_HEADER_BYTES, "000064 00 01 00000001"),
            new Written("DATA header drops flags it does not write", out -> FrameWriter.dataHeader(out, 1, 0,
                    FrameFlags.END_STREAM | FrameFlags.PADDED), FrameWriter.FRAME_HEADER_BYTES, "000000 00 01 00000001"),
            new Written("HEADERS header", out -> FrameWriter.headersHeader(out, 3, 10, FrameFlags.END_STREAM | FrameFlags.END_HEADERS),
                    FrameWriter.FRAME_HEADER_BYTES, "00000a 01 05 00000003"),
            new Written("HEADERS header without padding or priority", out -> FrameWriter.headersHeader(out, 3, 10,
                    FrameFlags.PADDED | FrameFlags.PRIORITY), FrameWriter.FRAME_HEADER_BYTES, "00000a 01 00 00000003"),
            new Written("CONTINUATION header", out -> FrameWriter.continuationHeader(out, 3, 0, FrameFlags.END_HEADERS),
                    FrameWriter.FRAME_HEADER_BYTES, "000000 09 04 00000003")
        );
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("frames")
    void writesExactOctetsOfTheDocumentedSize(Written w) {
        for (ByteOrder order : new ByteOrder[] {ByteOrder.BIG_ENDIAN, ByteOrder.LITTLE_ENDIAN}) {
            ByteBuffer out = ByteBuffer.allocate(w.size() + 5).order(order);
            out.put((byte) 0x55);
            assertThat(w.write().applyAsInt(out)).isEqualTo(w.size());
            assertThat(out.position()).isEqualTo(1 + w.size());
            assertThat(hex(out, 1, w.size())).as("%s", order).isEqualTo(w.hex().replace(" ", ""));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("frames")
    void aBufferTooSmallGetsNothing(Written w) {
        ByteBuffer out = ByteBuffer.allocate(w.size() - 1);
        assertThatThrownBy(() -> w.write().applyAsInt(out)).isInstanceOf(BufferOverflowException.class);
        assertThat(out.position()).isZero();
    }

    @Test
    void refusesWhatNoPeerCouldAccept() {
        ByteBuffer out = ByteBuffer.allocate(64);
        assertThatThrownBy(() -> FrameWriter.rstStream(out, 0, ErrorCode.CANCEL)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FrameWriter.windowUpdate(out, 1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FrameWriter.dataHeader(out, 0, 1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FrameWriter.dataHeader(out, 1, 1 << 24, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FrameWriter.frameHeader(out, -1, 0, 0, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThat(out.position()).isZero();
    }

    /** Everything the writer produces, read back by a server-side reader at every split. */
    @Test
    void roundTripThroughTheReader() {
        ByteBuffer out = ByteBuffer.allocate(512);
        out.put(Frames.preface());
        Http2Settings ours = new Http2Settings().set(Http2Settings.MAX_CONCURRENT_STREAMS, 10)
                .set(Http2Settings.INITIAL_WINDOW_SIZE, 1_000_000);
        FrameWriter.settings(out, ours);
        FrameWriter.settingsAck(out);
        FrameWriter.headersHeader(out, 1, 3, 0);
        out.put(Frames.ascii("abc"));
        FrameWriter.continuationHeader(out, 1, 2, FrameFlags.END_HEADERS);
        out.put(Frames.ascii("de"));
        FrameWriter.dataHeader(out, 1, 5, 0);
        out.put(Frames.ascii("hello"));
        FrameWriter.dataHeader(out, 1, 0, FrameFlags.END_STREAM);
        FrameWriter.windowUpdate(out, 0, 65_535);
        FrameWriter.windowUpdate(out, 1, 1);
        FrameWriter.ping(out, 42);
        FrameWriter.pingAck(out, 43);
        FrameWriter.rstStream(out, 1, ErrorCode.REFUSED_STREAM);
        FrameWriter.goAway(out, 1, ErrorCode.NO_ERROR);
        out.flip();
        byte[] input = new byte[out.remaining()];
        out.get(input);

        assertThat(Feed.eventsEveryWay(Feed.Setup.SERVER, input)).containsExactly(
                "SETTINGS {HEADER_TABLE_SIZE=4096, ENABLE_PUSH=0, MAX_CONCURRENT_STREAMS=10, INITIAL_WINDOW_SIZE=1000000, "
                        + "MAX_FRAME_SIZE=16384, MAX_HEADER_LIST_SIZE=4294967295}",
                "SETTINGS_ACK",
                "HEADERS 1 \"abcde\"",
                "DATA_START 1 fc=5", "DATA 1 \"hello\"",
                "DATA_START 1 fc=0", "DATA 1 \"\" end",
                "WINDOW_UPDATE 0 65535", "WINDOW_UPDATE 1 1",
                "PING 000000000000002a", "PING 000000000000002b ack",
                "RST_STREAM 1 REFUSED_STREAM",
                "GOAWAY 1 NO_ERROR",
                "status NEED_MORE");
    }

    /** Our SETTINGS as the peer's reader sees them: the same values, push off. */
    @Test
    void settingsRoundTripIntoThePeersHolder() {
        Http2Settings ours = new Http2Settings().set(Http2Settings.MAX_CONCURRENT_STREAMS, 250)
                .set(Http2Settings.INITIAL_WINDOW_SIZE, Http2Settings.MAX_WINDOW_SIZE)
                .set(Http2Settings.MAX_FRAME_SIZE, Http2Settings.MAX_MAX_FRAME_SIZE)
                .set(Http2Settings.MAX_HEADER_LIST_SIZE, 8192)
                .set(Http2Settings.HEADER_TABLE_SIZE, 0);
        ByteBuffer out = ByteBuffer.allocate(FrameWriter.SETTINGS_BYTES);
        FrameWriter.settings(out, ours);
        out.flip();

        Http2Settings peerView = new Http2Settings();
        FrameReader peer = new FrameReader(FrameReader.Role.CLIENT);
        assertThat(peer.read(out, new RecordingListener() {
            @Override
            public void settings(Http2Settings changes) {
                peerView.apply(changes);
            }
        })).isEqualTo(ReadStatus.NEED_MORE);
        assertThat(peerView.maxConcurrentStreams()).isEqualTo(250);
        assertThat(peerView.initialWindowSize()).isEqualTo(Integer.MAX_VALUE);
        assertThat(peerView.maxFrameSize()).isEqualTo(Http2Settings.MAX_MAX_FRAME_SIZE);
        assertThat(peerView.maxHeaderListSize()).isEqualTo(8192);
        assertThat(peerView.headerTableSize()).isZero();
        assertThat(peerView.enablePush()).isFalse();
    }

    private static String hex(ByteBuffer out, int from, int length) {
        byte[] bytes = new byte[length];
        out.get(from, bytes);
        return HexFormat.of().formatHex(bytes);
    }
}
