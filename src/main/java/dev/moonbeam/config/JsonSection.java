package dev.moonbeam.config;

import com.eclipsesource.json.JsonArray;
import com.eclipsesource.json.JsonObject;
import com.eclipsesource.json.JsonValue;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Reads one JSON object of the config with the key path and file at hand, so every error names
 * both. Every key read is remembered; {@link #rejectUnknownKeys()} then turns any other key into an
 * error with the nearest known key as a hint (a typo must never silently do nothing).
 *
 * <p>Used only while loading a config, on the control thread.
 */
final class JsonSection {
    private final Path file;
    private final String path;
    private final JsonObject object;
    private final Set<String> known = new LinkedHashSet<>();

    private JsonSection(Path file, String path, JsonObject object) {
        this.file = file;
        this.path = path;
        this.object = object;
    }

    static JsonSection of(Path file, String path, JsonValue value) throws ConfigException {
        if (!value.isObject()) {
            throw new ConfigException(file, path, "must be an object, found " + describe(value));
        }
        JsonObject object = value.asObject();
        Set<String> seen = new HashSet<>();
        for (JsonObject.Member member : object) {
            // minimal-json keeps duplicates and get() returns the last: a silent override is a trap.
            if (!seen.add(member.getName())) {
                throw new ConfigException(file, child(path, member.getName()), "appears more than once");
            }
        }
        return new JsonSection(file, path, object);
    }

    Path file() {
        return file;
    }

    String path() {
        return path;
    }

    String keyPath(String key) {
        return child(path, key);
    }

    ConfigException error(String key, String problem) {
        return new ConfigException(file, keyPath(key), problem);
    }

    /** The raw value, or null when absent or JSON null. */
    JsonValue value(String key) {
        known.add(key);
        JsonValue value = object.get(key);
        return value == null || value.isNull() ? null : value;
    }

    /** True when the key is present with the JSON value null (e.g. {@code "file": null} to switch a file off). */
    boolean hasExplicitNull(String key) {
        known.add(key);
        JsonValue value = object.get(key);
        return value != null && value.isNull();
    }

    boolean has(String key) {
        return value(key) != null;
    }

    String string(String key, String defaultValue) throws ConfigException {
        JsonValue value = value(key);
        if (value == null) {
            return defaultValue;
        }
        if (!value.isString()) {
            throw error(key, "must be a string, found " + describe(value));
        }
        return value.asString();
    }

    String requiredString(String key) throws ConfigException {
        String value = string(key, null);
        if (value == null) {
            throw error(key, "is required");
        }
        if (value.isBlank()) {
            throw error(key, "must not be empty");
        }
        return value;
    }

    boolean bool(String key, boolean defaultValue) throws ConfigException {
        JsonValue value = value(key);
        if (value == null) {
            return defaultValue;
        }
        if (!value.isBoolean()) {
            throw error(key, "must be true or false, found " + describe(value));
        }
        return value.asBoolean();
    }

    int integer(String key, int defaultValue, int min, int max) throws ConfigException {
        JsonValue value = value(key);
        if (value == null) {
            return defaultValue;
        }
        long parsed = wholeNumber(key, value);
        if (parsed < min || parsed > max) {
            throw error(key, "must be between " + min + " and " + max + ", found " + parsed);
        }
        return (int) parsed;
    }

    /** A byte size: a number of bytes, or a string with a k/m/g suffix ({@code "8k"}, {@code "1m"}). */
    long size(String key, long defaultValue, long min, long max) throws ConfigException {
        JsonValue value = value(key);
        if (value == null) {
            return defaultValue;
        }
        long bytes;
        if (value.isString()) {
            bytes = parseSize(key, value.asString());
        } else {
            bytes = wholeNumber(key, value);
        }
        if (bytes < min || bytes > max) {
            throw error(key, "must be between " + min + " and " + max + " bytes, found " + bytes);
        }
        return bytes;
    }

    /**
     * A duration: a number of seconds ({@code 10}, {@code 0.5}) or a string with a unit
     * ({@code "250ms"}, {@code "10s"}, {@code "2m"}, {@code "1h"}), as nginx writes them.
     */
    Duration duration(String key, Duration defaultValue, Duration min, Duration max) throws ConfigException {
        JsonValue value = value(key);
        if (value == null) {
            return defaultValue;
        }
        Duration parsed;
        if (value.isNumber()) {
            double seconds = value.asDouble();
            if (!Double.isFinite(seconds) || seconds < 0 || seconds > 1e9) {
                throw error(key, "must be a non-negative number of seconds, found " + value);
            }
            parsed = Duration.ofNanos(Math.round(seconds * 1e9));
        } else if (value.isString()) {
            parsed = parseDuration(key, value.asString());
        } else {
            throw error(key, "must be a duration like \"10s\" or \"250ms\", found " + describe(value));
        }
        if (parsed.compareTo(min) < 0 || parsed.compareTo(max) > 0) {
            throw error(key, "must be between " + human(min) + " and " + human(max) + ", found " + human(parsed));
        }
        return parsed;
    }

    JsonArray array(String key) throws ConfigException {
        JsonValue value = value(key);
        if (value == null) {
            return null;
        }
        if (!value.isArray()) {
            throw error(key, "must be an array, found " + describe(value));
        }
        return value.asArray();
    }

    /** A nested object, or null when absent. */
    JsonSection section(String key) throws ConfigException {
        JsonValue value = value(key);
        return value == null ? null : of(file, keyPath(key), value);
    }

    /**
     * For a required key that is missing: if an unknown key is a near miss of it, say so (a typo
     * must not surface as "is required").
     */
    void rejectMisspellingOf(String key) throws ConfigException {
        for (String name : object.names()) {
            if (!name.equals(key) && Suggestions.nearest(name, java.util.List.of(key)) != null) {
                throw new ConfigException(file, keyPath(name), "unknown key; did you mean \"" + key + "\"?");
            }
        }
    }

    /** Call after reading every key this section supports. */
    void rejectUnknownKeys() throws ConfigException {
        for (String name : object.names()) {
            if (!known.contains(name)) {
                String nearest = Suggestions.nearest(name, known);
                String hint = nearest != null ? "; did you mean \"" + nearest + "\"?" : "; known keys: " + String.join(", ", known);
                throw new ConfigException(file, keyPath(name), "unknown key" + hint);
            }
        }
    }

    private long wholeNumber(String key, JsonValue value) throws ConfigException {
        if (!value.isNumber()) {
            throw error(key, "must be a whole number, found " + describe(value));
        }
        double number = value.asDouble();
        if (number != Math.rint(number) || Math.abs(number) > 9.0e15) {
            throw error(key, "must be a whole number, found " + value);
        }
        return (long) number;
    }

    private long parseSize(String key, String text) throws ConfigException {
        String s = text.strip().toLowerCase(Locale.ROOT);
        long multiplier = 1;
        if (s.endsWith("k")) {
            multiplier = 1024;
        } else if (s.endsWith("m")) {
            multiplier = 1024 * 1024;
        } else if (s.endsWith("g")) {
            multiplier = 1024L * 1024 * 1024;
        }
        String digits = multiplier == 1 ? s : s.substring(0, s.length() - 1);
        if (digits.isEmpty() || digits.length() > 12 || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw error(key, "must be a size like 8192, \"8k\" or \"1m\", found \"" + text + "\"");
        }
        return Long.parseLong(digits) * multiplier;
    }

    private Duration parseDuration(String key, String text) throws ConfigException {
        String s = text.strip().toLowerCase(Locale.ROOT);
        int unitStart = 0;
        while (unitStart < s.length() && (Character.isDigit(s.charAt(unitStart)) || s.charAt(unitStart) == '.')) {
            unitStart++;
        }
        String number = s.substring(0, unitStart);
        String unit = s.substring(unitStart);
        double amount;
        try {
            amount = number.isEmpty() || number.length() > 15 ? -1 : Double.parseDouble(number);
        } catch (NumberFormatException e) {
            amount = -1;
        }
        double nanosPerUnit;
        switch (unit) {
            case "ms" -> nanosPerUnit = 1e6;
            case "s", "" -> nanosPerUnit = 1e9;
            case "m" -> nanosPerUnit = 60e9;
            case "h" -> nanosPerUnit = 3600e9;
            default -> nanosPerUnit = -1;
        }
        if (amount < 0 || nanosPerUnit < 0) {
            throw error(key, "must be a duration like \"10s\", \"250ms\", \"2m\" or \"1h\", found \"" + text + "\"");
        }
        return Duration.ofNanos(Math.round(amount * nanosPerUnit));
    }

    static String human(Duration duration) {
        long millis = duration.toMillis();
        if (millis % 1000 != 0 || millis == 0) {
            return millis + "ms";
        }
        return (millis / 1000) + "s";
    }

    static String describe(JsonValue value) {
        if (value.isString()) {
            return "a string (\"" + value.asString() + "\")";
        }
        if (value.isNumber()) {
            return "a number (" + value + ")";
        }
        if (value.isBoolean()) {
            return "a boolean (" + value + ")";
        }
        if (value.isArray()) {
            return "an array";
        }
        if (value.isObject()) {
            return "an object";
        }
        return "null";
    }

    static String child(String parent, String key) {
        return parent == null || parent.isEmpty() ? key : parent + "." + key;
    }
}
