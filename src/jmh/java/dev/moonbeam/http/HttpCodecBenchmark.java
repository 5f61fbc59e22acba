package dev.moonbeam.http;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Heads per second for a typical browser request (~500 B), a small API response (~200 B) and the
 * forward rewrite. Run with {@code scripts/jmh.sh 'dev.moonbeam.http.*'} (adds {@code -prof gc}
 * for bytes allocated per operation; the target is 0).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class HttpCodecBenchmark {
    static final String BROWSER_REQUEST = "GET /products/list?category=shoes&page=2 HTTP/1.1\r\n"
            + "Host: shop.example.com\r\n"
            + "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
            + "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
            + "Accept-Language: en-US,en;q=0.5\r\n"
            + "Accept-Encoding: gzip, deflate, br, zstd\r\n"
            + "Referer: https://shop.example.com/\r\n"
            + "Connection: keep-alive\r\n"
            + "Cookie: session=8f14e45fceea167a5a36dedd4bea2543; theme=dark\r\n"
            + "Upgrade-Insecure-Requests: 1\r\n"
            + "Sec-Fetch-Dest: document\r\n"
            + "Sec-Fetch-Mode: navigate\r\n"
            + "\r\n";
    static final String API_RESPONSE = "HTTP/1.1 200 OK\r\n"
            + "Date: Thu, 26 Nov 2026 10:00:00 GMT\r\n"
            + "Content-Type: application/json\r\n"
            + "Content-Length: 27\r\n"
            + "Cache-Control: no-store\r\n"
            + "Keep-Alive: timeout=5\r\n"
            + "\r\n"
            + "{\"id\":42,\"name\":\"sneaker\"}\n";

    private final RequestParser requestParser = new RequestParser(HttpLimits.DEFAULTS);
    private final ResponseParser responseParser = new ResponseParser(HttpLimits.DEFAULTS);
    private final ForwardContext context = ForwardContext.of("203.0.113.9",
            ForwardContext.Scheme.HTTPS, ForwardContext.ForwardedHeaders.REPLACE);
    private ByteBuffer request;
    private ByteBuffer response;
    private ByteBuffer out;

    @Setup
    public void setUp() {
        request = direct(BROWSER_REQUEST);
        response = direct(API_RESPONSE);
        out = ByteBuffer.allocateDirect(4096);
        requestParser.parse(request); // leaves a parsed head for the rewrite benchmark
        request.rewind();
    }

    @Benchmark
    public int parseBrowserRequest() {
        requestParser.reset();
        request.rewind();
        ParseStatus status = requestParser.parse(request);
        return status.ordinal() + requestParser.head().headerCount();
    }

    @Benchmark
    public int parseApiResponse() {
        responseParser.expectResponseTo(RequestMethod.GET);
        response.rewind();
        ParseStatus head = responseParser.parse(response);
        ParseStatus body = responseParser.parse(response);
        return head.ordinal() + body.ordinal() + responseParser.head().statusCode();
    }

    @Benchmark
    public int rewriteBrowserRequest() {
        out.clear();
        HeadRewriter.writeRequest(requestParser.head(), context, out);
        return out.position();
    }

    private static ByteBuffer direct(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer buffer = ByteBuffer.allocateDirect(bytes.length);
        buffer.put(bytes).flip();
        return buffer;
    }
}
