package dev.moonbeam.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moonbeam.fuzz.Fuzz;
import dev.moonbeam.h2.ChunkedPayload;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Generative tests of the chunked decoder ({@link BodyFraming} in chunked mode, RFC 9112 §7.1) and
 * of {@link ChunkedPayload}, which takes the payload out of an already validated chunked response
 * for HTTP/2:
 * <ul>
 *   <li>a valid body (random sizes, extensions, trailers, leading zeros, hex case) ends exactly at
 *       its last byte for every split, counts exactly its data bytes, and leaves what follows
 *       untouched; ChunkedPayload gives back exactly the data and the trailer lines;
 *   <li>a mutated body is accepted exactly when {@link HttpReference#chunked} accepts it, over the
 *       same bytes, for every split; whatever BodyFraming accepts, ChunkedPayload decodes to the
 *       reference's data;
 *   <li>the same body frames alike in a request and in a response (both directions share the
 *       decoder), and the request's body limit (413) holds for chunked bodies.
 * </ul>
 */
class ChunkedFuzzTest {
    private static final int TRIES = 1_500;

    /** A chunked body and what follows it on the connection, with the settings it is framed under. */
    record Case(byte[] body, byte[] after, HttpLimits limits) {
        byte[] input() {
            byte[] all = Arrays.copyOf(body, body.length + after.length);
            System.arraycopy(after, 0, all, body.length, after.length);
            return all;
        }

        @Override
        public String toString() {
            return Fuzz.literal(body) + " then " + Fuzz.literal(after) + " limits " + HttpGen.limitsText(limits);
        }
    }

    /** What BodyFraming made of an input. */
    record Framed(ParseStatus status, HttpError error, long consumed, long dataBytes, String violation) {
        String summary() {
            return status + " " + error + " consumed " + consumed + " data " + dataBytes;
        }
    }

    @Test
    void validBodiesEndExactlyAtTheirLastByteForEverySplit() {
        Fuzz.Run run = Fuzz.forAll("valid chunked bodies", TRIES, r -> {
            HttpGen.ChunkedBody model = HttpGen.chunkedBody(r);
            return new Object[] {model, HttpGen.bytes(r.nextBoolean() ? "" : "GET / HTTP/1.1\r\n")};
        }, pair -> {
            HttpGen.ChunkedBody model = (HttpGen.ChunkedBody) pair[0];
            byte[] body = HttpGen.bytes(model.encode());
            byte[] data = model.data();
            Case c = new Case(body, (byte[]) pair[1], HttpLimits.DEFAULTS);
            for (int[] cuts : body.length > 4_000 ? fewSplits(c.input(), new Random(body.length))
                    : splits(c.input(), new Random(body.length))) {
                Framed framed = frame(c.input(), cuts, c.limits(), 0);
                if (!framed.violation().isEmpty() || framed.status() != ParseStatus.MESSAGE_COMPLETE
                        || framed.consumed() != body.length || framed.dataBytes() != data.length) {
                    return "cuts " + Arrays.toString(cuts) + ": " + framed.summary() + " " + framed.violation()
                            + ", expected complete at " + body.length + " with " + data.length + " data bytes";
                }
            }
            Decoded decoded = payload(body, 1 + body.length % 97);
            String trailers = String.join("", model.trailers().stream().map(t -> t + "\r\n").toList());
            if (!Arrays.equals(decoded.data(), data) || !decoded.trailers().equals(trailers)) {
                return "ChunkedPayload gave " + decoded.data().length + " data bytes and trailers '"
                        + decoded.trailers() + "'";
            }
            return null;
        }, null, pair -> ((HttpGen.ChunkedBody) pair[0]).encode().length() + " bytes: "
                + Fuzz.literal(HttpGen.bytes(((HttpGen.ChunkedBody) pair[0]).encode())));
        assertThat(run.tries()).isGreaterThan(100);
    }

    @Test
    void mutatedBodiesMatchTheReferenceForEverySplit() {
        Fuzz.Run run = Fuzz.forAll("mutated chunked bodies", TRIES * 2, ChunkedFuzzTest::mutatedCase,
                ChunkedFuzzTest::matchesReference, ChunkedFuzzTest::shrink, Case::toString);
        assertThat(run.tries()).isGreaterThan(100);
    }

    @Test
    void requestAndResponseFrameTheSameBodyAlike() {
        Fuzz.Run run = Fuzz.forAll("chunked both directions", TRIES, ChunkedFuzzTest::mutatedCase, c -> {
            byte[] request = concat("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", c.input());
            byte[] response = concat("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", c.input());
            // Head limits roomy enough for both heads; the body's own limits as drawn.
            HttpLimits limits = new HttpLimits(8192, 32768, 100, c.limits().maxChunkExtensionBytes(), 0,
                    java.util.EnumSet.noneOf(Leniency.class));
            Feeder.Outcome asRequest = Feeder.whole(new Feeder.Setup(true, RequestMethod.GET, limits), request);
            Feeder.Outcome asResponse = Feeder.whole(new Feeder.Setup(false, RequestMethod.GET, limits), response);
            String a = asRequest.facts().get("result") + " " + asRequest.facts().get("error") + " "
                    + asRequest.facts().get("bodyBytes") + " " + asRequest.facts().get("rest");
            String b = asResponse.facts().get("result") + " " + asResponse.facts().get("error") + " "
                    + asResponse.facts().get("bodyBytes") + " " + asResponse.facts().get("rest");
            return a.equals(b) ? null : "request: " + a + ", response: " + b;
        }, ChunkedFuzzTest::shrink, Case::toString);
        assertThat(run.tries()).isGreaterThan(100);
    }

    @Test
    void requestBodyLimitHoldsForChunkedBodies() {
        Fuzz.Run run = Fuzz.forAll("chunked body limit", TRIES, r -> {
            HttpGen.ChunkedBody model = HttpGen.chunkedBody(r);
            int total = model.data().length;
            long limit = total == 0 ? 1 + r.nextInt(5) : Math.max(1, total + r.nextInt(5) - 2);
            return new Object[] {model, limit};
        }, pair -> {
            HttpGen.ChunkedBody model = (HttpGen.ChunkedBody) pair[0];
            long limit = (Long) pair[1];
            byte[] body = HttpGen.bytes(model.encode());
            Framed framed = frame(body, new int[0], HttpLimits.DEFAULTS, limit);
            boolean over = model.data().length > limit;
            if (over) {
                return framed.error() == HttpError.BODY_TOO_LARGE ? null : "over the limit but " + framed.summary();
            }
            return framed.status() == ParseStatus.MESSAGE_COMPLETE ? null : "within the limit but " + framed.summary();
        }, null, pair -> "limit " + pair[1] + ": " + Fuzz.literal(HttpGen.bytes(((HttpGen.ChunkedBody) pair[0]).encode())));
        assertThat(run.tries()).isGreaterThan(100);
    }

    /** Inputs that once failed a property here (shrunk), kept as plain examples. */
    static Stream<Case> regressions() {
        return Stream.of(
                // Placeholder row until the first finding: a body with an extension and a trailer.
                new Case(Fuzz.bytes("5;a=b\r\nhello\r\n0\r\nX: y\r\n\r\n"), new byte[0], HttpLimits.DEFAULTS));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("regressions")
    void regressionCasesHoldEveryProperty(Case c) {
        assertThat(Fuzz.run(ChunkedFuzzTest::matchesReference, c)).isNull();
    }

    // ---- properties and drivers ----------------------------------------------------------------

    static Case mutatedCase(Random r) {
        byte[] body = HttpGen.bytes(HttpGen.chunkedBody(r).encode());
        if (body.length > 2_000) {
            body = HttpGen.bytes("a\r\n0123456789\r\n0\r\n\r\n"); // keep every split affordable
        }
        body = r.nextInt(5) == 0 ? HttpGen.bytes(HttpGen.mutateBytes(r, new String(body, StandardCharsets.ISO_8859_1)))
                : HttpGen.mutateChunked(r, body);
        byte[] after = HttpGen.bytes(r.nextBoolean() ? "" : "HTTP/1.1 200 OK\r\n");
        return new Case(body, after, HttpGen.limits(r).withMaxBodyBytes(0));
    }

    static String matchesReference(Case c) {
        byte[] input = c.input();
        Object expected = HttpReference.chunked(new String(input, StandardCharsets.ISO_8859_1), 0, c.limits(), 0);
        Framed whole = frame(input, new int[0], c.limits(), 0);
        if (!whole.violation().isEmpty()) {
            return "framing invariant: " + whole.violation();
        }
        if (expected instanceof HttpReference.Chunked body) {
            if (whole.status() != ParseStatus.MESSAGE_COMPLETE || whole.consumed() != body.rawLength()
                    || whole.dataBytes() != body.data().length) {
                return "reference accepts " + body.rawLength() + " raw bytes with " + body.data().length
                        + " data bytes, BodyFraming: " + whole.summary();
            }
            Decoded decoded = payload(Arrays.copyOf(input, body.rawLength()), 1 + input.length % 13);
            String trailers = String.join("", body.trailerLines().stream().map(t -> t + "\r\n").toList());
            if (!Arrays.equals(decoded.data(), body.data()) || !decoded.trailers().equals(trailers)) {
                return "ChunkedPayload decoded " + Fuzz.literal(decoded.data()) + " / '" + decoded.trailers()
                        + "', reference " + Fuzz.literal(body.data()) + " / '" + trailers + "'";
            }
        } else if (whole.status() != ParseStatus.ERROR) {
            return "reference rejects (" + expected + "), BodyFraming: " + whole.summary();
        }
        for (int[] cuts : splits(input, new Random(Arrays.hashCode(input)))) {
            Framed split = frame(input, cuts, c.limits(), 0);
            if (!split.violation().isEmpty() || !split.summary().equals(whole.summary())) {
                return "cuts " + Arrays.toString(cuts) + ": " + split.summary() + " " + split.violation()
                        + ", whole: " + whole.summary();
            }
        }
        return null;
    }

    static Case shrink(Case failing, Fuzz.Check<Case> stillFails) {
        byte[] body = Fuzz.shrinkBytes(failing.body(),
                b -> stillFails.check(new Case(b, failing.after(), failing.limits())));
        byte[] after = Fuzz.shrinkBytes(failing.after(), a -> stillFails.check(new Case(body, a, failing.limits())));
        return new Case(body, after, failing.limits());
    }

    /** Whole, one byte at a time, pieces of 2..5, a random piece size and random cuts. */
    private static List<int[]> splits(byte[] input, Random random) {
        List<int[]> splits = new ArrayList<>();
        splits.add(new int[0]);
        for (int piece = 1; piece <= 5; piece++) {
            splits.add(ParserFuzzTest.pieces(input.length, piece));
        }
        splits.add(ParserFuzzTest.pieces(input.length, 1 + random.nextInt(Math.max(1, input.length))));
        if (input.length > 1) {
            splits.add(random.ints(1 + random.nextInt(5), 1, input.length).sorted().distinct().toArray());
        }
        return splits;
    }

    /** For long bodies: whole, a random piece size and two sets of random cuts. */
    private static List<int[]> fewSplits(byte[] input, Random random) {
        List<int[]> splits = new ArrayList<>();
        splits.add(new int[0]);
        splits.add(ParserFuzzTest.pieces(input.length, 1 + random.nextInt(Math.max(1, input.length / 4))));
        for (int i = 0; i < 2; i++) {
            splits.add(random.ints(1 + random.nextInt(8), 1, input.length).sorted().distinct().toArray());
        }
        return splits;
    }

    /** Feeds BodyFraming as a connection would (unconsumed bytes stay, new ones are appended). */
    static Framed frame(byte[] input, int[] cuts, HttpLimits limits, long maxBody) {
        BodyFraming framing = new BodyFraming(limits);
        framing.start(BodyKind.CHUNKED, 0, maxBody);
        ByteBuffer buffer = ByteBuffer.allocate(input.length + 1);
        buffer.flip();
        ParseStatus last = ParseStatus.NEED_MORE;
        String violation = "";
        int from = 0;
        outer:
        for (int piece = 0; piece <= cuts.length; piece++) {
            int to = piece < cuts.length ? cuts[piece] : input.length;
            buffer.compact().put(input, from, to - from).flip();
            from = to;
            for (int guard = 0; guard < input.length + 16; guard++) {
                int before = buffer.position();
                last = framing.advance(buffer);
                if (buffer.position() < before) {
                    violation += "position moved back;";
                }
                switch (last) {
                    case BODY -> {
                        if (buffer.position() == before) {
                            violation += "BODY without progress;";
                            break outer;
                        }
                    }
                    case NEED_MORE -> {
                        if (buffer.hasRemaining()) {
                            violation += "NEED_MORE with bytes left;";
                        }
                        continue outer;
                    }
                    case MESSAGE_COMPLETE, ERROR -> {
                        break outer;
                    }
                    default -> {
                        violation += "status " + last + ";";
                        break outer;
                    }
                }
            }
            violation += "no progress;";
            break;
        }
        if (last != ParseStatus.MESSAGE_COMPLETE && last != ParseStatus.ERROR) {
            last = framing.endOfInput();
        }
        long consumed = last == ParseStatus.ERROR ? -1 : from - buffer.remaining();
        return new Framed(last, last == ParseStatus.ERROR ? framing.error() : null, consumed,
                last == ParseStatus.ERROR ? -1 : framing.dataBytes(), violation);
    }

    record Decoded(byte[] data, String trailers) {}

    /** ChunkedPayload over a validated body in pieces of {@code piece} bytes. */
    static Decoded payload(byte[] body, int piece) {
        ChunkedPayload chunked = new ChunkedPayload();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int at = 0; at < body.length && !chunked.isDone(); at += piece) {
            ByteBuffer src = ByteBuffer.wrap(body, at, Math.min(piece, body.length - at));
            for (int guard = 0; guard <= piece && src.hasRemaining() && !chunked.isDone(); guard++) {
                int n = chunked.skipFraming(src);
                out.write(src.array(), src.position(), n);
                src.position(src.position() + n);
                if (n > 0) {
                    chunked.took(n);
                }
            }
        }
        String trailers = chunked.trailerLength() == 0 ? ""
                : new String(chunked.trailerBytes(), 0, chunked.trailerLength(), StandardCharsets.ISO_8859_1);
        return new Decoded(out.toByteArray(), chunked.isDone() ? trailers : "(not done)");
    }

    private static byte[] concat(String head, byte[] body) {
        byte[] start = HttpGen.bytes(head);
        byte[] all = Arrays.copyOf(start, start.length + body.length);
        System.arraycopy(body, 0, all, start.length, body.length);
        return all;
    }
}
