package dev.moonbeam;

import dev.moonbeam.config.LogConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.logging.ConsoleHandler;
import java.util.logging.FileHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Routes {@code System.Logger} (backed by java.util.logging) to the console and the log file, one
 * line per event: time, level, thread, logger, message. Configured once on the main thread at
 * start-up, and again on reload when the log section changes.
 */
public final class LogSetup {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    private LogSetup() {
    }

    /** Console only, before the config is known (errors loading it still get printed). */
    public static void consoleOnly(boolean debug) {
        Logger root = resetRoot();
        root.addHandler(console(debug ? Level.FINE : Level.INFO));
        root.setLevel(debug ? Level.FINE : Level.INFO);
    }

    /** Console plus the configured file; throws with a clear message if the file cannot be opened. */
    public static void apply(LogConfig config, boolean debug) throws IOException {
        Level level = debug ? Level.FINE : toJul(config.level());
        // Close the old file first: its lock would otherwise push the new handler to "name.1".
        Logger root = resetRoot();
        root.addHandler(console(level));
        root.setLevel(level);
        Handler file = null;
        if (config.file() != null) {
            Path parent = config.file().toAbsolutePath().getParent();
            try {
                if (parent != null) {
                    Files.createDirectories(parent);
                }
                file = new FileHandler(config.file().toString(), 0, 1, true);
            } catch (IOException | SecurityException e) {
                throw new IOException("cannot open log file " + config.file() + ": " + e.getMessage(), e);
            }
            file.setFormatter(new OneLineFormatter());
            file.setEncoding("UTF-8");
            file.setLevel(level);
        }
        if (file != null) {
            root.addHandler(file);
        }
    }

    private static Logger resetRoot() {
        Logger root = Logger.getLogger("");
        for (Handler handler : root.getHandlers()) {
            root.removeHandler(handler);
            handler.close();
        }
        return root;
    }

    private static Handler console(Level level) {
        ConsoleHandler console = new ConsoleHandler();
        console.setFormatter(new OneLineFormatter());
        console.setLevel(level);
        return console;
    }

    static Level toJul(System.Logger.Level level) {
        return switch (level) {
            case ALL, TRACE -> Level.FINER;
            case DEBUG -> Level.FINE;
            case INFO -> Level.INFO;
            case WARNING -> Level.WARNING;
            case ERROR -> Level.SEVERE;
            case OFF -> Level.OFF;
        };
    }

    /** {@code 2026-11-26T10:50:50.123Z INFO [loop-0] dev.moonbeam.MoonBeam: message}. */
    static final class OneLineFormatter extends Formatter {
        @Override
        public String format(LogRecord record) {
            StringBuilder line = new StringBuilder(160);
            line.append(TIME.format(Instant.ofEpochMilli(record.getMillis()))).append(' ')
                    .append(levelName(record.getLevel())).append(" [").append(threadName(record)).append("] ")
                    .append(shortName(record.getLoggerName())).append(": ").append(formatMessage(record));
            if (record.getThrown() != null) {
                StringWriter trace = new StringWriter();
                record.getThrown().printStackTrace(new PrintWriter(trace));
                line.append(System.lineSeparator()).append(trace.toString().stripTrailing());
            }
            return line.append(System.lineSeparator()).toString();
        }

        private static String levelName(Level level) {
            if (level.intValue() >= Level.SEVERE.intValue()) {
                return "ERROR";
            }
            if (level.intValue() >= Level.WARNING.intValue()) {
                return "WARN";
            }
            if (level.intValue() >= Level.INFO.intValue()) {
                return "INFO";
            }
            return "DEBUG";
        }

        private static String threadName(LogRecord record) {
            // java.util.logging records the thread id only; the logging thread is the one formatting
            // for console/file handlers (they are synchronous), so its name is the right one.
            Thread current = Thread.currentThread();
            return current.getId() == record.getLongThreadID() ? current.getName() : "tid-" + record.getLongThreadID();
        }

        private static String shortName(String loggerName) {
            if (loggerName == null) {
                return "-";
            }
            return loggerName.startsWith("dev.moonbeam.") ? loggerName.substring("dev.moonbeam.".length()) : loggerName;
        }
    }
}
