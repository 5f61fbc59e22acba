package dev.moonbeam.config;

import java.nio.file.Path;

/**
 * The {@code access_log} and {@code admin} sections.
 *
 * @param accessLog      the access log file, or null when off
 * @param accessLogQueue lines each event loop may have waiting for the writer before it drops
 * @param admin          the admin listener ({@code /metrics}, {@code /status}, {@code /healthz}), or null when off
 */
public record ObserveConfig(Path accessLog, int accessLogQueue, ListenAddress admin) {
    public static final int DEFAULT_ACCESS_LOG_QUEUE = 1024;
    public static final ObserveConfig NONE = new ObserveConfig(null, DEFAULT_ACCESS_LOG_QUEUE, null);
}
