package dev.moonbeam.http;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An independent reference for MoonBeam's strict HTTP/1.1 rules (DESIGN.md "HTTP", the corpus):
 * whole input at once, strings and regular expressions, no incremental state, nothing shared with
 * the parsers under test. It decides accept or reject and, on accept, the facts {@link Feeder}
 * records, so the fuzz suites can compare the two on any input.
 *
 * <p>Covers the strict mode only (no bare-LF leniency). Rejections are not told apart: which of
 * two faults a parser reports first is its own business; that it rejects is not.
 */
final class HttpReference {
    private static final String TCHAR = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]";
    /** Any byte a field value, reason phrase, chunk extension or trailer value may hold: not a control (HTAB is fine). */
    private static final String VCHAR_OR_TAB = "[^\\x00-\\x08\\x0A-\\x1F\\x7F]";
    private static final Pattern REQUEST_LINE =
            Pattern.compile("(" + TCHAR + "+) ([^ ]+) (HTTP/1\\.[01])");
    private static final Pattern STATUS_LINE =
            Pattern.compile("(HTTP/1\\.[01]) ([0-9]{3})(?: " + VCHAR_OR_TAB + "*)?");
    private static final Pattern FIELD_LINE =
            Pattern.compile("(" + TCHAR + "+):[ \\t]*(" + VCHAR_OR_TAB + "*?)[ \\t]*");
    private static final Pattern CHUNK_SIZE_LINE =
            Pattern.compile("([0-9A-Fa-f]{1,15})([ \\t]*(?:;" + VCHAR_OR_TAB + "*)?)");
    private static final Pattern TRAILER_LINE = Pattern.compile(TCHAR + "+:" + VCHAR_OR_TAB + "*");
    private static final Pattern HOST_VALUE = Pattern.compile("[A-Za-z0-9\\-._~!$&'()*+,;=%:\\[\\]]*");
    private static final Pattern TOKEN = Pattern.compile(TCHAR + "*");
    private static final List<String> KNOWN_METHODS =
            List.of("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT");

    /** Accepted with facts (as {@link Feeder} names them), or rejected with a reason for messages. */
    record Verdict(boolean accepted, Map<String, String> facts, String reason) {
        static Verdict reject(String reason) {
            return new Verdict(false, Map.of("result", "ERROR"), reason);
        }

        @Override
        public String toString() {
            return accepted ? "accept " + facts : "reject (" + reason + ")";
        }
    }

    /** A decoded chunked body: how many raw bytes it spans, its data and its trailer lines. */
    record Chunked(int rawLength, byte[] data, List<String> trailerLines) {}

    private HttpReference() {}

    // ---- requests ------------------------------------------------------------------------------

    static Verdict request(byte[] input, HttpLimits limits) {
        String s = new String(input, StandardCharsets.ISO_8859_1);
        if (s.isEmpty()) {
            Map<String, String> facts = new LinkedHashMap<>();
            facts.put("result", "NEED_MORE");
            facts.put("rest", "0");
            return new Verdict(true, facts, "");
        }
        int start = 0;
        while (s.startsWith("\r\n", start)) {
            start += 2; // RFC 9112 §2.2: empty lines before the request line are ignored
        }
        Head head = head(s, start, limits, true);
        if (head.error != null) {
            return Verdict.reject(head.error);
        }
        Matcher line = REQUEST_LINE.matcher(head.startLine);
        if (!line.matches()) {
            return Verdict.reject("request line " + head.startLine);
        }
        String method = line.group(1);
        String target = line.group(2);
        String version = line.group(3);
        if (method.equals("CONNECT")) {
            return Verdict.reject("CONNECT");
        }
        if (!validTarget(target, method)) {
            return Verdict.reject("target " + target);
        }
        Fields fields = fields(head, version);
        if (fields.error != null) {
            return Verdict.reject(fields.error);
        }
        if (fields.teFields > 0) {
            if (version.equals("HTTP/1.0")) {
                return Verdict.reject("TE in 1.0");
            }
            if (fields.contentLength >= 0) {
                return Verdict.reject("CL and TE");
            }
            if (fields.codings.size() != 1 || !fields.codings.get(0).equalsIgnoreCase("chunked")) {
                return Verdict.reject("request codings " + fields.codings);
            }
        }
        if (fields.hosts.size() > 1) {
            return Verdict.reject("two Host");
        }
        if (fields.hosts.isEmpty() && version.equals("HTTP/1.1")) {
            return Verdict.reject("no Host");
        }
        String kind;
        int bodyRaw;
        int bodyStart = head.end;
        if (fields.teFields > 0) {
            kind = "CHUNKED";
            Object chunked = chunked(s, bodyStart, limits, limits.maxBodyBytes());
            if (chunked instanceof String reason) {
                return Verdict.reject(reason);
            }
            bodyRaw = ((Chunked) chunked).rawLength();
        } else if (fields.contentLength > 0) {
            if (limits.maxBodyBytes() > 0 && fields.contentLength > limits.maxBodyBytes()) {
                return Verdict.reject("body over the limit");
            }
            if (s.length() - bodyStart < fields.contentLength) {
                return Verdict.reject("truncated body");
            }
            kind = "CONTENT_LENGTH";
            bodyRaw = (int) fields.contentLength;
        } else {
            kind = "NONE";
            bodyRaw = 0;
        }
        boolean close = fields.connectionOptions.contains("close");
        boolean keepAlive = version.equals("HTTP/1.1") ? !close : fields.connectionOptions.contains("keep-alive") && !close;
        Map<String, String> facts = new LinkedHashMap<>();
        facts.put("result", "MESSAGE_COMPLETE");
        facts.put("rest", String.valueOf(s.length() - bodyStart - bodyRaw));
        facts.put("bodyBytes", String.valueOf(bodyRaw));
        facts.put("version", version.equals("HTTP/1.1") ? "HTTP_1_1" : "HTTP_1_0");
        facts.put("method", KNOWN_METHODS.contains(method) ? method : "OTHER");
        facts.put("target", target);
        facts.put("host", fields.hosts.isEmpty() ? "-" : fields.hosts.get(0));
        facts.put("upgrade", String.valueOf(fields.upgradePresent && fields.connectionOptions.contains("upgrade")
                && version.equals("HTTP/1.1")));
        facts.put("expect", String.valueOf(fields.expectContinue && version.equals("HTTP/1.1")));
        facts.put("body", kind);
        facts.put("len", String.valueOf(fields.contentLength));
        facts.put("ka", String.valueOf(keepAlive));
        facts.put("headers", String.valueOf(head.fieldLines.size()));
        return new Verdict(true, facts, "");
    }

    /** origin-form, asterisk-form (OPTIONS), or absolute-form http(s) with an authority (RFC 9112 §3.2). */
    private static boolean validTarget(String target, String method) {
        if (target.equals("*")) {
            return method.equals("OPTIONS");
        }
        if (!target.startsWith("/")) {
            Matcher absolute = Pattern.compile("(?is)https?://[^/?].*").matcher(target);
            if (!absolute.matches()) {
                return false;
            }
        }
        for (int i = 0; i < target.length(); i++) {
            char c = target.charAt(i);
            if (c <= 0x20 || c >= 0x7F || c == '#') {
                return false;
            }
            if (c == '%' && !(i + 2 < target.length() && isHex(target.charAt(i + 1)) && isHex(target.charAt(i + 2)))) {
                return false;
            }
        }
        return true;
    }

    // ---- responses -----------------------------------------------------------------------------

    static Verdict response(byte[] input, HttpLimits limits, RequestMethod requestMethod) {
        String s = new String(input, StandardCharsets.ISO_8859_1);
        Head head = head(s, 0, limits, false);
        if (head.error != null) {
            return Verdict.reject(head.error);
        }
        Matcher line = STATUS_LINE.matcher(head.startLine);
        if (!line.matches()) {
            return Verdict.reject("status line " + head.startLine);
        }
        String version = line.group(1);
        int status = Integer.parseInt(line.group(2));
        if (status < 100 || status > 599) {
            return Verdict.reject("status " + status);
        }
        Fields fields = fields(head, version);
        if (fields.error != null) {
            return Verdict.reject(fields.error);
        }
        boolean chunked = false;
        if (fields.teFields > 0) {
            if (version.equals("HTTP/1.0")) {
                return Verdict.reject("TE in 1.0");
            }
            if (fields.contentLength >= 0) {
                return Verdict.reject("CL and TE");
            }
            chunked = fields.codings.get(fields.codings.size() - 1).equalsIgnoreCase("chunked");
        }
        int bodyStart = head.end;
        String kind;
        int bodyRaw;
        boolean bodiless = requestMethod == RequestMethod.HEAD || status < 200 || status == 204 || status == 304;
        if (bodiless) {
            kind = "NONE";
            bodyRaw = 0;
        } else if (fields.teFields > 0 && chunked) {
            kind = "CHUNKED";
            Object body = chunked(s, bodyStart, limits, 0);
            if (body instanceof String reason) {
                return Verdict.reject(reason);
            }
            bodyRaw = ((Chunked) body).rawLength();
        } else if (fields.teFields == 0 && fields.contentLength == 0) {
            kind = "NONE";
            bodyRaw = 0;
        } else if (fields.teFields == 0 && fields.contentLength > 0) {
            if (s.length() - bodyStart < fields.contentLength) {
                return Verdict.reject("truncated body");
            }
            kind = "CONTENT_LENGTH";
            bodyRaw = (int) fields.contentLength;
        } else {
            kind = "UNTIL_CLOSE"; // RFC 9112 §6.3 items 4 and 8
            bodyRaw = s.length() - bodyStart;
        }
        boolean close = fields.connectionOptions.contains("close");
        boolean versionAllows = version.equals("HTTP/1.1") ? !close
                : fields.connectionOptions.contains("keep-alive") && !close;
        Map<String, String> facts = new LinkedHashMap<>();
        facts.put("result", "MESSAGE_COMPLETE");
        facts.put("rest", String.valueOf(s.length() - bodyStart - bodyRaw));
        facts.put("bodyBytes", String.valueOf(bodyRaw));
        facts.put("version", version.equals("HTTP/1.1") ? "HTTP_1_1" : "HTTP_1_0");
        facts.put("status", String.valueOf(status));
        facts.put("interim", String.valueOf(status < 200 && status != 101));
        facts.put("switching", String.valueOf(status == 101));
        facts.put("kato", String.valueOf(fields.keepAliveTimeout));
        facts.put("body", kind);
        facts.put("len", String.valueOf(fields.contentLength));
        facts.put("ka", String.valueOf(versionAllows && !kind.equals("UNTIL_CLOSE")));
        facts.put("headers", String.valueOf(head.fieldLines.size()));
        return new Verdict(true, facts, "");
    }

    // ---- chunked -------------------------------------------------------------------------------

    /**
     * Decodes a chunked body starting at {@code from}: a {@link Chunked}, or a String saying why
     * it is rejected (including running out of input).
     */
    static Object chunked(String s, int from, HttpLimits limits, long maxBody) {
        int at = from;
        long total = 0;
        java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();
        while (true) {
            int eol = lineEnd(s, at);
            if (eol < 0) {
                return "chunk size line: " + (eol == -1 ? "truncated" : "bare CR or LF");
            }
            Matcher size = CHUNK_SIZE_LINE.matcher(s.substring(at, eol));
            if (!size.matches()) {
                return "chunk size line '" + s.substring(at, eol) + "'";
            }
            if (size.group(2).length() > limits.maxChunkExtensionBytes()) {
                return "chunk extension too long";
            }
            long chunk = Long.parseLong(size.group(1), 16);
            at = eol + 2;
            if (chunk == 0) {
                break;
            }
            total += chunk;
            if (maxBody > 0 && total > maxBody) {
                return "chunked body over the limit";
            }
            if (s.length() - at < chunk) {
                return "chunk data truncated";
            }
            data.write(s.substring(at, at + (int) chunk).getBytes(StandardCharsets.ISO_8859_1), 0, (int) chunk);
            at += (int) chunk;
            if (!s.startsWith("\r\n", at)) {
                return s.length() - at < 2 && "\r\n".startsWith(s.substring(at)) ? "truncated after chunk data"
                        : "chunk data not followed by CRLF";
            }
            at += 2;
        }
        List<String> trailers = new ArrayList<>();
        int trailerBytes = 0;
        while (true) {
            int eol = lineEnd(s, at);
            if (eol < 0) {
                return "trailer line: " + (eol == -1 ? "truncated" : "bare CR or LF");
            }
            String line = s.substring(at, eol);
            at = eol + 2;
            if (line.isEmpty()) {
                break;
            }
            if (!TRAILER_LINE.matcher(line).matches()) {
                return "trailer line '" + line + "'";
            }
            trailerBytes += line.length();
            if (trailerBytes > limits.maxHeaderBytes()) {
                return "trailers too large";
            }
            trailers.add(line);
        }
        return new Chunked(at - from, data.toByteArray(), trailers);
    }

    /** Index of the CR of the CRLF ending the line at {@code from}; -1 if none yet, -2 for a bare CR or LF. */
    private static int lineEnd(String s, int from) {
        for (int i = from; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\n') {
                return -2;
            }
            if (c == '\r') {
                if (i + 1 == s.length()) {
                    return -1;
                }
                return s.charAt(i + 1) == '\n' ? i : -2;
            }
        }
        return -1;
    }

    // ---- shared head rules ---------------------------------------------------------------------

    /** The head's lines, or why it is refused; {@code end} is just past its empty line. */
    private static final class Head {
        String error;
        String startLine;
        final List<String> fieldLines = new ArrayList<>();
        int end;
    }

    private static Head head(String s, int start, HttpLimits limits, boolean request) {
        Head head = new Head();
        int at = start;
        List<String> lines = new ArrayList<>();
        while (true) {
            int eol = lineEnd(s, at);
            if (eol == -2) {
                head.error = "bare CR or LF in the head";
                return head;
            }
            if (eol == -1) {
                head.error = "head incomplete";
                return head;
            }
            String line = s.substring(at, eol);
            at = eol + 2;
            if (line.isEmpty()) {
                break;
            }
            lines.add(line);
        }
        head.end = at;
        if (lines.isEmpty()) {
            head.error = request ? "no request line" : "empty status line";
            return head;
        }
        // The limits apply to the bytes as received: leading empty lines count towards the block.
        if (at > limits.maxHeaderBytes()) {
            head.error = "head over " + limits.maxHeaderBytes() + " bytes";
            return head;
        }
        if (lines.get(0).length() > limits.maxRequestLineBytes()) {
            head.error = "start line too long";
            return head;
        }
        if (lines.size() - 1 > limits.maxHeaderCount()) {
            head.error = "too many fields";
            return head;
        }
        for (int i = start; i < at; i++) {
            char c = s.charAt(i);
            if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7F) {
                head.error = "control byte in the head";
                return head;
            }
        }
        head.startLine = lines.get(0);
        head.fieldLines.addAll(lines.subList(1, lines.size()));
        return head;
    }

    /** The fields a proxy acts on, decoded as RFC 9110/9112 and MoonBeam's strict rules say. */
    private static final class Fields {
        String error;
        final List<String> hosts = new ArrayList<>();
        long contentLength = -1;
        int teFields;
        final List<String> codings = new ArrayList<>();
        final List<String> connectionOptions = new ArrayList<>();
        boolean upgradePresent;
        boolean expectContinue;
        int keepAliveTimeout = -1;
    }

    private static Fields fields(Head head, String version) {
        Fields fields = new Fields();
        for (String line : head.fieldLines) {
            Matcher field = FIELD_LINE.matcher(line);
            if (!field.matches()) {
                fields.error = "field line '" + line + "'"; // obs-fold, space before colon, bad name, no colon
                return fields;
            }
            String name = field.group(1).toLowerCase(Locale.ROOT);
            String value = field.group(2);
            switch (name) {
                case "host" -> {
                    if (!HOST_VALUE.matcher(value).matches()) {
                        fields.error = "Host value " + value;
                        return fields;
                    }
                    fields.hosts.add(value);
                }
                case "content-length" -> {
                    // Any second Content-Length is refused, equal or not (RFC 9112 §6.3 item 5, strictly).
                    if (fields.contentLength >= 0 || !value.matches("[0-9]+")) {
                        fields.error = "Content-Length " + value;
                        return fields;
                    }
                    try {
                        fields.contentLength = Long.parseLong(value);
                    } catch (NumberFormatException overflow) {
                        fields.error = "Content-Length overflows";
                        return fields;
                    }
                }
                case "transfer-encoding" -> {
                    fields.teFields++;
                    for (String element : value.split(",", -1)) {
                        String coding = ows(element);
                        if (coding.isEmpty()) {
                            continue;
                        }
                        // transfer-coding = token *( OWS ";" OWS transfer-parameter ), RFC 9112 §7
                        if (!coding.matches("(?s)" + TCHAR + "+(?:[; \\t].*)?")) {
                            fields.error = "transfer coding " + coding;
                            return fields;
                        }
                        fields.codings.add(coding);
                    }
                }
                case "connection" -> {
                    for (String element : value.split(",", -1)) {
                        String option = ows(element);
                        if (!TOKEN.matcher(option).matches()) {
                            fields.error = "Connection option " + option;
                            return fields;
                        }
                        fields.connectionOptions.add(option.toLowerCase(Locale.ROOT));
                    }
                }
                case "upgrade" -> fields.upgradePresent = true;
                case "expect" -> fields.expectContinue |= value.equalsIgnoreCase("100-continue");
                case "keep-alive" -> fields.keepAliveTimeout = keepAliveTimeout(value);
                default -> { }
            }
        }
        if (fields.teFields > 0) {
            long chunkedCount = fields.codings.stream()
                    .filter(c -> c.split("[; \\t]", 2)[0].equalsIgnoreCase("chunked")).count();
            boolean lastIsChunked = !fields.codings.isEmpty()
                    && fields.codings.get(fields.codings.size() - 1).equalsIgnoreCase("chunked");
            if (fields.codings.isEmpty() || chunkedCount > 1 || (chunkedCount == 1 && !lastIsChunked)) {
                fields.error = "transfer codings " + fields.codings; // RFC 9112 §6.1: chunked once, last
                return fields;
            }
        }
        return fields;
    }

    /** {@code timeout=N} of a Keep-Alive value (the first timeout parameter), else -1. */
    private static int keepAliveTimeout(String value) {
        for (String element : value.split(",", -1)) {
            String[] pair = ows(element).split("=", 2);
            if (pair.length == 2 && ows(pair[0]).equalsIgnoreCase("timeout")) {
                String number = ows(pair[1]);
                if (!number.matches("[0-9]+")) {
                    return -1;
                }
                try {
                    return Integer.parseInt(number);
                } catch (NumberFormatException tooLarge) {
                    return -1;
                }
            }
        }
        return -1;
    }

    /** Trims OWS (SP and HTAB only, RFC 9110 §5.6.3), unlike String.strip(). */
    private static String ows(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && (s.charAt(start) == ' ' || s.charAt(start) == '\t')) {
            start++;
        }
        while (end > start && (s.charAt(end - 1) == ' ' || s.charAt(end - 1) == '\t')) {
            end--;
        }
        return s.substring(start, end);
    }

    private static boolean isHex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }
}
