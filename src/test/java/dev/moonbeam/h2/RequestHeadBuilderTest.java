package dev.moonbeam.h2;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moonbeam.http.HttpLimits;
import dev.moonbeam.http.ParseStatus;
import dev.moonbeam.http.RequestParser;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RequestHeadBuilderTest {

    private static final String GET = ":method=GET|:scheme=https|:path=/a?b=1|:authority=example.com";

    static Stream<Arguments> wellFormed() {
        return Stream.of(
                Arguments.of(GET, true, "GET /a?b=1 HTTP/1.1\r\nhost: example.com\r\n\r\n"),
                Arguments.of(GET + "|accept=*/*|user-agent=x y", true,
                        "GET /a?b=1 HTTP/1.1\r\nhost: example.com\r\naccept: */*\r\nuser-agent: x y\r\n\r\n"),
                // RFC 9113 §8.2.3: cookie crumbs are joined into one field.
                Arguments.of(GET + "|cookie=a=1|accept=x|cookie=b=2", true,
                        "GET /a?b=1 HTTP/1.1\r\nhost: example.com\r\naccept: x\r\ncookie: a=1; b=2\r\n\r\n"),
                // A body without a length goes to the backend chunked.
                Arguments.of(":method=POST|:scheme=https|:path=/up|:authority=h", false,
                        "POST /up HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\n\r\n"),
                Arguments.of(":method=POST|:scheme=https|:path=/up|:authority=h|content-length=5", false,
                        "POST /up HTTP/1.1\r\nhost: h\r\ncontent-length: 5\r\n\r\n"),
                // No :authority: the host field is the authority.
                Arguments.of(":method=GET|:scheme=https|:path=/|host=h.example", true,
                        "GET / HTTP/1.1\r\nhost: h.example\r\n\r\n"),
                // Both, the same (case aside): one Host line.
                Arguments.of(":method=GET|:scheme=https|:path=/|:authority=H.example|host=h.EXAMPLE", true,
                        "GET / HTTP/1.1\r\nhost: H.example\r\n\r\n"),
                Arguments.of(GET + "|te=trailers", true, "GET /a?b=1 HTTP/1.1\r\nhost: example.com\r\nte: trailers\r\n\r\n"),
                Arguments.of(":method=OPTIONS|:scheme=https|:path=*|:authority=h", true, "OPTIONS * HTTP/1.1\r\nhost: h\r\n\r\n"));
    }

    @ParameterizedTest
    @MethodSource("wellFormed")
    void writesTheHttp11HeadTheParserAccepts(String fields, boolean endStream, String expected) {
        ByteBuffer out = ByteBuffer.allocate(4096);
        RequestHeadBuilder builder = new RequestHeadBuilder(1024);
        assertThat(build(builder, out, fields, endStream)).isEqualTo(RequestHeadBuilder.Result.OK);
        String head = new String(out.array(), 0, out.position(), StandardCharsets.ISO_8859_1);
        assertThat(head).isEqualTo(expected);
        RequestParser parser = new RequestParser(HttpLimits.DEFAULTS);
        out.flip();
        assertThat(parser.parse(out)).isEqualTo(ParseStatus.HEAD_COMPLETE);
        assertThat(builder.chunked()).isEqualTo(parser.head().isChunked());
    }

    static Stream<Arguments> malformed() {
        return Stream.of(
                Arguments.of("uppercase name", GET + "|Accept=x"),
                Arguments.of("colon in a name would smuggle a field", GET + "|a:b=c"),
                Arguments.of("CRLF in a value would smuggle a field", GET + "|a=b\r\nevil: 1"),
                Arguments.of("NUL in a value", GET + "|a=b\0c"),
                Arguments.of("leading space", GET + "|a= b"),
                Arguments.of("trailing tab", GET + "|a=b\t"),
                Arguments.of("connection", GET + "|connection=close"),
                Arguments.of("keep-alive", GET + "|keep-alive=1"),
                Arguments.of("proxy-connection", GET + "|proxy-connection=1"),
                Arguments.of("transfer-encoding", GET + "|transfer-encoding=chunked"),
                Arguments.of("upgrade", GET + "|upgrade=websocket"),
                Arguments.of("te other than trailers", GET + "|te=gzip"),
                Arguments.of("pseudo after regular", ":method=GET|:scheme=https|accept=x|:path=/"),
                Arguments.of("unknown pseudo", GET + "|:protocol=websocket"),
                Arguments.of("response pseudo", GET + "|:status=200"),
                Arguments.of("repeated :method", ":method=GET|:method=GET|:scheme=https|:path=/"),
                Arguments.of("repeated :path", ":method=GET|:scheme=https|:path=/|:path=/x"),
                Arguments.of("repeated :scheme", ":method=GET|:scheme=https|:scheme=http|:path=/"),
                Arguments.of("missing :method", ":scheme=https|:path=/|:authority=h"),
                Arguments.of("missing :path", ":method=GET|:scheme=https|:authority=h"),
                Arguments.of("empty :path", ":method=GET|:scheme=https|:path=|:authority=h"),
                Arguments.of("missing :scheme", ":method=GET|:path=/|:authority=h"),
                Arguments.of("space in :path", ":method=GET|:scheme=https|:path=/a b|:authority=h"),
                Arguments.of("method not a token", ":method=G T|:scheme=https|:path=/|:authority=h"),
                Arguments.of("host differs from :authority", GET + "|host=evil.example"),
                Arguments.of("two host fields", ":method=GET|:scheme=https|:path=/|host=a|host=a"),
                Arguments.of("CONNECT with :path", ":method=CONNECT|:authority=h:443|:path=/"),
                Arguments.of("empty name", GET + "|=x"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void refusesWhatRfc9113CallsMalformed(String why, String fields) {
        ByteBuffer out = ByteBuffer.allocate(4096);
        out.put((byte) 'x');
        RequestHeadBuilder builder = new RequestHeadBuilder(1024);
        assertThat(build(builder, out, fields, true)).isEqualTo(RequestHeadBuilder.Result.MALFORMED);
        assertThat(builder.errorReason()).isNotBlank();
        assertThat(out.position()).as("nothing of a refused head stays in the buffer").isEqualTo(1);
    }

    @Test
    void connectKeepsItsAuthorityFormForTheParserToRefuse() {
        // Not a forward proxy: the HTTP/1.1 parser and the exchange refuse CONNECT as for HTTP/1.1.
        ByteBuffer out = ByteBuffer.allocate(512);
        assertThat(build(new RequestHeadBuilder(1024), out, ":method=CONNECT|:authority=h:443", true))
                .isEqualTo(RequestHeadBuilder.Result.OK);
        assertThat(new String(out.array(), 0, out.position(), StandardCharsets.ISO_8859_1))
                .isEqualTo("CONNECT h:443 HTTP/1.1\r\nhost: h:443\r\n\r\n");
    }

    @Test
    void contentLengthWithoutABodyIsMalformed() {
        RequestHeadBuilder builder = new RequestHeadBuilder(1024);
        assertThat(build(builder, ByteBuffer.allocate(512), GET + "|content-length=3", true))
                .isEqualTo(RequestHeadBuilder.Result.MALFORMED);
        assertThat(build(builder, ByteBuffer.allocate(512), GET + "|content-length=3", false))
                .isEqualTo(RequestHeadBuilder.Result.OK);
        assertThat(builder.contentLength()).isEqualTo(3);
        assertThat(builder.chunked()).isFalse();
    }

    @Test
    void aHeadLargerThanTheBufferIsTooLargeNotTruncated() {
        ByteBuffer out = ByteBuffer.allocate(200);
        RequestHeadBuilder builder = new RequestHeadBuilder(1024);
        String big = GET + "|x-big=" + "v".repeat(300);
        assertThat(build(builder, out, big, true)).isEqualTo(RequestHeadBuilder.Result.TOO_LARGE);
        assertThat(out.position()).isZero();
        String longPath = ":method=GET|:scheme=https|:authority=h|:path=/" + "p".repeat(2000);
        assertThat(build(builder, ByteBuffer.allocate(8192), longPath, true)).isEqualTo(RequestHeadBuilder.Result.TOO_LARGE);
    }

    @Test
    void theBuilderIsReusedCleanlyAfterAFailure() {
        RequestHeadBuilder builder = new RequestHeadBuilder(1024);
        assertThat(build(builder, ByteBuffer.allocate(512), GET + "|Bad=1", true)).isEqualTo(RequestHeadBuilder.Result.MALFORMED);
        ByteBuffer out = ByteBuffer.allocate(512);
        assertThat(build(builder, out, GET, true)).isEqualTo(RequestHeadBuilder.Result.OK);
        assertThat(new String(out.array(), 0, out.position(), StandardCharsets.ISO_8859_1))
                .isEqualTo("GET /a?b=1 HTTP/1.1\r\nhost: example.com\r\n\r\n");
    }

    /** Feeds "name=value|name=value" (split at the first '=') to the builder. */
    static RequestHeadBuilder.Result build(RequestHeadBuilder builder, ByteBuffer out, String fields, boolean endStream) {
        builder.begin(out);
        for (String field : fields.split("\\|")) {
            int eq = field.indexOf('=', field.startsWith(":") ? 1 : 0);
            byte[] name = field.substring(0, eq).getBytes(StandardCharsets.ISO_8859_1);
            byte[] value = field.substring(eq + 1).getBytes(StandardCharsets.ISO_8859_1);
            // Offsets inside larger arrays, as the HPACK decoder hands them over.
            byte[] nameBuf = new byte[name.length + 3];
            byte[] valueBuf = new byte[value.length + 5];
            System.arraycopy(name, 0, nameBuf, 3, name.length);
            System.arraycopy(value, 0, valueBuf, 5, value.length);
            builder.field(nameBuf, 3, name.length, valueBuf, 5, value.length);
        }
        return builder.finish(endStream);
    }
}
