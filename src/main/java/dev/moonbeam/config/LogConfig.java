package dev.moonbeam.config;

import java.nio.file.Path;

/** The {@code log} section: the server log file (null = console only) and the least level written. */
public record LogConfig(Path file, System.Logger.Level level) {
}
