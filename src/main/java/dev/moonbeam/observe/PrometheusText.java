package dev.moonbeam.observe;

import java.util.regex.Pattern;

/**
 * Writes the Prometheus text exposition format, version 0.0.4: a {@code # HELP} and
 * {@code # TYPE} line per family, then its samples {@code name{label="value",...} number}. Label
 * values and help text are escaped as the format requires, so a backend named with a quote or
 * a newline cannot corrupt the scrape.
 *
 * <p>Not thread-safe: one instance per rendering.
 */
final class PrometheusText {
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");

    private final StringBuilder out = new StringBuilder(8192);

    /** Starts a family; {@code type} is counter, gauge or histogram. */
    PrometheusText family(String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ');
        for (int i = 0; i < help.length(); i++) {
            char c = help.charAt(i);
            if (c == '\\') {
                out.append("\\\\");
            } else if (c == '\n') {
                out.append("\\n");
            } else {
                out.append(c);
            }
        }
        out.append('\n').append("# TYPE ").append(name).append(' ').append(type).append('\n');
        return this;
    }

    /** A sample; {@code labels} alternate names and values. */
    PrometheusText sample(String name, long value, String... labels) {
        labels(name, labels);
        out.append(' ').append(value).append('\n');
        return this;
    }

    PrometheusText sample(String name, double value, String... labels) {
        labels(name, labels);
        out.append(' ').append(number(value)).append('\n');
        return this;
    }

    private void labels(String name, String... labels) {
        out.append(name);
        if (labels.length == 0) {
            return;
        }
        out.append('{');
        for (int i = 0; i + 1 < labels.length; i += 2) {
            if (i > 0) {
                out.append(',');
            }
            out.append(labels[i]).append("=\"");
            escapeLabelValue(labels[i + 1]);
            out.append('"');
        }
        out.append('}');
    }

    private void escapeLabelValue(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '"' -> out.append("\\\"");
                case '\n' -> out.append("\\n");
                default -> out.append(c);
            }
        }
    }

    static String number(double value) {
        if (Double.isNaN(value)) {
            return "NaN";
        }
        if (Double.isInfinite(value)) {
            return value > 0 ? "+Inf" : "-Inf";
        }
        if (value == Math.rint(value) && Math.abs(value) < 1e15) {
            return Long.toString((long) value);
        }
        return Double.toString(value);
    }

    @Override
    public String toString() {
        return out.toString();
    }
}
