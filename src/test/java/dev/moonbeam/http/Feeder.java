package dev.moonbeam.http;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Test driver: feeds input to a parser in given pieces the way a connection would (unconsumed
 * bytes stay in the buffer, new bytes are appended), then closes the input, and records what the
 * parser made of it as a flat map of facts. Every loop is bounded.
 */
final class Feeder {
    /** What kind of message and which parser settings. */
    record Setup(boolean request, RequestMethod requestMethod, HttpLimits limits) {}

    /** Result of one run: terminal status, facts, and invariant violations (must be empty). */
    record Outcome(Map<String, String> facts, String violation) {
        String summary() {
            return facts.toString();
        }
    }

    private Feeder() {}

    static Outcome run(Setup setup, byte[] input, int[] cuts) {
        if (setup.request()) {
            RequestParser parser = new RequestParser(setup.limits());
            return run(input, cuts, new Adapter() {
                @Override public ParseStatus parse(ByteBuffer in) { return parser.parse(in); }
                @Override public ParseStatus endOfInput() { return parser.endOfInput(); }
                @Override public HttpHead head() { return parser.head(); }
                @Override public HttpError error() { return parser.error(); }
                @Override public int errorStatus() { return parser.errorStatus(); }
                @Override public String extra() { return ""; }
            }, setup);
        }
        ResponseParser parser = new ResponseParser(setup.limits());
        parser.expectResponseTo(setup.requestMethod());
        return run(input, cuts, new Adapter() {
            @Override public ParseStatus parse(ByteBuffer in) { return parser.parse(in); }
            @Override public ParseStatus endOfInput() { return parser.endOfInput(); }
            @Override public HttpHead head() { return parser.head(); }
            @Override public HttpError error() { return parser.error(); }
            @Override public int errorStatus() { return parser.errorStatus(); }
            @Override public String extra() {
                return parser.isInterim() + "/" + parser.isSwitchingProtocols();
            }
        }, setup);
    }

    /** Whole input in one piece. */
    static Outcome whole(Setup setup, byte[] input) {
        return run(setup, input, new int[0]);
    }

    private interface Adapter {
        ParseStatus parse(ByteBuffer in);
        ParseStatus endOfInput();
        HttpHead head();
        HttpError error();
        int errorStatus();
        String extra();
    }

    private static Outcome run(byte[] input, int[] cuts, Adapter parser, Setup setup) {
        ByteBuffer buffer = ByteBuffer.allocate(input.length + 1);
        buffer.flip();
        ParseStatus last = ParseStatus.NEED_MORE;
        boolean headSeen = false;
        int headCompletes = 0;
        String violation = "";
        int from = 0;
        outer:
        for (int piece = 0; piece <= cuts.length; piece++) {
            int to = piece < cuts.length ? cuts[piece] : input.length;
            buffer.compact();
            buffer.put(input, from, to - from);
            buffer.flip();
            from = to;
            for (int guard = 0; guard < input.length * 4 + 16; guard++) {
                int before = buffer.position();
                last = parser.parse(buffer);
                if (buffer.position() < before) {
                    violation += "position moved back;";
                }
                switch (last) {
                    case HEAD_COMPLETE -> {
                        headSeen = true;
                        headCompletes++;
                    }
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
                    default -> throw new IllegalStateException();
                }
            }
            violation += "no progress;";
            break;
        }
        if (last != ParseStatus.MESSAGE_COMPLETE && last != ParseStatus.ERROR) {
            last = parser.endOfInput();
        }
        if (parser.head().length() > setup.limits().maxHeaderBytes()
                || parser.head().bytes().length > setup.limits().maxHeaderBytes()) {
            violation += "head beyond its limit;";
        }
        if (headCompletes > 1) {
            violation += "HEAD_COMPLETE twice;";
        }
        Map<String, String> facts = new LinkedHashMap<>();
        facts.put("result", last.name());
        if (last == ParseStatus.ERROR) {
            facts.put("error", String.valueOf(parser.error()));
            facts.put("status", String.valueOf(parser.errorStatus()));
            return new Outcome(facts, violation);
        }
        HttpHead head = parser.head();
        // Pieces not yet fed when the message ended count as left over, like bytes in the buffer.
        int consumed = from - buffer.remaining();
        facts.put("rest", String.valueOf(input.length - consumed));
        if (!headSeen) {
            return new Outcome(facts, violation);
        }
        facts.put("bodyBytes", String.valueOf(consumed - head.length()));
        facts.put("version", String.valueOf(head.version()));
        if (setup.request()) {
            facts.put("method", String.valueOf(head.method()));
            facts.put("target", head.text(head.targetStart(), head.targetEnd()));
            facts.put("host", head.hostIndex() < 0 ? "-" : head.text(head.hostStart(), head.hostEnd()));
            facts.put("upgrade", String.valueOf(head.isUpgradeRequested()));
            facts.put("expect", String.valueOf(head.isExpectContinue()));
        } else {
            facts.put("status", String.valueOf(head.statusCode()));
            String[] flags = parser.extra().split("/");
            facts.put("interim", flags[0]);
            facts.put("switching", flags[1]);
            facts.put("kato", String.valueOf(head.keepAliveTimeoutSeconds()));
        }
        facts.put("body", head.bodyKind().name());
        facts.put("len", String.valueOf(head.contentLength()));
        facts.put("ka", String.valueOf(head.isKeepAlive()));
        facts.put("headers", String.valueOf(head.headerCount()));
        return new Outcome(facts, violation);
    }
}
