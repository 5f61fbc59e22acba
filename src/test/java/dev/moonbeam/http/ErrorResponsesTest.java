package dev.moonbeam.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Each pre-encoded error response is a complete, valid response per our own strict parser. */
class ErrorResponsesTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource({"400, Bad Request", "408, Request Timeout", "413, Content Too Large",
        "414, URI Too Long", "431, Request Header Fields Too Large", "501, Not Implemented",
        "502, Bad Gateway", "503, Service Unavailable", "504, Gateway Timeout"})
    void responseIsCompleteAndClosesTheConnection(int status, String reason) {
        ByteBuffer response = ErrorResponses.forStatus(status);
        assertThat(response.isReadOnly()).isTrue();
        String text = StandardCharsets.US_ASCII.decode(response.duplicate()).toString();
        assertThat(text).startsWith("HTTP/1.1 " + status + " " + reason + "\r\n")
                .contains("\r\nConnection: close\r\n")
                .endsWith("\r\n\r\n" + status + " " + reason + "\n");

        ResponseParser parser = new ResponseParser(HttpLimits.DEFAULTS);
        parser.expectResponseTo(RequestMethod.GET);
        assertThat(parser.parse(response)).isEqualTo(ParseStatus.HEAD_COMPLETE);
        assertThat(parser.head().statusCode()).isEqualTo(status);
        assertThat(parser.head().bodyKind()).isEqualTo(BodyKind.CONTENT_LENGTH);
        assertThat(parser.head().isKeepAlive()).isFalse();
        assertThat(parser.parse(response)).isEqualTo(ParseStatus.MESSAGE_COMPLETE);
        assertThat(response.hasRemaining()).isFalse();
        assertThat(ErrorResponses.length(status)).isEqualTo(text.length());
    }

    @Test
    void forStatusReturnsIndependentViews() {
        ByteBuffer first = ErrorResponses.forStatus(400);
        first.position(10);
        assertThat(ErrorResponses.forStatus(400).position()).isZero();
    }

    @Test
    void copyToWritesWholeResponseOrNothing() {
        int length = ErrorResponses.length(503);
        ByteBuffer small = ByteBuffer.allocate(length - 1);
        assertThat(ErrorResponses.copyTo(503, small)).isFalse();
        assertThat(small.position()).isZero();
        ByteBuffer exact = ByteBuffer.allocate(length);
        assertThat(ErrorResponses.copyTo(503, exact)).isTrue();
        assertThat(exact.flip()).isEqualTo(ErrorResponses.forStatus(503));
    }

    @Test
    void unknownStatusFallsBackTo500() {
        assertThat(ErrorResponses.supports(418)).isFalse();
        assertThat(ErrorResponses.forStatus(418)).isEqualTo(ErrorResponses.forStatus(500));
    }
}
