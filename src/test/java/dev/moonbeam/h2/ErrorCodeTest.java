package dev.moonbeam.h2;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Wire values of RFC 9113 §7 and tolerance of codes from newer registries. */
class ErrorCodeTest {

    static Stream<Arguments> codes() {
        return Stream.of(
            Arguments.of(0x0, ErrorCode.NO_ERROR), Arguments.of(0x1, ErrorCode.PROTOCOL_ERROR),
            Arguments.of(0x2, ErrorCode.INTERNAL_ERROR), Arguments.of(0x3, ErrorCode.FLOW_CONTROL_ERROR),
            Arguments.of(0x4, ErrorCode.SETTINGS_TIMEOUT), Arguments.of(0x5, ErrorCode.STREAM_CLOSED),
            Arguments.of(0x6, ErrorCode.FRAME_SIZE_ERROR), Arguments.of(0x7, ErrorCode.REFUSED_STREAM),
            Arguments.of(0x8, ErrorCode.CANCEL), Arguments.of(0x9, ErrorCode.COMPRESSION_ERROR),
            Arguments.of(0xa, ErrorCode.CONNECT_ERROR), Arguments.of(0xb, ErrorCode.ENHANCE_YOUR_CALM),
            Arguments.of(0xc, ErrorCode.INADEQUATE_SECURITY), Arguments.of(0xd, ErrorCode.HTTP_1_1_REQUIRED));
    }

    @ParameterizedTest(name = "{0} = {1}")
    @MethodSource("codes")
    void wireValuesBothWays(int code, ErrorCode error) {
        assertThat(error.code()).isEqualTo(code);
        assertThat(ErrorCode.fromCode(code)).isEqualTo(error);
    }

    @Test
    void everyCodeIsInTheTable() {
        assertThat(codes()).hasSize(ErrorCode.values().length);
    }

    @ParameterizedTest(name = "0x{0}")
    @MethodSource("unknown")
    void unknownCodesActLikeInternalError(int code) {
        assertThat(ErrorCode.fromCode(code)).isEqualTo(ErrorCode.INTERNAL_ERROR);
    }

    static Stream<Integer> unknown() {
        return Stream.of(0xe, 0xff, 0x1234, Integer.MAX_VALUE, Integer.MIN_VALUE, -1);
    }
}
