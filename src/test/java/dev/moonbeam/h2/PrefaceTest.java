package dev.moonbeam.h2;

import static dev.moonbeam.h2.FrameReaderRulesTest.conn;
import static dev.moonbeam.h2.Frames.ascii;
import static dev.moonbeam.h2.Frames.concat;
import static dev.moonbeam.h2.Frames.frame;
import static dev.moonbeam.h2.Frames.settings;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The client connection preface and the SETTINGS frame that must follow it (RFC 9113 §3.4). */
class PrefaceTest {
    private static final List<String> BAD_PREFACE = List.of(conn(FrameError.BAD_PREFACE), "status ERROR");
    private static final List<String> NOT_SETTINGS = List.of(conn(FrameError.FIRST_FRAME_NOT_SETTINGS), "status ERROR");

    @Test
    void prefaceIsTheRfcString() {
        assertThat(FrameReader.PREFACE).isEqualTo("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
        assertThat(ascii(FrameReader.PREFACE)).hasSize(FrameReader.PREFACE_BYTES);
    }

    @Test
    void prefaceAndSettingsAtEverySplit() {
        byte[] input = concat(Frames.preface(), settings(3, 100), Frames.ping(7));
        assertThat(Feed.eventsEveryWay(Feed.Setup.SERVER, input))
                .containsExactly("SETTINGS {MAX_CONCURRENT_STREAMS=100}", "PING 0000000000000007", "status NEED_MORE");
    }

    @Test
    void partialPrefaceIsConsumedAndWaits() {
        for (int length = 0; length < FrameReader.PREFACE_BYTES; length++) {
            FrameReader reader = new FrameReader(FrameReader.Role.SERVER);
            ByteBuffer in = ByteBuffer.wrap(Frames.preface(), 0, length);
            assertThat(reader.read(in, new RecordingListener())).isEqualTo(ReadStatus.NEED_MORE);
            assertThat(in.hasRemaining()).isFalse();
        }
    }

    static Stream<Integer> offsets() {
        return IntStream.range(0, FrameReader.PREFACE_BYTES).boxed();
    }

    /** A wrong octet anywhere fails as soon as it arrives, without waiting for 24 octets. */
    @ParameterizedTest(name = "octet {0} altered")
    @MethodSource("offsets")
    void anyAlteredOctetIsRefusedOnArrival(int offset) {
        byte[] preface = Frames.preface();
        preface[offset] ^= 0x20;
        byte[] upToBadOctet = java.util.Arrays.copyOf(preface, offset + 1);
        assertThat(Feed.eventsEveryWay(Feed.Setup.SERVER, upToBadOctet)).isEqualTo(BAD_PREFACE);
        assertThat(Feed.eventsEveryWay(Feed.Setup.SERVER, concat(preface, settings()))).isEqualTo(BAD_PREFACE);
    }

    static Stream<byte[]> strangers() {
        return Stream.of(
            ascii("GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
            ascii("PRI * HTTP/2.0\r\n\r\n\r\n"), // RFC 7540 drafts' preface without "SM"
            ascii("pri * http/2.0\r\n\r\nsm\r\n\r\n"),
            Frames.bytes(0x16, 0x03, 0x01, 0x02, 0x00), // a TLS ClientHello on the cleartext port
            settings()); // a client that skipped the preface
    }

    @ParameterizedTest
    @MethodSource("strangers")
    void somethingElseIsRefused(byte[] input) {
        assertThat(Feed.eventsEveryWay(Feed.Setup.SERVER, input)).isEqualTo(BAD_PREFACE);
    }

    static Stream<byte[]> firstFrames() {
        return Stream.of(
            Frames.ping(1),
            frame(FrameType.SETTINGS, FrameFlags.ACK, 0, new byte[0]),
            frame(FrameType.DATA, 0, 1, ascii("x")),
            frame(FrameType.HEADERS, FrameFlags.END_HEADERS, 1, ascii("x")),
            frame(FrameType.WINDOW_UPDATE, 0, 0, Frames.int32(1)),
            frame(FrameType.GOAWAY, 0, 0, new byte[8]),
            frame(0x20, 0, 0, new byte[0]),
            Frames.header(1 << 20, FrameType.DATA, 0, 1));
    }

    @ParameterizedTest
    @MethodSource("firstFrames")
    void theFirstFrameMustBeSettings(byte[] first) {
        assertThat(Feed.eventsEveryWay(Feed.Setup.SERVER, concat(Frames.preface(), first))).isEqualTo(NOT_SETTINGS);
        assertThat(Feed.eventsEveryWay(Feed.Setup.CLIENT, first)).isEqualTo(NOT_SETTINGS);
    }

    @Test
    void aClientReadsNoPreface() {
        assertThat(Feed.eventsEveryWay(Feed.Setup.CLIENT, concat(settings(4, 1), Frames.ping(2))))
                .containsExactly("SETTINGS {INITIAL_WINDOW_SIZE=1}", "PING 0000000000000002", "status NEED_MORE");
        // The client preface sent to a client reads as a frame header of type 0x20: not SETTINGS.
        assertThat(Feed.eventsEveryWay(Feed.Setup.CLIENT, Frames.preface())).isEqualTo(NOT_SETTINGS);
    }

    @Test
    void settingsLaterNeedNotComeFirstAgain() {
        byte[] input = concat(Frames.start(), Frames.ping(1), settings(4, 5));
        assertThat(Feed.eventsEveryWay(Feed.Setup.SERVER, input)).containsExactly(
                "SETTINGS {}", "PING 0000000000000001", "SETTINGS {INITIAL_WINDOW_SIZE=5}", "status NEED_MORE");
    }
}
