package dev.moonbeam.observe;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text format 0.0.4, for tests: every line is a HELP, a TYPE
 * or a sample; each family has HELP then TYPE before its samples and appears once; sample names
 * belong to the family (with _bucket/_sum/_count for histograms); label sets are unique;
 * histogram buckets are cumulative, end with le="+Inf" and that equals _count.
 */
final class PrometheusParser {
    private static final String NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
    private static final Pattern HELP = Pattern.compile("# HELP (" + NAME + ") (.*)");
    private static final Pattern TYPE = Pattern.compile("# TYPE (" + NAME + ") (counter|gauge|histogram|summary|untyped)");
    private static final Pattern SAMPLE = Pattern.compile("(" + NAME + ")(\\{(.*)})? (\\S+)");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\\\n]|\\\\[\\\\\"n])*)\"(,|$)");

    record Sample(String name, Map<String, String> labels, double value) { }

    /** Samples by name then by their labels (in order of appearance). */
    final Map<String, List<Sample>> samples = new LinkedHashMap<>();
    final Map<String, String> types = new HashMap<>();

    static PrometheusParser parse(String text) {
        PrometheusParser parser = new PrometheusParser();
        parser.read(text);
        return parser;
    }

    private void read(String text) {
        assertThat(text).endsWith("\n");
        String family = null;
        String helpFor = null;
        Set<String> seenFamilies = new HashSet<>();
        Set<String> seenSeries = new HashSet<>();
        for (String line : text.split("\n", -1)) {
            if (line.isEmpty()) {
                continue;
            }
            Matcher help = HELP.matcher(line);
            Matcher type = TYPE.matcher(line);
            if (help.matches()) {
                assertThat(seenFamilies.add(help.group(1))).as("family appears once: " + line).isTrue();
                helpFor = help.group(1);
                family = null;
                continue;
            }
            if (type.matches()) {
                assertThat(type.group(1)).as("TYPE follows its HELP").isEqualTo(helpFor);
                family = type.group(1);
                types.put(family, type.group(2));
                continue;
            }
            assertThat(line).as("not a comment").doesNotStartWith("#");
            Matcher sample = SAMPLE.matcher(line);
            assertThat(sample.matches()).as("sample line: " + line).isTrue();
            assertThat(family).as("sample after HELP and TYPE: " + line).isNotNull();
            String name = sample.group(1);
            String type1 = types.get(family);
            if (type1.equals("histogram")) {
                assertThat(name).isIn(family + "_bucket", family + "_sum", family + "_count");
            } else {
                assertThat(name).isEqualTo(family);
            }
            if (type1.equals("counter")) {
                assertThat(name).endsWith("_total");
            }
            Map<String, String> labels = labels(sample.group(3) == null ? "" : sample.group(3), line);
            assertThat(seenSeries.add(name + labels)).as("unique series: " + line).isTrue();
            double value = parseValue(sample.group(4), line);
            samples.computeIfAbsent(name, n -> new ArrayList<>()).add(new Sample(name, labels, value));
        }
        checkHistograms();
    }

    private static Map<String, String> labels(String text, String line) {
        Map<String, String> labels = new LinkedHashMap<>();
        Matcher m = LABEL.matcher(text);
        int at = 0;
        while (at < text.length()) {
            assertThat(m.find(at) && m.start() == at).as("labels of " + line).isTrue();
            String value = m.group(2).replace("\\n", "\n").replace("\\\"", "\"").replace("\\\\", "\\");
            assertThat(labels.put(m.group(1), value)).as("label repeated: " + line).isNull();
            at = m.end();
        }
        return labels;
    }

    private static double parseValue(String text, String line) {
        switch (text) {
            case "+Inf": return Double.POSITIVE_INFINITY;
            case "-Inf": return Double.NEGATIVE_INFINITY;
            case "NaN": return Double.NaN;
            default:
                try {
                    return Double.parseDouble(text);
                } catch (NumberFormatException e) {
                    throw new AssertionError("bad value in " + line);
                }
        }
    }

    private void checkHistograms() {
        for (Map.Entry<String, String> family : types.entrySet()) {
            if (!family.getValue().equals("histogram")) {
                continue;
            }
            String name = family.getKey();
            Map<Map<String, String>, List<Sample>> bySeries = new LinkedHashMap<>();
            for (Sample bucket : samples.getOrDefault(name + "_bucket", List.of())) {
                Map<String, String> series = new LinkedHashMap<>(bucket.labels());
                assertThat(series.remove("le")).as("bucket has le").isNotNull();
                bySeries.computeIfAbsent(series, s -> new ArrayList<>()).add(bucket);
            }
            for (Map.Entry<Map<String, String>, List<Sample>> series : bySeries.entrySet()) {
                List<Sample> buckets = series.getValue();
                double previousLe = Double.NEGATIVE_INFINITY;
                double previous = 0;
                for (Sample bucket : buckets) {
                    double le = parseValue(bucket.labels().get("le"), name);
                    assertThat(le).as("le increasing").isGreaterThan(previousLe);
                    assertThat(bucket.value()).as("cumulative").isGreaterThanOrEqualTo(previous);
                    previousLe = le;
                    previous = bucket.value();
                }
                assertThat(buckets.get(buckets.size() - 1).labels().get("le")).isEqualTo("+Inf");
                assertThat(value(name + "_count", series.getKey())).isEqualTo(previous);
                assertThat(value(name + "_sum", series.getKey())).isNotNaN();
            }
        }
    }

    /** The value of the sample with exactly these labels; fails when absent. */
    double value(String name, Map<String, String> labels) {
        for (Sample sample : samples.getOrDefault(name, List.of())) {
            if (sample.labels().equals(labels)) {
                return sample.value();
            }
        }
        throw new AssertionError("no sample " + name + labels + " in " + samples.keySet());
    }

    double value(String name, String... labelPairs) {
        Map<String, String> labels = new LinkedHashMap<>();
        for (int i = 0; i < labelPairs.length; i += 2) {
            labels.put(labelPairs[i], labelPairs[i + 1]);
        }
        return value(name, labels);
    }
}
