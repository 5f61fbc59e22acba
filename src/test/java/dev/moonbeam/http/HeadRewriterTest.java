package dev.moonbeam.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** HeadRewriter against exact expected bytes. */
class HeadRewriterTest {
    private static final ForwardContext REPLACE = ForwardContext.of("192.0.2.7",
            ForwardContext.Scheme.HTTPS, ForwardContext.ForwardedHeaders.REPLACE);
    private static final ForwardContext TRUST = ForwardContext.of("192.0.2.7",
            ForwardContext.Scheme.HTTP, ForwardContext.ForwardedHeaders.TRUST_AND_APPEND);

    static Stream<Arguments> requests() {
        return Stream.of(
                Arguments.of("plain request, our X-Forwarded-* appended", REPLACE,
                        "GET /a?b=%20 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\nX-Custom:  spaced \r\n\r\n",
                        "GET /a?b=%20 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\nX-Custom:  spaced \r\n"
                                + "X-Forwarded-For: 192.0.2.7\r\nX-Forwarded-Proto: https\r\n"
                                + "X-Forwarded-Host: example.com\r\n\r\n"),
                Arguments.of("hop-by-hop removed, framing kept even when listed", REPLACE,
                        "POST /p HTTP/1.1\r\nHost: h\r\nConnection: close, X-Secret, Content-Length\r\n"
                                + "X-Secret: 1\r\nTE: trailers\r\nKeep-Alive: timeout=5\r\n"
                                + "Proxy-Connection: keep-alive\r\nTrailer: X-Sum\r\nUpgrade: h2c\r\n"
                                + "Content-Length: 2\r\nX-Keep: yes\r\n\r\nok",
                        "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nX-Keep: yes\r\n"
                                + "X-Forwarded-For: 192.0.2.7\r\nX-Forwarded-Proto: https\r\n"
                                + "X-Forwarded-Host: h\r\n\r\n"),
                Arguments.of("upgrade keeps Upgrade and asks for it", REPLACE,
                        "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                                + "Sec-WebSocket-Key: k==\r\n\r\n",
                        "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k==\r\n"
                                + "X-Forwarded-For: 192.0.2.7\r\nX-Forwarded-Proto: https\r\n"
                                + "X-Forwarded-Host: h\r\nConnection: upgrade\r\n\r\n"),
                Arguments.of("untrusted X-Forwarded-* replaced", REPLACE,
                        "GET / HTTP/1.1\r\nX-Forwarded-For: 6.6.6.6\r\nHost: h\r\n"
                                + "X-Forwarded-Proto: http\r\nX-Forwarded-Host: evil\r\n\r\n",
                        "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 192.0.2.7\r\n"
                                + "X-Forwarded-Proto: https\r\nX-Forwarded-Host: h\r\n\r\n"),
                Arguments.of("trusted X-Forwarded-For joined and appended in place", TRUST,
                        "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.1.1.1\r\nA: 1\r\n"
                                + "x-forwarded-for: 2.2.2.2, 3.3.3.3\r\nX-Forwarded-Proto: https\r\n"
                                + "X-Forwarded-Host: front\r\n\r\n",
                        "GET / HTTP/1.1\r\nHost: h\r\n"
                                + "X-Forwarded-For: 1.1.1.1, 2.2.2.2, 3.3.3.3, 192.0.2.7\r\nA: 1\r\n"
                                + "X-Forwarded-Proto: https\r\nX-Forwarded-Host: front\r\n\r\n"),
                Arguments.of("trusted but absent: ours added", TRUST,
                        "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
                        "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 192.0.2.7\r\n"
                                + "X-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n\r\n"),
                Arguments.of("Transfer-Encoding spelling normalised", REPLACE,
                        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\tCHUNKED \r\n\r\n0\r\n\r\n",
                        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                                + "X-Forwarded-For: 192.0.2.7\r\nX-Forwarded-Proto: https\r\n"
                                + "X-Forwarded-Host: h\r\n\r\n"),
                Arguments.of("HTTP/1.0 without Host asks the backend for keep-alive", REPLACE,
                        "GET /old HTTP/1.0\r\nUser-Agent: x\r\n\r\n",
                        "GET /old HTTP/1.0\r\nUser-Agent: x\r\nX-Forwarded-For: 192.0.2.7\r\n"
                                + "X-Forwarded-Proto: https\r\nConnection: keep-alive\r\n\r\n"),
                Arguments.of("a known field listed in Connection is hop-by-hop too (RFC 9110 §7.6.1)", REPLACE,
                        "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nConnection: Expect, Host, "
                                + "Content-Length\r\nContent-Length: 1\r\n\r\nx",
                        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nX-Forwarded-For: 192.0.2.7\r\n"
                                + "X-Forwarded-Proto: https\r\nX-Forwarded-Host: h\r\n\r\n"),
                Arguments.of("duplicates kept in order, absolute-form target byte for byte", REPLACE,
                        "GET http://other.example/x HTTP/1.1\r\nHost: h\r\nAccept: a\r\nB: 1\r\nAccept: b\r\n\r\n",
                        "GET http://other.example/x HTTP/1.1\r\nHost: h\r\nAccept: a\r\nB: 1\r\nAccept: b\r\n"
                                + "X-Forwarded-For: 192.0.2.7\r\nX-Forwarded-Proto: https\r\n"
                                + "X-Forwarded-Host: h\r\n\r\n"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("requests")
    void requestHeadIsRewrittenExactly(String name, ForwardContext context, String input, String expected) {
        HttpHead head = parseRequest(input);
        ByteBuffer out = ByteBuffer.allocate(1024);
        assertThat(HeadRewriter.writeRequest(head, context, out)).isEqualTo(HeadRewriter.Result.WRITTEN);
        assertThat(text(out)).isEqualTo(expected);
    }

    static Stream<Arguments> responses() {
        String ka11 = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
        String ka10 = "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
        String close11 = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
        return Stream.of(
                Arguments.of("keep-alive 1.1: backend connection headers dropped, cookies kept", ka11,
                        "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nConnection: keep-alive\r\n"
                                + "Keep-Alive: timeout=5\r\nSet-Cookie: b=2\r\nContent-Length: 2\r\n\r\n",
                        "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 2\r\n\r\n"),
                Arguments.of("an HTTP/1.0 backend's status line carries our version", ka11,
                        "HTTP/1.0 404 Not Found\r\nContent-Length: 2\r\n\r\n",
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n"),
                Arguments.of("backend close does not close the client", ka11,
                        "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
                        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
                Arguments.of("1.0 client with keep-alive is told so", ka10,
                        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
                        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n"),
                Arguments.of("plain 1.0 client gets close", "GET / HTTP/1.0\r\n\r\n",
                        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
                        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
                Arguments.of("client asked to close", close11,
                        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
                        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
                Arguments.of("close-delimited body closes the client too", ka11,
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n",
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"),
                Arguments.of("chunked to a 1.0 client closes", ka10,
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"),
                Arguments.of("101 keeps Upgrade", "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
                        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                                + "Sec-WebSocket-Accept: x\r\n\r\n",
                        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: x\r\n"
                                + "Connection: upgrade\r\n\r\n"),
                Arguments.of("interim 100 passes without a Connection decision", ka11,
                        "HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 100 Continue\r\n\r\n"),
                Arguments.of("known fields listed in Connection are dropped, framing kept", ka11,
                        "HTTP/1.1 200 OK\r\nConnection: Trailer, Expect, X-Forwarded-For, Content-Length\r\n"
                                + "Trailer: X-Sum\r\nExpect: x\r\nX-Forwarded-For: 1.2.3.4\r\nContent-Length: 0\r\n\r\n",
                        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
                Arguments.of("fields listed in Connection are dropped", ka11,
                        "HTTP/1.1 200 OK\r\nConnection: X-Hop\r\nX-Hop: 1\r\nUpgrade: h2\r\nContent-Length: 0\r\n\r\n",
                        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("responses")
    void responseHeadIsRewrittenExactly(String name, String request, String response, String expected) {
        HttpHead requestHead = parseRequest(request);
        ResponseParser parser = new ResponseParser(HttpLimits.DEFAULTS);
        parser.expectResponseTo(requestHead.method());
        assertThat(parser.parse(ascii(response))).isEqualTo(ParseStatus.HEAD_COMPLETE);
        ByteBuffer out = ByteBuffer.allocate(1024);
        assertThat(HeadRewriter.writeResponse(requestHead, parser.head(), out))
                .isEqualTo(HeadRewriter.Result.WRITTEN);
        assertThat(text(out)).isEqualTo(expected);
    }

    @Test
    void tooSmallBufferWritesNothingAtEverySize() {
        HttpHead head = parseRequest("GET /x HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\nA: b\r\n\r\n");
        ByteBuffer big = ByteBuffer.allocate(1024);
        HeadRewriter.writeRequest(head, REPLACE, big);
        int needed = big.position();
        for (int size = 0; size < needed; size++) {
            ByteBuffer out = ByteBuffer.allocate(size + 3);
            out.position(3);
            assertThat(HeadRewriter.writeRequest(head, REPLACE, out)).as("size %d", size)
                    .isEqualTo(HeadRewriter.Result.BUFFER_TOO_SMALL);
            assertThat(out.position()).isEqualTo(3);
        }
        ByteBuffer exact = ByteBuffer.allocate(needed);
        assertThat(HeadRewriter.writeRequest(head, REPLACE, exact)).isEqualTo(HeadRewriter.Result.WRITTEN);
        assertThat(exact.hasRemaining()).isFalse();
    }

    @Test
    void clientKeepAliveFollowsRequestAndResponse() {
        HttpHead request = parseRequest("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        ResponseParser parser = new ResponseParser(HttpLimits.DEFAULTS);
        parser.expectResponseTo(RequestMethod.GET);
        parser.parse(ascii("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n"));
        assertThat(parser.head().isKeepAlive()).isFalse(); // backend connection retires
        assertThat(HeadRewriter.clientKeepAlive(request, parser.head())).isTrue();
    }

    static HttpHead parseRequest(String input) {
        RequestParser parser = new RequestParser(HttpLimits.DEFAULTS);
        assertThat(parser.parse(ascii(input))).isEqualTo(ParseStatus.HEAD_COMPLETE);
        return parser.head();
    }

    private static ByteBuffer ascii(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.ISO_8859_1));
    }

    private static String text(ByteBuffer out) {
        return new String(out.array(), 0, out.position(), StandardCharsets.ISO_8859_1);
    }
}
