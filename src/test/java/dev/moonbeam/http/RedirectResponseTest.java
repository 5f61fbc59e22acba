package dev.moonbeam.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RedirectResponseTest {
    private static HttpHead parse(String request) {
        RequestParser parser = new RequestParser(HttpLimits.DEFAULTS);
        assertThat(parser.parse(ByteBuffer.wrap(request.getBytes(StandardCharsets.US_ASCII)))).isEqualTo(ParseStatus.HEAD_COMPLETE);
        return parser.head();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "GET /a/b?c=1 HTTP/1.1\\r\\nHost: example.com\\r\\n\\r\\n | 443  | https://example.com/a/b?c=1",
            "GET / HTTP/1.1\\r\\nHost: example.com:80\\r\\n\\r\\n       | 443  | https://example.com/",
            "GET /x HTTP/1.1\\r\\nHost: example.com:8080\\r\\n\\r\\n    | 8443 | https://example.com:8443/x",
            "GET /x HTTP/1.1\\r\\nHost: [::1]:80\\r\\n\\r\\n            | 443  | https://[::1]/x",
            "GET /x HTTP/1.1\\r\\nHost: [::1]\\r\\n\\r\\n               | 443  | https://[::1]/x",
            "GET http://example.com/p?q HTTP/1.1\\r\\nHost: example.com\\r\\n\\r\\n | 443 | https://example.com/p?q",
            "GET http://example.com HTTP/1.1\\r\\nHost: example.com\\r\\n\\r\\n | 443 | https://example.com/",
    })
    void redirectsToTheSameHostAndTarget(String request, int port, String location) {
        ByteBuffer out = ByteBuffer.allocate(512);
        assertThat(RedirectResponse.write(parse(request.replace("\\r\\n", "\r\n")), port, false, out)).isTrue();
        assertThat(new String(out.array(), 0, out.position(), StandardCharsets.US_ASCII))
                .isEqualTo("HTTP/1.1 301 Moved Permanently\r\nLocation: " + location + "\r\nContent-Length: 0\r\n\r\n");
    }

    @ParameterizedTest
    @CsvSource({"true", "false"})
    void closeIsSaidWhenAsked(boolean close) {
        ByteBuffer out = ByteBuffer.allocate(512);
        RedirectResponse.write(parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), 443, close, out);
        assertThat(new String(out.array(), 0, out.position(), StandardCharsets.US_ASCII).contains("Connection: close")).isEqualTo(close);
    }

    @ParameterizedTest
    @CsvSource({"GET / HTTP/1.0\\r\\n\\r\\n"})
    void noHostNoRedirect(String request) {
        ByteBuffer out = ByteBuffer.allocate(512);
        assertThat(RedirectResponse.write(parse(request.replace("\\r\\n", "\r\n")), 443, false, out)).isFalse();
        assertThat(out.position()).isZero();
    }

    @ParameterizedTest
    @CsvSource({"10", "60"})
    void tooSmallWritesNothing(int size) {
        ByteBuffer out = ByteBuffer.allocate(size);
        assertThat(RedirectResponse.write(parse("GET /long/path HTTP/1.1\r\nHost: example.com\r\n\r\n"), 443, false, out)).isFalse();
        assertThat(out.position()).isZero();
    }
}
