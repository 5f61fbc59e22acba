package dev.moonbeam.h2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Defaults, validation of received values and change tracking (RFC 9113 §6.5.2, §6.5.3). */
class Http2SettingsTest {

    @Test
    void defaultsAreTheRfcInitialValues() {
        Http2Settings settings = new Http2Settings();
        assertThat(settings.headerTableSize()).isEqualTo(4096);
        assertThat(settings.enablePush()).isTrue();
        assertThat(settings.maxConcurrentStreams()).isEqualTo(Http2Settings.UNLIMITED);
        assertThat(settings.initialWindowSize()).isEqualTo(65_535);
        assertThat(settings.maxFrameSize()).isEqualTo(16_384);
        assertThat(settings.maxHeaderListSize()).isEqualTo(Http2Settings.UNLIMITED);
        assertThat(settings.isEmpty()).isTrue();
        assertThat(settings).hasToString("{}");
    }

    static Stream<Arguments> values() {
        return Stream.of(
            Arguments.of(Http2Settings.HEADER_TABLE_SIZE, 0L, ErrorCode.NO_ERROR),
            Arguments.of(Http2Settings.HEADER_TABLE_SIZE, 0xFFFF_FFFFL, ErrorCode.NO_ERROR),
            Arguments.of(Http2Settings.ENABLE_PUSH, 0L, ErrorCode.NO_ERROR),
            Arguments.of(Http2Settings.ENABLE_PUSH, 1L, ErrorCode.NO_ERROR),
            Arguments.of(Http2Settings.ENABLE_PUSH, 2L, ErrorCode.PROTOCOL_ERROR),
            Arguments.of(Http2Settings.ENABLE_PUSH, 0xFFFF_FFFFL, ErrorCode.PROTOCOL_ERROR),
            Arguments.of(Http2Settings.MAX_CONCURRENT_STREAMS, 0L, ErrorCode.NO_ERROR),
            Arguments.of(Http2Settings.INITIAL_WINDOW_SIZE, 0L, ErrorCode.NO_ERROR),
            Arguments.of(Http2Settings.INITIAL_WINDOW_SIZE, 0x7FFF_FFFFL, ErrorCode.NO_ERROR),
            Arguments.of(Http2Settings.INITIAL_WINDOW_SIZE, 0x8000_0000L, ErrorCode.FLOW_CONTROL_ERROR),
            Arguments.of(Http2Settings.MAX_FRAME_SIZE, 16_383L, ErrorCode.PROTOCOL_ERROR),
            Arguments.of(Http2Settings.MAX_FRAME_SIZE, 16_384L, ErrorCode.NO_ERROR),
            Arguments.of(Http2Settings.MAX_FRAME_SIZE, 16_777_215L, ErrorCode.NO_ERROR),
            Arguments.of(Http2Settings.MAX_FRAME_SIZE, 16_777_216L, ErrorCode.PROTOCOL_ERROR),
            Arguments.of(Http2Settings.MAX_HEADER_LIST_SIZE, 0L, ErrorCode.NO_ERROR),
            Arguments.of(0x0, 7L, ErrorCode.NO_ERROR),
            Arguments.of(0x8, 1L, ErrorCode.NO_ERROR),   // RFC 8441 ENABLE_CONNECT_PROTOCOL: unknown to us
            Arguments.of(0xFFFF, 0xFFFF_FFFFL, ErrorCode.NO_ERROR));
    }

    @ParameterizedTest(name = "{0}={1} -> {2}")
    @MethodSource("values")
    void validatesReceivedValues(int id, long value, ErrorCode expected) {
        assertThat(Http2Settings.validate(id, value)).isEqualTo(expected);
    }

    @Test
    void setMarksAndApplyCopiesOnlyWhatWasSet() {
        Http2Settings peer = new Http2Settings().set(Http2Settings.MAX_FRAME_SIZE, 20_000);
        Http2Settings changes = new Http2Settings().set(Http2Settings.INITIAL_WINDOW_SIZE, 10);
        assertThat(changes.isSet(Http2Settings.INITIAL_WINDOW_SIZE)).isTrue();
        assertThat(changes.isSet(Http2Settings.MAX_FRAME_SIZE)).isFalse();
        assertThat(changes.isSet(0x99)).isFalse();

        peer.apply(changes);
        assertThat(peer.initialWindowSize()).isEqualTo(10);
        assertThat(peer.maxFrameSize()).isEqualTo(20_000);
        assertThat(peer).hasToString("{INITIAL_WINDOW_SIZE=10, MAX_FRAME_SIZE=20000}");

        changes.clear();
        assertThat(changes.isEmpty()).isTrue();
        assertThat(changes.initialWindowSize()).isEqualTo(65_535);
        assertThat(changes.get(Http2Settings.INITIAL_WINDOW_SIZE)).isEqualTo(65_535);
    }

    @Test
    void settingAnInvalidValueIsAProgrammingError() {
        Http2Settings settings = new Http2Settings();
        assertThatThrownBy(() -> settings.set(Http2Settings.ENABLE_PUSH, 2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> settings.set(0x99, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> settings.set(Http2Settings.HEADER_TABLE_SIZE, -1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> settings.get(0)).isInstanceOf(IllegalArgumentException.class);
        assertThat(settings.isEmpty()).isTrue();
    }

    @Test
    void namesForLogs() {
        assertThat(Http2Settings.name(Http2Settings.MAX_HEADER_LIST_SIZE)).isEqualTo("MAX_HEADER_LIST_SIZE");
        assertThat(Http2Settings.name(0x8)).isEqualTo("0x8");
    }
}
