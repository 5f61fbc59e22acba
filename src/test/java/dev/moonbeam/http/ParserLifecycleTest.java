package dev.moonbeam.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;

/** Message sequences on one connection: pipelining, reset, interim responses, limits, garbage. */
class ParserLifecycleTest {

    @Test
    void pipelinedRequestsAreParsedOneAfterAnotherAfterReset() {
        RequestParser parser = new RequestParser(HttpLimits.DEFAULTS);
        ByteBuffer in = ascii("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
                + "GET /b HTTP/1.1\r\nHost: h\r\n\r\n"
                + "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n");
        String[] targets = {"/a", "/b", "/c"};
        for (String target : targets) {
            assertThat(parser.parse(in)).isEqualTo(ParseStatus.HEAD_COMPLETE);
            assertThat(parser.head().text(parser.head().targetStart(), parser.head().targetEnd()))
                    .isEqualTo(target);
            ParseStatus status = parser.parse(in);
            if (status == ParseStatus.BODY) {
                status = parser.parse(in);
            }
            assertThat(status).isEqualTo(ParseStatus.MESSAGE_COMPLETE);
            int position = in.position();
            assertThat(parser.parse(in)).isEqualTo(ParseStatus.MESSAGE_COMPLETE);
            assertThat(in.position()).as("never consumes the next request").isEqualTo(position);
            parser.reset();
        }
        assertThat(in.hasRemaining()).isFalse();
        assertThat(parser.endOfInput()).isEqualTo(ParseStatus.NEED_MORE); // clean close when idle
    }

    /**
     * A bad request line or field line is an error as soon as its line ends, before the head does:
     * a client that sent it and waits would otherwise be answered only by the head timeout.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
        "G@T / HTTP/1.1\\r\\n | BAD_METHOD",
        "GET / HTTP/2.0\\r\\n | BAD_VERSION",
        "GET /\\r\\n | BAD_REQUEST_LINE",
        "CONNECT h:443 HTTP/1.1\\r\\n | CONNECT_REFUSED",
        "GET / HTTP/1.1\\r\\nHost: h\\r\\nX: 1\\r\\n folded\\r\\n | OBS_FOLD",
        "GET / HTTP/1.1\\r\\nHost : h\\r\\n | WHITESPACE_BEFORE_COLON",
        "GET / HTTP/1.1\\r\\nnocolon\\r\\n | BAD_HEADER_LINE",
    })
    void aBadLineIsAnErrorBeforeTheHeadEnds(String lines, HttpError expected) {
        RequestParser parser = new RequestParser(HttpLimits.DEFAULTS);
        assertThat(parser.parse(ascii(lines.replace("\\r\\n", "\r\n")))).isEqualTo(ParseStatus.ERROR);
        assertThat(parser.error()).isEqualTo(expected);
    }

    @Test
    void goodLinesWaitForTheRestOfTheHead() {
        RequestParser parser = new RequestParser(HttpLimits.DEFAULTS);
        assertThat(parser.parse(ascii("GET / HTTP/1.1\r\nHost: h\r\n"))).isEqualTo(ParseStatus.NEED_MORE);
        assertThat(parser.parse(ascii("\r\n"))).isEqualTo(ParseStatus.HEAD_COMPLETE);
        assertThat(parser.head().headerCount()).isEqualTo(1);
    }

    @Test
    void bodyBytesAreConsumedOnlyUpToTheMessageEnd() {
        RequestParser parser = new RequestParser(HttpLimits.DEFAULTS);
        ByteBuffer in = ascii("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\n12");
        assertThat(parser.parse(in)).isEqualTo(ParseStatus.HEAD_COMPLETE);
        int bodyStart = in.position();
        assertThat(parser.parse(in)).isEqualTo(ParseStatus.BODY);
        assertThat(in.position() - bodyStart).isEqualTo(2);
        assertThat(parser.parse(in)).isEqualTo(ParseStatus.NEED_MORE);
        ByteBuffer more = ascii("34GET");
        assertThat(parser.parse(more)).isEqualTo(ParseStatus.MESSAGE_COMPLETE);
        assertThat(more.remaining()).isEqualTo(3);
    }

    @Test
    void interimResponsesPrecedeTheFinalOne() {
        ResponseParser parser = new ResponseParser(HttpLimits.DEFAULTS);
        parser.expectResponseTo(RequestMethod.POST);
        ByteBuffer in = ascii("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: <a>\r\n\r\n"
                + "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
        int interim = 0;
        for (int guard = 0; guard < 5; guard++) {
            assertThat(parser.parse(in)).isEqualTo(ParseStatus.HEAD_COMPLETE);
            if (!parser.isInterim()) {
                break;
            }
            assertThat(parser.parse(in)).isEqualTo(ParseStatus.MESSAGE_COMPLETE);
            interim++;
            parser.continueAfterInterim();
        }
        assertThat(interim).isEqualTo(2);
        assertThat(parser.head().statusCode()).isEqualTo(201);
        assertThat(parser.parse(in)).isEqualTo(ParseStatus.MESSAGE_COMPLETE);
        assertThat(in.hasRemaining()).isFalse();
    }

    @Test
    void switchingProtocolsLeavesTunnelBytesAlone() {
        ResponseParser parser = new ResponseParser(HttpLimits.DEFAULTS);
        parser.expectResponseTo(RequestMethod.GET);
        ByteBuffer in = ascii("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\n\r\nframe");
        assertThat(parser.parse(in)).isEqualTo(ParseStatus.HEAD_COMPLETE);
        assertThat(parser.isSwitchingProtocols()).isTrue();
        assertThat(parser.isInterim()).isFalse();
        assertThat(parser.parse(in)).isEqualTo(ParseStatus.MESSAGE_COMPLETE);
        assertThat(in.remaining()).isEqualTo(5);
    }

    @Test
    void responseToHeadThenGetOnOneBackendConnection() {
        ResponseParser parser = new ResponseParser(HttpLimits.DEFAULTS);
        ByteBuffer in = ascii("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
        parser.expectResponseTo(RequestMethod.HEAD);
        assertThat(parser.parse(in)).isEqualTo(ParseStatus.HEAD_COMPLETE);
        assertThat(parser.parse(in)).isEqualTo(ParseStatus.MESSAGE_COMPLETE);
        parser.expectResponseTo(RequestMethod.GET);
        assertThat(parser.parse(in)).isEqualTo(ParseStatus.HEAD_COMPLETE);
        assertThat(parser.parse(in)).isEqualTo(ParseStatus.MESSAGE_COMPLETE);
        assertThat(in.hasRemaining()).isFalse();
    }

    @Test
    void errorIsTerminalUntilReset() {
        RequestParser parser = new RequestParser(HttpLimits.DEFAULTS);
        assertThat(parser.parse(ascii("GET / HTTP/1.1\r\nHost : h\r\n\r\n"))).isEqualTo(ParseStatus.ERROR);
        assertThat(parser.errorStatus()).isEqualTo(400);
        assertThat(parser.errorReason()).isEqualTo("whitespace before colon");
        assertThat(parser.parse(ascii("GET / HTTP/1.1\r\nHost: h\r\n\r\n"))).isEqualTo(ParseStatus.ERROR);
        parser.reset();
        assertThat(parser.parse(ascii("GET / HTTP/1.1\r\nHost: h\r\n\r\n")))
                .isEqualTo(ParseStatus.HEAD_COMPLETE);
    }

    @Test
    void largeBodiesBeyondIntRangeAreCountedNotBuffered() {
        RequestParser parser = new RequestParser(HttpLimits.DEFAULTS);
        ByteBuffer in = ascii("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5000000000\r\n\r\n");
        assertThat(parser.parse(in)).isEqualTo(ParseStatus.HEAD_COMPLETE);
        assertThat(parser.head().contentLength()).isEqualTo(5_000_000_000L);
        ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
        for (int i = 0; i < 3; i++) {
            chunk.clear();
            assertThat(parser.parse(chunk)).isEqualTo(ParseStatus.BODY);
            assertThat(chunk.hasRemaining()).isFalse();
        }
        assertThat(parser.endOfInput()).isEqualTo(ParseStatus.ERROR);
        assertThat(parser.error()).isEqualTo(HttpError.TRUNCATED);
    }

    @Test
    void limitsAreValidated() {
        EnumSet<Leniency> none = EnumSet.noneOf(Leniency.class);
        assertThatThrownBy(() -> new HttpLimits(8, 100, 10, 10, 0, none))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new HttpLimits(8192, 4096, 10, 10, 0, none))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new HttpLimits(8192, 32768, 0, 10, 0, none))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new HttpLimits(8192, 32768, 10, -1, 0, none))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new HttpLimits(8192, 32768, 10, 10, -1, none))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(HttpLimits.DEFAULTS.leniencies()).isEmpty();
        assertThat(HttpLimits.DEFAULTS.maxRequestLineBytes()).isEqualTo(8192);
        assertThat(HttpLimits.DEFAULTS.maxHeaderBytes()).isEqualTo(32768);
        assertThat(HttpLimits.DEFAULTS.maxHeaderCount()).isEqualTo(100);
        assertThat(HttpLimits.DEFAULTS.maxChunkExtensionBytes()).isEqualTo(4096);
        assertThat(HttpLimits.DEFAULTS.maxBodyBytes()).isZero();
    }

    @Test
    void steadyStateParsingAllocatesNothing() {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        byte[] request = ("GET /api/items?page=2 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test\r\n"
                + "Accept: */*\r\nConnection: keep-alive\r\nCookie: a=b\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] response = ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
                + "Keep-Alive: timeout=5\r\n\r\n{}").getBytes(StandardCharsets.US_ASCII);
        RequestParser requests = new RequestParser(HttpLimits.DEFAULTS);
        ResponseParser responses = new ResponseParser(HttpLimits.DEFAULTS);
        ForwardContext context = ForwardContext.of("10.0.0.1", ForwardContext.Scheme.HTTPS,
                ForwardContext.ForwardedHeaders.REPLACE);
        ByteBuffer in = ByteBuffer.allocateDirect(1024);
        ByteBuffer out = ByteBuffer.allocateDirect(1024);
        int rounds = 20_000;
        long allocated = 0;
        for (int pass = 0; pass < 2; pass++) { // first pass warms up (and lets the JIT settle)
            long before = threads.getThreadAllocatedBytes(Thread.currentThread().getId());
            for (int i = 0; i < rounds; i++) {
                exchange(requests, responses, context, in, out, request, response);
            }
            allocated = threads.getThreadAllocatedBytes(Thread.currentThread().getId()) - before;
        }
        // Measurement itself may allocate a little; per exchange it must be zero.
        assertThat(allocated).isLessThan(rounds / 4);
    }

    private static void exchange(RequestParser requests, ResponseParser responses, ForwardContext context,
            ByteBuffer in, ByteBuffer out, byte[] request, byte[] response) {
        requests.reset();
        in.clear();
        in.put(request).flip();
        if (requests.parse(in) != ParseStatus.HEAD_COMPLETE || requests.parse(in) != ParseStatus.MESSAGE_COMPLETE) {
            throw new AssertionError("request did not parse");
        }
        out.clear();
        HeadRewriter.writeRequest(requests.head(), context, out);
        responses.expectResponseTo(requests.head().method());
        in.clear();
        in.put(response).flip();
        if (responses.parse(in) != ParseStatus.HEAD_COMPLETE || responses.parse(in) != ParseStatus.MESSAGE_COMPLETE) {
            throw new AssertionError("response did not parse");
        }
        out.clear();
        HeadRewriter.writeResponse(requests.head(), responses.head(), out);
    }

    private static ByteBuffer ascii(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.ISO_8859_1));
    }
}
