package dev.moonbeam.http;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The request/response corpus in {@code corpus.txt}: one case per line,
 * {@code kind || input || expected}. Kind is REQ or RESP plus options (small limits, bare-LF
 * leniency, body limit, HEAD request). Input uses \r \n \t \0 \xHH \\ escapes and {c*N} for N
 * copies of c. Expected is {@code ERR NAME} or {@code key=value} facts.
 */
final class Corpus {
    static final HttpLimits SMALL = new HttpLimits(32, 128, 4, 8, 0, EnumSet.noneOf(Leniency.class));

    record Case(int line, String kindText, Feeder.Setup setup, byte[] input, String expected) {
        boolean expectsError() {
            return expected.startsWith("ERR ");
        }

        String errorName() {
            return expected.substring(4).trim();
        }

        Map<String, String> expectedFacts() {
            Map<String, String> facts = new LinkedHashMap<>();
            for (String pair : expected.trim().split("\\s+")) {
                int eq = pair.indexOf('=');
                facts.put(pair.substring(0, eq), pair.substring(eq + 1));
            }
            return facts;
        }

        @Override
        public String toString() {
            String shown = new String(input, StandardCharsets.ISO_8859_1)
                    .replace("\r", "\\r").replace("\n", "\\n");
            if (shown.length() > 70) {
                shown = shown.substring(0, 70) + "...";
            }
            return "line " + line + " " + kindText + " " + shown;
        }
    }

    private static List<Case> cases;

    private Corpus() {}

    static synchronized List<Case> all() {
        if (cases == null) {
            cases = load();
        }
        return cases;
    }

    static List<Case> valid() {
        return all().stream().filter(c -> !c.expectsError()).toList();
    }

    private static List<Case> load() {
        List<Case> result = new ArrayList<>();
        try (InputStream stream = Corpus.class.getResourceAsStream("corpus.txt");
             BufferedReader reader = new BufferedReader(
                     new InputStreamReader(stream, StandardCharsets.UTF_8))) {
            String text;
            int line = 0;
            while ((text = reader.readLine()) != null) {
                line++;
                if (text.isBlank() || text.startsWith("#")) {
                    continue;
                }
                String[] parts = text.split(" \\|\\| ", -1);
                if (parts.length != 3) {
                    throw new IllegalArgumentException("corpus line " + line + ": " + text);
                }
                result.add(new Case(line, parts[0].trim(), setup(parts[0].trim()),
                        unescape(parts[1]), parts[2].trim()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return result;
    }

    private static Feeder.Setup setup(String kind) {
        String[] options = kind.split(",");
        HttpLimits limits = HttpLimits.DEFAULTS;
        RequestMethod method = RequestMethod.GET;
        for (int i = 1; i < options.length; i++) {
            switch (options[i]) {
                case "small" -> limits = SMALL;
                case "lf" -> limits = limits.withLeniencies(EnumSet.of(Leniency.BARE_LF_LINE_ENDINGS));
                case "body10" -> limits = limits.withMaxBodyBytes(10);
                case "HEAD" -> method = RequestMethod.HEAD;
                default -> throw new IllegalArgumentException("unknown option " + options[i]);
            }
        }
        return new Feeder.Setup(options[0].equals("REQ"), method, limits);
    }

    static byte[] unescape(String s) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '{' && i + 3 < s.length() && s.charAt(i + 2) == '*') {
                int close = s.indexOf('}', i);
                int count = Integer.parseInt(s.substring(i + 3, close));
                out.append(String.valueOf(s.charAt(i + 1)).repeat(count));
                i = close;
            } else if (c == '\\') {
                char e = s.charAt(++i);
                switch (e) {
                    case 'r' -> out.append('\r');
                    case 'n' -> out.append('\n');
                    case 't' -> out.append('\t');
                    case '0' -> out.append('\0');
                    case '\\' -> out.append('\\');
                    case 'x' -> {
                        out.append((char) Integer.parseInt(s.substring(i + 1, i + 3), 16));
                        i += 2;
                    }
                    default -> throw new IllegalArgumentException("bad escape \\" + e);
                }
            } else {
                out.append(c);
            }
        }
        return out.toString().getBytes(StandardCharsets.ISO_8859_1);
    }
}
