package dev.moonbeam.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moonbeam.fuzz.Fuzz;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Generative tests of {@link HeadRewriter}: every head the parser accepts is rewritten and parsed
 * again (as the backend or the client would), and must be the same message:
 * <ul>
 *   <li>requests: the same request line byte for byte, method, target, version, Host, framing and
 *       body; every end-to-end field line kept, in order, byte for byte; no hop-by-hop field left
 *       (Connection and what it lists, Keep-Alive, Proxy-Connection, TE, Trailer, Upgrade unless
 *       upgrading) except the framing fields Host, Content-Length, Transfer-Encoding that are never
 *       dropped; Transfer-Encoding as exactly {@code chunked}; exactly the X-Forwarded-* the
 *       {@link ForwardContext} calls for; and the backend asked to keep the connection;
 *   <li>responses: status, framing and body unchanged, our version, end-to-end fields kept in order,
 *       connection management replaced by our own decision ({@code close}, {@code keep-alive} for a
 *       1.0 client, {@code upgrade} for a 101, nothing for an interim response).
 * </ul>
 */
class HeadRewriterFuzzTest {
    private static final int TRIES = 2_500;
    /** The backend or client parsing our output has room for what we add. */
    private static final HttpLimits ROOMY = new HttpLimits(65_536, 131_072, 400, 4096, 0, EnumSet.noneOf(Leniency.class));
    private static final Set<String> ALWAYS_HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-connection", "te",
            "trailer");
    /** Fields that frame or route the message: never dropped, even when Connection lists them (desync). */
    private static final Set<String> NEVER_DROPPED = Set.of("host", "content-length", "transfer-encoding");
    private static final Set<String> FORWARDED = Set.of("x-forwarded-for", "x-forwarded-proto", "x-forwarded-host");

    /** A request, the connection context it arrived on, and a response to it (maybe unused). */
    record Case(byte[] request, ForwardContext context, byte[] response, HeadRewriter.ClientPersistence persistence) {
        Case withRequest(byte[] bytes) {
            return new Case(bytes, context, response, persistence);
        }

        Case withResponse(byte[] bytes) {
            return new Case(request, context, bytes, persistence);
        }

        @Override
        public String toString() {
            return "request " + Fuzz.literal(request) + " " + context + " response " + Fuzz.literal(response) + " "
                    + persistence;
        }
    }

    record Field(String name, String line, String value) {}

    @Test
    void rewrittenRequestsParseToTheSameRequest() {
        Fuzz.Run run = Fuzz.forAll("rewritten requests", TRIES, HeadRewriterFuzzTest::generate,
                HeadRewriterFuzzTest::requestRewriteHolds,
                (c, check) -> c.withRequest(Fuzz.shrinkBytes(c.request(), b -> check.check(c.withRequest(b)))),
                Case::toString);
        assertThat(run.tries()).isGreaterThan(100);
    }

    @Test
    void rewrittenResponsesParseToTheSameResponse() {
        Fuzz.Run run = Fuzz.forAll("rewritten responses", TRIES, HeadRewriterFuzzTest::generate,
                HeadRewriterFuzzTest::responseRewriteHolds,
                (c, check) -> c.withResponse(Fuzz.shrinkBytes(c.response(), b -> check.check(c.withResponse(b)))),
                Case::toString);
        assertThat(run.tries()).isGreaterThan(100);
    }

    /** The properties are not vacuous: most generated requests and responses are accepted and rewritten. */
    @Test
    void mostGeneratedCasesAreRewritten() {
        Random random = new Random(Fuzz.DEFAULT_SEED);
        int requests = 0;
        int responses = 0;
        for (int i = 0; i < 1_000; i++) {
            Case c = generate(random);
            requests += parse(c.request(), true, RequestMethod.GET) != null ? 1 : 0;
            responses += parse(c.response(), false, RequestMethod.GET) != null ? 1 : 0;
        }
        assertThat(requests).isGreaterThan(600);
        assertThat(responses).isGreaterThan(500);
    }

    /** Inputs that once failed a property here (shrunk), kept as plain examples. */
    static Stream<Case> regressions() {
        ForwardContext replace = ForwardContext.of("192.0.2.7", ForwardContext.Scheme.HTTPS,
                ForwardContext.ForwardedHeaders.REPLACE);
        byte[] plainRequest = Fuzz.bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        return Stream.of(
                // Seed -7439616393965570854 (try 241): Expect listed in Connection went to the backend.
                new Case(Fuzz.bytes("a / HTTP/1.1\r\na:\r\nhOsT:\r\nExpect:\r\nConnection:Expect\r\n\r\n"), replace,
                        Fuzz.bytes("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
                        HeadRewriter.ClientPersistence.KEEP_ALIVE_IF_ALLOWED),
                // Seed 7904353349636471799 (try 799): a backend's Expect listed in Connection reached the client.
                new Case(plainRequest, replace, Fuzz.bytes("HTTP/1.1 101\r\nExpect:\r\na:\r\nConnection:Expect\r\n\r\n"),
                        HeadRewriter.ClientPersistence.CLOSE));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("regressions")
    void regressionCasesHoldEveryProperty(Case c) {
        assertThat(Fuzz.run(HeadRewriterFuzzTest::requestRewriteHolds, c)).isNull();
        assertThat(Fuzz.run(HeadRewriterFuzzTest::responseRewriteHolds, c)).isNull();
    }

    // ---- generation ----------------------------------------------------------------------------

    static Case generate(Random r) {
        byte[] request = HttpGen.validRequest(r).input();
        String address = r.nextBoolean() ? "192.0.2." + r.nextInt(256) : r.nextBoolean() ? "2001:db8::" + r.nextInt(99)
                : "127.0.0.1";
        ForwardContext context = ForwardContext.of(address,
                r.nextBoolean() ? ForwardContext.Scheme.HTTPS : ForwardContext.Scheme.HTTP,
                r.nextBoolean() ? ForwardContext.ForwardedHeaders.REPLACE
                        : ForwardContext.ForwardedHeaders.TRUST_AND_APPEND);
        HttpGen.Case response = HttpGen.response(r);
        return new Case(request, context, response.input(), r.nextInt(5) == 0 ? HeadRewriter.ClientPersistence.CLOSE
                : HeadRewriter.ClientPersistence.KEEP_ALIVE_IF_ALLOWED);
    }

    // ---- request property ----------------------------------------------------------------------

    static String requestRewriteHolds(Case c) {
        Parsed original = parse(c.request(), true, RequestMethod.GET);
        if (original == null) {
            return null; // not a valid request: nothing to rewrite (the parser suites cover rejection)
        }
        HttpHead head = original.head;
        ByteBuffer out = ByteBuffer.allocate(original.headLength * 2 + 1024);
        if (HeadRewriter.writeRequest(head, c.context(), out) != HeadRewriter.Result.WRITTEN) {
            return "not written into " + out.capacity() + " bytes";
        }
        byte[] rewritten = withBody(out, c.request(), original);
        Parsed again = parse(rewritten, true, RequestMethod.GET);
        if (again == null) {
            return "rewritten request rejected: " + Fuzz.literal(rewritten);
        }
        List<String> problems = new ArrayList<>();
        same(problems, "request line", text(head, head.startLineStart(), head.startLineEnd()),
                text(again.head, again.head.startLineStart(), again.head.startLineEnd()));
        List<Field> in = fields(head);
        List<Field> outFields = fields(again.head);
        boolean upgrading = head.isUpgradeRequested();
        Set<String> listed = connectionOptions(in);
        for (String fact : List.of("method", "target", "version", "host", "body", "len", "bodyBytes", "rest",
                "upgrade")) {
            same(problems, fact, original.facts.get(fact), again.facts.get(fact));
        }
        // Expect survives unless the client made it hop-by-hop by listing it in Connection.
        same(problems, "expect", String.valueOf(head.isExpectContinue() && !listed.contains("expect")),
                again.facts.get("expect"));
        same(problems, "keep-alive asked of the backend", "true", again.facts.get("ka"));

        boolean trust = c.context().forwardedHeaders() == ForwardContext.ForwardedHeaders.TRUST_AND_APPEND;
        List<String> expectedEndToEnd = new ArrayList<>();
        for (Field f : in) {
            boolean upgradeKept = f.name.equals("upgrade") && upgrading;
            boolean hop = ALWAYS_HOP_BY_HOP.contains(f.name) || (f.name.equals("upgrade") && !upgrading)
                    || (listed.contains(f.name) && !NEVER_DROPPED.contains(f.name) && !upgradeKept
                    && !(trust && FORWARDED.contains(f.name)));
            if (!hop && !f.name.equals("transfer-encoding") && !FORWARDED.contains(f.name)) {
                expectedEndToEnd.add(f.line);
            }
        }
        List<String> actualEndToEnd = outFields.stream()
                .filter(f -> !f.name.equals("transfer-encoding") && !FORWARDED.contains(f.name)
                        && !f.name.equals("connection"))
                .map(Field::line).toList();
        same(problems, "end-to-end field lines", expectedEndToEnd, actualEndToEnd);
        boolean chunked = in.stream().anyMatch(f -> f.name.equals("transfer-encoding"));
        same(problems, "Transfer-Encoding", chunked ? List.of("Transfer-Encoding: chunked") : List.of(),
                lines(outFields, "transfer-encoding"));
        String address = new String(c.context().clientAddress(), StandardCharsets.US_ASCII);
        String scheme = c.context().scheme() == ForwardContext.Scheme.HTTPS ? "https" : "http";
        List<String> xff = new ArrayList<>();
        if (trust) {
            values(in, "x-forwarded-for").stream().filter(v -> !v.isEmpty()).forEach(xff::add);
        }
        xff.add(address);
        same(problems, "X-Forwarded-For", List.of(String.join(", ", xff)), values(outFields, "x-forwarded-for"));
        List<String> proto = trust && !values(in, "x-forwarded-proto").isEmpty() ? values(in, "x-forwarded-proto")
                : List.of(scheme);
        same(problems, "X-Forwarded-Proto", proto, values(outFields, "x-forwarded-proto"));
        String host = original.facts.get("host");
        List<String> forwardedHost = trust && !values(in, "x-forwarded-host").isEmpty()
                ? values(in, "x-forwarded-host")
                : host.equals("-") || host.isEmpty() ? List.of() : List.of(host);
        same(problems, "X-Forwarded-Host", forwardedHost, values(outFields, "x-forwarded-host"));
        List<String> connection = upgrading ? List.of("upgrade")
                : head.version() == HttpVersion.HTTP_1_0 ? List.of("keep-alive") : List.of();
        same(problems, "Connection", connection, values(outFields, "connection"));
        return problems.isEmpty() ? null : problems + " in " + Fuzz.literal(rewritten);
    }

    // ---- response property ---------------------------------------------------------------------

    static String responseRewriteHolds(Case c) {
        Parsed request = parse(c.request(), true, RequestMethod.GET);
        if (request == null) {
            return null;
        }
        RequestMethod method = request.head.method() == RequestMethod.HEAD ? RequestMethod.HEAD : RequestMethod.GET;
        Parsed original = parse(c.response(), false, method);
        if (original == null) {
            return null;
        }
        HttpHead head = original.head;
        ByteBuffer out = ByteBuffer.allocate(original.headLength * 2 + 1024);
        if (HeadRewriter.writeResponse(request.head, head, c.persistence(), out) != HeadRewriter.Result.WRITTEN) {
            return "not written into " + out.capacity() + " bytes";
        }
        byte[] rewritten = withBody(out, c.response(), original);
        Parsed again = parse(rewritten, false, method);
        if (again == null) {
            return "rewritten response rejected: " + Fuzz.literal(rewritten);
        }
        List<String> problems = new ArrayList<>();
        String statusLine = text(head, head.startLineStart(), head.startLineEnd());
        same(problems, "status line", "HTTP/1.1" + statusLine.substring(8),
                text(again.head, again.head.startLineStart(), again.head.startLineEnd()));
        for (String fact : List.of("status", "interim", "switching", "body", "len", "bodyBytes", "rest")) {
            same(problems, fact, original.facts.get(fact), again.facts.get(fact));
        }
        int status = head.statusCode();
        List<Field> in = fields(head);
        Set<String> listed = connectionOptions(in);
        List<String> expectedEndToEnd = new ArrayList<>();
        for (Field f : in) {
            boolean hop = Set.of("connection", "keep-alive", "proxy-connection", "te").contains(f.name)
                    || (f.name.equals("upgrade") && status != 101)
                    || (listed.contains(f.name) && !NEVER_DROPPED.contains(f.name)
                    && !(f.name.equals("upgrade") && status == 101));
            if (!hop) {
                expectedEndToEnd.add(f.line);
            }
        }
        List<Field> outFields = fields(again.head);
        same(problems, "end-to-end field lines", expectedEndToEnd,
                outFields.stream().filter(f -> !f.name.equals("connection")).map(Field::line).toList());
        // Our own decision about the client connection (RFC 9112 §9.3), from the request and response.
        BodyKind kind = head.bodyKind();
        boolean clientKeepAlive = request.head.isKeepAlive() && kind != BodyKind.UNTIL_CLOSE
                && !(kind == BodyKind.CHUNKED && request.head.version() == HttpVersion.HTTP_1_0);
        List<String> connection;
        if (status == 101) {
            connection = List.of("upgrade");
        } else if (status < 200) {
            connection = List.of();
        } else if (c.persistence() == HeadRewriter.ClientPersistence.CLOSE || !clientKeepAlive) {
            connection = List.of("close");
        } else {
            connection = request.head.version() == HttpVersion.HTTP_1_0 ? List.of("keep-alive") : List.of();
        }
        same(problems, "Connection", connection, values(outFields, "connection"));
        return problems.isEmpty() ? null : problems + " in " + Fuzz.literal(rewritten);
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** A parsed complete message: its head (owned by a parser kept alive with it) and its facts. */
    private record Parsed(HttpHead head, int headLength, java.util.Map<String, String> facts) {}

    /** The message parsed whole with roomy limits, or null when it is not accepted. */
    private static Parsed parse(byte[] input, boolean request, RequestMethod method) {
        Feeder.Outcome outcome = Feeder.whole(new Feeder.Setup(request, method, ROOMY), input);
        if (!"MESSAGE_COMPLETE".equals(outcome.facts().get("result")) || !outcome.facts().containsKey("body")) {
            return null;
        }
        ByteBuffer buffer = ByteBuffer.wrap(input);
        HttpHead head;
        if (request) {
            RequestParser parser = new RequestParser(ROOMY);
            head = parser.parse(buffer) == ParseStatus.HEAD_COMPLETE ? parser.head() : null;
        } else {
            ResponseParser parser = new ResponseParser(ROOMY);
            parser.expectResponseTo(method);
            head = parser.parse(buffer) == ParseStatus.HEAD_COMPLETE ? parser.head() : null;
        }
        return head == null ? null : new Parsed(head, head.length(), outcome.facts());
    }

    /** The rewritten head followed by the original body and whatever came after it. */
    private static byte[] withBody(ByteBuffer out, byte[] input, Parsed original) {
        byte[] rest = Arrays.copyOfRange(input, original.headLength, input.length);
        byte[] all = Arrays.copyOf(out.array(), out.position() + rest.length);
        System.arraycopy(rest, 0, all, out.position(), rest.length);
        return all;
    }

    private static List<Field> fields(HttpHead head) {
        List<Field> fields = new ArrayList<>();
        for (int i = 0; i < head.headerCount(); i++) {
            fields.add(new Field(text(head, head.nameStart(i), head.nameEnd(i)).toLowerCase(Locale.ROOT),
                    text(head, head.lineStart(i), head.lineEnd(i)), text(head, head.valueStart(i), head.valueEnd(i))));
        }
        return fields;
    }

    private static Set<String> connectionOptions(List<Field> fields) {
        Set<String> options = new HashSet<>();
        for (Field f : fields) {
            if (f.name.equals("connection")) {
                for (String option : f.value.split(",")) {
                    options.add(option.strip().toLowerCase(Locale.ROOT));
                }
            }
        }
        return options;
    }

    private static List<String> values(List<Field> fields, String name) {
        return fields.stream().filter(f -> f.name.equals(name)).map(Field::value).toList();
    }

    private static List<String> lines(List<Field> fields, String name) {
        return fields.stream().filter(f -> f.name.equals(name)).map(Field::line).toList();
    }

    private static String text(HttpHead head, int start, int end) {
        return head.text(start, end);
    }

    private static void same(List<String> problems, String what, Object expected, Object actual) {
        if (!expected.equals(actual)) {
            problems.add(what + ": expected " + expected + ", got " + actual);
        }
    }
}
