package dev.moonbeam.config;

import com.eclipsesource.json.JsonValue;
import java.time.Duration;

/**
 * Reads {@code health_check}: the optional top-level section, and its per-backend override in the
 * object form of a {@code backend_servers} entry.
 *
 * <p>Top level: absent, {@code null} or {@code false} = no checks; {@code true} = checks with the
 * defaults; an object = checks with those keys over the defaults. Per backend: absent = the
 * top-level setting; {@code false} = never probe this one; {@code true} = the top-level keys (or
 * the defaults when the top level has no checks); an object = its keys over those.
 *
 * <p>Used only while loading a config, on the control thread.
 */
final class HealthCheckSection {
    static final String KEY = "health_check";
    private static final Duration MIN_INTERVAL = Duration.ofMillis(100);
    private static final Duration MAX_INTERVAL = Duration.ofHours(1);
    private static final Duration MIN_TIMEOUT = Duration.ofMillis(1);
    private static final Duration MAX_TIMEOUT = Duration.ofMinutes(1);
    private static final Duration MAX_SLOW_START = Duration.ofHours(1);
    /** More than this many probes in a row is a typo, not a policy (HAProxy has no cap; 100 is generous). */
    private static final int MAX_THRESHOLD = 100;

    private HealthCheckSection() {
    }

    /** The top-level {@code health_check} of {@code root}; {@link HealthCheckConfig#DISABLED} when absent. */
    static HealthCheckConfig topLevel(JsonSection root) throws ConfigException {
        return read(root, HealthCheckConfig.DISABLED);
    }

    /** The {@code health_check} of one backend object, falling back to {@code topLevel}. */
    static HealthCheckConfig backend(JsonSection backend, HealthCheckConfig topLevel) throws ConfigException {
        if (!backend.has(KEY)) {
            return topLevel;
        }
        return read(backend, topLevel);
    }

    private static HealthCheckConfig read(JsonSection parent, HealthCheckConfig inherited) throws ConfigException {
        JsonValue value = parent.value(KEY);
        HealthCheckConfig base = inherited.enabled() ? inherited : HealthCheckConfig.DEFAULTS;
        if (value == null) {
            return inherited;
        }
        if (value.isBoolean()) {
            return value.asBoolean() ? base : HealthCheckConfig.DISABLED;
        }
        if (!value.isObject()) {
            throw parent.error(KEY, "must be an object, true or false, found " + JsonSection.describe(value));
        }
        return object(parent.section(KEY), base);
    }

    private static HealthCheckConfig object(JsonSection section, HealthCheckConfig base) throws ConfigException {
        String path = section.string("path", base.path());
        checkVisibleAscii(section, "path", path);
        if (!path.startsWith("/")) {
            throw section.error("path", "must start with \"/\", found \"" + path + "\"");
        }
        Duration interval = section.duration("interval", base.interval(), MIN_INTERVAL, MAX_INTERVAL);
        Duration timeout = section.duration("timeout", base.timeout(), MIN_TIMEOUT, MAX_TIMEOUT);
        int healthy = section.integer("healthy_threshold", base.healthyThreshold(), 1, MAX_THRESHOLD);
        int unhealthy = section.integer("unhealthy_threshold", base.unhealthyThreshold(), 1, MAX_THRESHOLD);
        int[] expect = expectStatus(section, base);
        String host = base.host();
        if (section.hasExplicitNull("host")) {
            host = null;
        } else {
            host = section.string("host", host);
            if (host != null) {
                checkVisibleAscii(section, "host", host);
            }
        }
        Duration slowStart = section.duration("slow_start", base.slowStart(), Duration.ZERO, MAX_SLOW_START);
        section.rejectUnknownKeys();
        return new HealthCheckConfig(true, path, interval, timeout, healthy, unhealthy, expect[0], expect[1], host, slowStart);
    }

    /** {@code 200}, {@code "200"} or {@code "200-399"}; both ends inclusive, within 100-599. */
    private static int[] expectStatus(JsonSection section, HealthCheckConfig base) throws ConfigException {
        JsonValue value = section.value("expect_status");
        if (value == null) {
            return new int[] {base.expectStatusMin(), base.expectStatusMax()};
        }
        String text = value.isNumber() || value.isString() ? (value.isString() ? value.asString() : value.toString()) : null;
        int dash = text == null ? -1 : text.indexOf('-');
        int low = text == null ? -1 : status(dash < 0 ? text : text.substring(0, dash));
        int high = dash < 0 ? low : status(text.substring(dash + 1));
        if (low < 0 || high < 0) {
            throw section.error("expect_status", "must be a status like 200 or a range like \"200-399\", found "
                    + JsonSection.describe(value));
        }
        if (low > high) {
            throw section.error("expect_status", "range \"" + text + "\" is empty; write the lower status first");
        }
        return new int[] {low, high};
    }

    private static int status(String text) {
        String s = text.strip();
        if (s.length() != 3 || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return -1;
        }
        int status = Integer.parseInt(s);
        return status >= 100 && status <= 599 ? status : -1;
    }

    /** Goes into the probe's request head as is: a space, CR or LF would change the request. */
    private static void checkVisibleAscii(JsonSection section, String key, String value) throws ConfigException {
        if (value.isEmpty()) {
            throw section.error(key, "must not be empty");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c <= 0x20 || c >= 0x7f) {
                throw section.error(key, "must be visible ASCII without spaces, found \"" + value + "\"");
            }
        }
    }
}
