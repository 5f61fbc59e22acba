package dev.moonbeam.http;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;

/**
 * Generators for the fuzz suites, built from grammar pieces: mostly valid tokens, targets,
 * fields and framing, with near-valid variants drawn among them (CL with TE, repeated or
 * overflowing Content-Length, odd transfer codings, obs-fold, bare CR/LF, NUL and other controls,
 * whitespace before the colon, bad chunk sizes and extensions, bad trailers, pipelined tails) and,
 * now and then, a few raw byte mutations on top. About half of the messages come out valid, so both
 * sides of every rule are exercised.
 */
final class HttpGen {
    /** A message and the parser settings to parse it with. */
    record Case(byte[] input, HttpLimits limits, RequestMethod requestMethod) {
        Case withInput(byte[] newInput) {
            return new Case(newInput, limits, requestMethod);
        }

        @Override
        public String toString() {
            return dev.moonbeam.fuzz.Fuzz.literal(input) + " limits " + limitsText(limits)
                    + (requestMethod == null ? "" : " answering " + requestMethod);
        }
    }

    /** One chunked body as a model: the chunks' data, their extensions, the trailer lines. */
    record ChunkedBody(List<byte[]> chunks, List<String> extensions, List<String> trailers, boolean upperHex,
                       int leadingZeros) {
        byte[] data() {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            chunks.forEach(c -> out.write(c, 0, c.length));
            return out.toByteArray();
        }

        /** RFC 9112 §7.1 encoding of the model. */
        String encode() {
            StringBuilder out = new StringBuilder();
            for (int i = 0; i < chunks.size(); i++) {
                String size = Integer.toHexString(chunks.get(i).length);
                out.append("0".repeat(leadingZeros)).append(upperHex ? size.toUpperCase(java.util.Locale.ROOT) : size)
                        .append(extensions.get(i)).append("\r\n")
                        .append(new String(chunks.get(i), StandardCharsets.ISO_8859_1)).append("\r\n");
            }
            out.append("0").append(extensions.get(chunks.size())).append("\r\n");
            trailers.forEach(t -> out.append(t).append("\r\n"));
            return out.append("\r\n").toString();
        }
    }

    static final List<String> VALID_METHODS = List.of("GET", "GET", "GET", "POST", "POST", "PUT", "HEAD", "DELETE",
            "OPTIONS", "PATCH", "TRACE", "PURGE", "get", "M-SEARCH", "X!#$%&'*+-.^_`|~");
    static final List<String> BAD_METHODS = List.of("", "CONNECT", "G@T", "GE(T", "G\u00c9T", "GET\t", "\"GET\"");
    static final List<String> VALID_TARGETS = List.of("/", "/", "/a/b?c=d&e", "/index.html", "/%41%7e", "/a;b=c",
            "/~user/!$&'()*+,;=:@", "/q?x={y}|z", "http://example.com/x", "https://h:8443", "HTTP://EXAMPLE.COM/",
            "/\"x\"", "/" + "p".repeat(40));
    static final List<String> BAD_TARGETS = List.of("", "a", "*", "/a#frag", "/%zz", "/%4", "/a%", "/caf\u00e9",
            "ftp://x/", "http:///x", "http:/x", "http://", "example.com:80", "/\u007f", "/a\tb", "http://?q");
    static final List<String> VALID_HOSTS = List.of("a", "example.com", "example.com:8080", "[::1]:80",
            "192.0.2.1", "", "xn--caf-dma.example", "h_1.example");
    static final List<String> BAD_HOSTS = List.of("a b", "a/b", "user@a", "a\u00ff", "a\"b", "a?b", "<a>");
    static final List<String> VALID_LENGTHS = List.of("0", "1", "5", "007", "10", "  3  ", "\t2");
    static final List<String> BAD_LENGTHS = List.of("", "-1", "+5", "0x10", "5,5", "5, 5", "5 5", "1.5", "5a",
            "99999999999999999999", "9223372036854775808", "9223372036854775807", "\u0665");
    static final List<String> VALID_CODINGS = List.of("chunked", "CHUNKED", "Chunked", " chunked ", "\tchunked",
            ", chunked", "chunked,", ",,chunked,,");
    static final List<String> BAD_CODINGS = List.of("", "identity", "gzip", "gzip, chunked", "chunked, gzip",
            "chunked, chunked", "chunked;q=1", "chunked ;q=1", "\"chunked\"", "chunk", "xchunked", "chunked-false",
            "chu nked", "chunked\u00ff", "\u00ffchunked", ",", "chunked x", "gzip x, chunked", "gzip;a=b, chunked");
    static final List<String> CONNECTIONS = List.of("close", "keep-alive", "Keep-Alive", "upgrade", "Upgrade",
            "x-foo, close", ",,keep-alive,", "keep-alive, close", "X-Secret", "close, X-Secret, Content-Length",
            "TE", "Expect", "Host", "a@b", "\"close\"", "keep-alive, Upgrade");
    static final List<String> OTHER_NAMES = List.of("Accept", "User-Agent", "X-Custom", "X-Secret", "Cookie",
            "X-Forwarded-For", "x-forwarded-for", "X-Forwarded-Proto", "X-Forwarded-Host", "Keep-Alive", "TE",
            "Trailer", "Proxy-Connection", "Upgrade", "Expect", "Via", "X-Transfer-Encoding", "Transfer_Encoding",
            "Content-Type", "X-!#$%&'*+-.^_`|~");
    static final List<String> OTHER_VALUES = List.of("v", "", "  spaced  ", "a\tb", "caf\u00e9", "\u00ff\u0080",
            "1.1.1.1", "2.2.2.2, 3.3.3.3", "https", "front", "timeout=5", "timeout=5, max=100", "trailers",
            "100-continue", "100-Continue", "websocket", "h2c", "\"quoted, text\"", "a,b;c=d");
    static final List<String> BAD_FIELD_LINES = List.of(" X: folded", "\tX: folded", "X : a", "X\t: a", "Xyz",
            ": a", "X Y: a", "X@Y: a", "X\u00e9: a", "X: a\u0000b", "X: \u001b[31m", "X: a\rb", "X: a\nb",
            "X: \u000c", "X: a\u007fb", "Host : a", "Content-Length : 5", "Transfer-Encoding : chunked");
    static final List<String> VALID_EXTENSIONS = List.of("", "", "", ";a", ";name=value", " ;a=\"q b\"", "\t;x",
            ";a=b;c", "; a = b", ";\u00e9", "  ", ";x=\"a\\\"b\"");
    static final List<String> BAD_SIZE_LINES = List.of("", " 5", "+5", "-1", "0x5", "g", "5 x", "5;a\u0000",
            "ffffffffffffffff", "10000000000000000", "0000000000000005", "5\u000b", "5;a\u007f");
    static final List<String> VALID_TRAILERS = List.of("X-Sum: 1", "Expires: never", "X-B: two words",
            "X-Empty:", "X-Tab:\ta", "Server-Timing: x;dur=1");
    static final List<String> BAD_TRAILERS = List.of(" X: folded", "X : a", "XYZ", ": a", "X: a\u0000",
            "X\u00e9: a", "X: a\rb");
    private static final byte[] INTERESTING = {'\r', '\n', 0, ' ', '\t', ':', ',', ';', '0', 'f', (byte) 0xFF,
        0x7F, 'G', '/', 'H', (byte) 0x80, 0x0B, '"'};

    private HttpGen() {}

    // ---- requests ------------------------------------------------------------------------------

    static Case request(Random r) {
        return new Case(bytes(requestText(r, r.nextInt(10) < 6)), limits(r), null);
    }

    /** A request that is meant to be valid under the default limits (the generator may still slip). */
    static Case validRequest(Random r) {
        return new Case(bytes(requestText(r, true)), HttpLimits.DEFAULTS, null);
    }

    private static String requestText(Random r, boolean valid) {
        StringBuilder out = new StringBuilder();
        // In a "valid" message every piece is drawn from the valid lists; otherwise each piece
        // has its own small chance of going wrong.
        double fault = valid ? 0 : 0.12;
        if (!valid && r.nextInt(15) == 0) {
            out.append(pick(r, "\r\n", "\r\n\r\n", "\n", "\r", " "));
        } else if (r.nextInt(30) == 0) {
            out.append("\r\n");
        }
        String version = chance(r, fault) ? pick(r, "HTTP/1.2", "http/1.1", "HTTP/2", "HTTP/1.", "HTTP/1.1 ",
                "HTTP/10.1", "HTTP/0.9", "HTTP/1.1x", "") : r.nextInt(8) == 0 ? "HTTP/1.0" : "HTTP/1.1";
        String method = chance(r, fault) ? pick(r, BAD_METHODS) : pick(r, VALID_METHODS);
        String target = chance(r, fault) ? pick(r, BAD_TARGETS) : pick(r, VALID_TARGETS);
        if (method.equals("OPTIONS") && r.nextBoolean()) {
            target = "*";
        }
        String sp1 = chance(r, fault / 3) ? pick(r, "  ", "\t", "") : " ";
        String sp2 = chance(r, fault / 3) ? pick(r, "  ", "\t", "") : " ";
        out.append(method).append(sp1).append(target).append(sp2).append(version).append(eol(r, fault));

        List<String> fields = new ArrayList<>();
        // Host: one in 1.1, sometimes in 1.0; faults: none, two, bad value.
        int hosts = version.equals("HTTP/1.0") ? r.nextInt(2) : 1;
        if (chance(r, fault)) {
            hosts = pick(r, 0, 2);
        }
        for (int i = 0; i < hosts; i++) {
            String value = chance(r, fault / 2) ? pick(r, BAD_HOSTS) : pick(r, VALID_HOSTS);
            fields.add(pick(r, "Host", "Host", "host", "HOST", "hOsT") + ":" + ows(r) + value + owsTail(r));
        }
        boolean post = method.equals("POST") || method.equals("PUT") || method.equals("PATCH") || r.nextInt(6) == 0;
        String body = "";
        int framing = post ? r.nextInt(3) : 0; // 0 none, 1 Content-Length, 2 chunked
        if (chance(r, fault * 2)) {
            framing = 3 + r.nextInt(5); // the smuggling shapes
        }
        switch (framing) {
            case 1 -> {
                int length = r.nextInt(r.nextInt(10) == 0 ? 3000 : 40);
                fields.add(name(r, "Content-Length") + ":" + ows(r) + length + owsTail(r));
                body = text(r, length);
            }
            case 2 -> {
                fields.add(name(r, "Transfer-Encoding") + ":" + ows(r) + pick(r, VALID_CODINGS));
                body = chunkedText(r, fault);
            }
            case 3 -> { // CL with TE, either order
                fields.add("Content-Length: " + pick(r, "0", "4", "5"));
                fields.add(name(r, "Transfer-Encoding") + ": " + pick(r, VALID_CODINGS));
                body = "0\r\n\r\n";
            }
            case 4 -> { // repeated Content-Length, equal or not, or a list
                String a = pick(r, "5", "6");
                fields.add("Content-Length: 5");
                fields.add(name(r, "Content-Length") + ": " + a);
                body = "hello";
            }
            case 5 -> { // odd or repeated transfer codings
                fields.add(name(r, "Transfer-Encoding") + ":" + ows(r) + pick(r, BAD_CODINGS));
                if (r.nextBoolean()) {
                    fields.add("Transfer-Encoding: " + pick(r, "chunked", "identity", ""));
                }
                body = "0\r\n\r\n";
            }
            case 6 -> { // bad Content-Length value
                fields.add(name(r, "Content-Length") + ":" + ows(r) + pick(r, BAD_LENGTHS));
                body = "hello";
            }
            default -> { // valid-looking Content-Length value variants with the right body
                String value = pick(r, VALID_LENGTHS);
                fields.add("Content-Length:" + value);
                body = text(r, Integer.parseInt(value.strip()));
            }
        }
        int extra = r.nextInt(r.nextInt(10) == 0 ? 12 : 5);
        for (int i = 0; i < extra; i++) {
            fields.add(otherField(r));
        }
        if (chance(r, fault)) {
            fields.add(pick(r, BAD_FIELD_LINES));
        }
        Collections.shuffle(fields, r);
        for (String field : fields) {
            out.append(field).append(eol(r, fault / 4));
        }
        out.append(eol(r, fault / 4));
        if (chance(r, fault)) {
            body = mutateLength(r, body);
        }
        out.append(body);
        if (r.nextInt(8) == 0) {
            out.append(r.nextBoolean() ? "GET /next HTTP/1.1\r\nHost: a\r\n\r\n" : text(r, 1 + r.nextInt(10)));
        }
        String message = out.toString();
        if (!valid && r.nextInt(6) == 0) {
            message = mutateBytes(r, message);
        }
        return message;
    }

    private static String otherField(Random r) {
        int kind = r.nextInt(10);
        if (kind == 0) {
            return name(r, "Connection") + ":" + ows(r) + pick(r, CONNECTIONS);
        }
        if (kind == 1) {
            return "Expect: " + pick(r, "100-continue", "100-Continue", "something");
        }
        return pick(r, OTHER_NAMES) + ":" + ows(r) + pick(r, OTHER_VALUES) + owsTail(r);
    }

    // ---- responses -----------------------------------------------------------------------------

    static Case response(Random r) {
        RequestMethod method = r.nextInt(5) == 0 ? RequestMethod.HEAD : RequestMethod.GET;
        return new Case(bytes(responseText(r, r.nextInt(10) < 6)), limits(r), method);
    }

    private static String responseText(Random r, boolean valid) {
        double fault = valid ? 0 : 0.12;
        StringBuilder out = new StringBuilder();
        if (chance(r, fault / 2)) {
            out.append("\r\n");
        }
        String version = chance(r, fault) ? pick(r, "HTTP/2.0", "HTTP/1.2", "ICY", "http/1.1", "HTTP/1.1 ")
                : r.nextInt(6) == 0 ? "HTTP/1.0" : "HTTP/1.1";
        int status = chance(r, fault) ? pick(r, 99, 600, 20, 2000, 0)
                : pick(r, 200, 200, 200, 201, 204, 206, 301, 304, 404, 500, 503, 100, 101, 103, 199, 599);
        String code = chance(r, fault / 2) ? pick(r, "2x0", "20", " 200", "200OK") : String.format("%03d", status);
        String reason = pick(r, " OK", " OK", "", " ", " Not Found", " caf\u00e9", " a\tb", " ");
        out.append(version).append(' ').append(code).append(reason).append(eol(r, fault));
        List<String> fields = new ArrayList<>();
        String body;
        int framing = r.nextInt(4); // 0 none (until close), 1 CL, 2 chunked, 3 other coding
        if (chance(r, fault * 2)) {
            framing = 4 + r.nextInt(3);
        }
        switch (framing) {
            case 0 -> body = text(r, r.nextInt(30));
            case 1 -> {
                int length = r.nextInt(r.nextInt(10) == 0 ? 3000 : 40);
                fields.add(name(r, "Content-Length") + ":" + ows(r) + length);
                body = text(r, length);
            }
            case 2 -> {
                fields.add(name(r, "Transfer-Encoding") + ": " + pick(r, "chunked", "CHUNKED", "gzip, chunked",
                        "gzip;level=1, chunked", ",chunked"));
                body = chunkedText(r, fault);
            }
            case 3 -> {
                fields.add("Transfer-Encoding: " + pick(r, "gzip", "identity", "br, gzip"));
                body = text(r, r.nextInt(20));
            }
            case 4 -> {
                fields.add("Content-Length: 5");
                fields.add("Transfer-Encoding: chunked");
                body = "0\r\n\r\n";
            }
            case 5 -> {
                fields.add("Content-Length: 5");
                fields.add("Content-Length: " + pick(r, "5", "6"));
                body = "hello";
            }
            default -> {
                fields.add(name(r, "Transfer-Encoding") + ":" + ows(r) + pick(r, BAD_CODINGS));
                body = "0\r\n\r\n";
            }
        }
        int extra = r.nextInt(5);
        for (int i = 0; i < extra; i++) {
            fields.add(switch (r.nextInt(6)) {
                case 0 -> name(r, "Connection") + ": " + pick(r, CONNECTIONS);
                case 1 -> "Keep-Alive: " + pick(r, "timeout=5", "timeout=5, max=100", "max=3", "timeout=x",
                        "timeout = 7", "TIMEOUT=9", "timeout=99999999999", "timeout=");
                case 2 -> "Set-Cookie: " + pick(r, "a=1", "b=2; Path=/");
                case 3 -> "Upgrade: websocket";
                default -> pick(r, OTHER_NAMES) + ":" + ows(r) + pick(r, OTHER_VALUES);
            });
        }
        if (chance(r, fault)) {
            fields.add(pick(r, BAD_FIELD_LINES));
        }
        if (chance(r, fault / 2)) {
            fields.add("Host: " + pick(r, BAD_HOSTS));
        }
        Collections.shuffle(fields, r);
        for (String field : fields) {
            out.append(field).append(eol(r, fault / 4));
        }
        out.append(eol(r, fault / 4));
        if (chance(r, fault)) {
            body = mutateLength(r, body);
        }
        out.append(body);
        if (r.nextInt(8) == 0) {
            out.append("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        }
        String message = out.toString();
        if (!valid && r.nextInt(6) == 0) {
            message = mutateBytes(r, message);
        }
        return message;
    }

    // ---- chunked bodies ------------------------------------------------------------------------

    /** A valid chunked body model (sizes mostly small, sometimes one large chunk). */
    static ChunkedBody chunkedBody(Random r) {
        int count = r.nextInt(r.nextInt(8) == 0 ? 20 : 5);
        List<byte[]> chunks = new ArrayList<>();
        List<String> extensions = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int size = r.nextInt(40) == 0 ? 1 + r.nextInt(40_000) : 1 + r.nextInt(r.nextBoolean() ? 16 : 300);
            byte[] data = new byte[size];
            r.nextBytes(data); // any bytes: chunk data is opaque, CR/LF/NUL included
            chunks.add(data);
            extensions.add(pick(r, VALID_EXTENSIONS));
        }
        extensions.add(pick(r, VALID_EXTENSIONS));
        List<String> trailers = new ArrayList<>();
        int trailerCount = r.nextInt(4) == 0 ? 1 + r.nextInt(3) : 0;
        for (int i = 0; i < trailerCount; i++) {
            trailers.add(pick(r, VALID_TRAILERS));
        }
        return new ChunkedBody(chunks, extensions, trailers, r.nextBoolean(), r.nextInt(6) == 0 ? 1 + r.nextInt(3) : 0);
    }

    /** A chunked body as text, with faults drawn at rate {@code fault}. */
    private static String chunkedText(Random r, double messageFault) {
        double fault = messageFault * 2; // the body has fewer pieces than the head: fault them more often
        StringBuilder out = new StringBuilder();
        int count = r.nextInt(4);
        for (int i = 0; i < count; i++) {
            int size = 1 + r.nextInt(20);
            if (chance(r, fault / 2)) {
                out.append(pick(r, BAD_SIZE_LINES));
            } else {
                out.append(r.nextBoolean() ? Integer.toHexString(size) : Integer.toHexString(size).toUpperCase())
                        .append(pick(r, VALID_EXTENSIONS));
            }
            out.append(chance(r, fault / 3) ? pick(r, "\n", "\r", "\rX") : "\r\n");
            out.append(text(r, chance(r, fault / 2) ? size + pick(r, -1, 1) : size));
            out.append(chance(r, fault / 3) ? pick(r, "\n", "X\r\n", "\r", "") : "\r\n");
        }
        out.append(chance(r, fault / 3) ? pick(r, "00", "0;last", "000000000000000") : "0").append("\r\n");
        int trailers = r.nextInt(4) == 0 ? 1 + r.nextInt(2) : 0;
        for (int i = 0; i < trailers; i++) {
            out.append(chance(r, fault * 2) ? pick(r, BAD_TRAILERS) : pick(r, VALID_TRAILERS)).append("\r\n");
        }
        if (!chance(r, fault / 3)) {
            out.append("\r\n");
        } else {
            out.append(pick(r, "\n", "", "\r"));
        }
        return out.toString();
    }

    /** Mutates an encoded chunked body near its grammar: the byte edits that matter to a chunk decoder. */
    static byte[] mutateChunked(Random r, byte[] encoded) {
        String s = new String(encoded, StandardCharsets.ISO_8859_1);
        int operations = 1 + r.nextInt(2);
        for (int op = 0; op < operations; op++) {
            int at = s.isEmpty() ? 0 : r.nextInt(s.length());
            String insert = switch (r.nextInt(8)) {
                case 0 -> pick(r, "\r", "\n", "\r\n", "\u0000", " ", "\t", ";", ":", "0", "f", "F", "g", "\u007f");
                case 1 -> pick(r, BAD_SIZE_LINES) + "\r\n";
                case 2 -> pick(r, BAD_TRAILERS) + "\r\n";
                case 3 -> pick(r, VALID_TRAILERS) + "\r\n";
                case 4 -> pick(r, VALID_EXTENSIONS);
                default -> "";
            };
            int delete = insert.isEmpty() || r.nextInt(3) == 0 ? Math.min(s.length() - at, 1 + r.nextInt(3)) : 0;
            s = s.substring(0, at) + insert + s.substring(at + delete);
        }
        return bytes(s);
    }

    // ---- pieces --------------------------------------------------------------------------------

    /** Parser settings: mostly the defaults, sometimes small limits that the generator can reach. */
    static HttpLimits limits(Random r) {
        if (r.nextInt(10) < 7) {
            return HttpLimits.DEFAULTS;
        }
        int line = 16 + r.nextInt(64);
        int head = line + r.nextInt(400);
        return new HttpLimits(line, head, 1 + r.nextInt(8), r.nextInt(16), r.nextBoolean() ? 0 : r.nextInt(64),
                EnumSet.noneOf(Leniency.class));
    }

    static String limitsText(HttpLimits limits) {
        return limits.equals(HttpLimits.DEFAULTS) ? "DEFAULTS" : "(" + limits.maxRequestLineBytes() + ", "
                + limits.maxHeaderBytes() + ", " + limits.maxHeaderCount() + ", " + limits.maxChunkExtensionBytes()
                + ", " + limits.maxBodyBytes() + ")";
    }

    private static String eol(Random r, double fault) {
        return chance(r, fault / 3) ? pick(r, "\n", "\r", "\r\r\n", "\n\r") : "\r\n";
    }

    private static String ows(Random r) {
        return pick(r, " ", " ", " ", "", "  ", "\t", " \t");
    }

    private static String owsTail(Random r) {
        return r.nextInt(6) == 0 ? pick(r, " ", "\t", " \t ") : "";
    }

    /** A known field name in one of its case spellings (RFC 9110 §5.1: case-insensitive). */
    private static String name(Random r, String canonical) {
        return switch (r.nextInt(6)) {
            case 0 -> canonical.toLowerCase(java.util.Locale.ROOT);
            case 1 -> canonical.toUpperCase(java.util.Locale.ROOT);
            default -> canonical;
        };
    }

    private static String text(Random r, int length) {
        StringBuilder out = new StringBuilder(Math.max(0, length));
        for (int i = 0; i < length; i++) {
            out.append(r.nextInt(10) == 0 ? (char) r.nextInt(256) : (char) ('a' + r.nextInt(26)));
        }
        return out.toString();
    }

    private static String mutateLength(Random r, String body) {
        if (body.isEmpty() || r.nextBoolean()) {
            return body + text(r, 1 + r.nextInt(3));
        }
        return body.substring(0, r.nextInt(body.length()));
    }

    /** One to three raw edits (set, insert, delete, repeat), as MutationTest does, on any byte. */
    static String mutateBytes(Random r, String message) {
        byte[] bytes = bytes(message);
        int operations = 1 + r.nextInt(3);
        for (int op = 0; op < operations; op++) {
            int at = bytes.length == 0 ? 0 : r.nextInt(bytes.length);
            byte value = r.nextBoolean() ? INTERESTING[r.nextInt(INTERESTING.length)] : (byte) r.nextInt(256);
            switch (r.nextInt(4)) {
                case 0 -> {
                    if (bytes.length > 0) {
                        bytes[at] = value;
                    }
                }
                case 1 -> {
                    byte[] longer = new byte[bytes.length + 1];
                    System.arraycopy(bytes, 0, longer, 0, at);
                    longer[at] = value;
                    System.arraycopy(bytes, at, longer, at + 1, bytes.length - at);
                    bytes = longer;
                }
                case 2 -> {
                    if (bytes.length > 0) {
                        byte[] shorter = new byte[bytes.length - 1];
                        System.arraycopy(bytes, 0, shorter, 0, at);
                        System.arraycopy(bytes, at + 1, shorter, at, bytes.length - at - 1);
                        bytes = shorter;
                    }
                }
                default -> {
                    int length = Math.min(bytes.length - at, 1 + r.nextInt(8));
                    byte[] repeated = new byte[bytes.length + length];
                    System.arraycopy(bytes, 0, repeated, 0, at + length);
                    System.arraycopy(bytes, at, repeated, at + length, bytes.length - at);
                    bytes = repeated;
                }
            }
        }
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    static byte[] bytes(String latin1) {
        return latin1.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static boolean chance(Random r, double p) {
        return p > 0 && r.nextDouble() < p;
    }

    @SafeVarargs
    private static <T> T pick(Random r, T... options) {
        return options[r.nextInt(options.length)];
    }

    private static <T> T pick(Random r, List<T> options) {
        return options.get(r.nextInt(options.size()));
    }
}
