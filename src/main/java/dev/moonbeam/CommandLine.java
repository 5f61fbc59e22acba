package dev.moonbeam;

import java.nio.file.Path;

/**
 * What the command line asked for. Null / 0 fields mean "not given, use the config".
 *
 * @param threads  overrides the config's {@code threads} when &gt; 0
 * @param takeover join the listening ports of a running MoonBeam instead of refusing them
 */
public record CommandLine(Path configFile, int threads, String listen, Mode mode, boolean debug, boolean demo,
                          boolean takeover) {

    public enum Mode { RUN, CHECK, VERSION, HELP }

    public static final String USAGE = """
            Usage: moonbeam [options]

              --config FILE        configuration file (default: conf/proxy_config.json)
              --threads N          event-loop threads, overrides the config (default: one per core)
              --listen [HOST:]PORT address to accept clients on, overrides the config
              --check              validate the configuration and exit (0 valid, 1 invalid)
              --demo               also start the built-in demo backends the shipped config names
              --takeover           rolling restart: listen on ports a running MoonBeam holds
                                   (SO_REUSEPORT), then stop the old one with SIGTERM; it
                                   drains and leaves (docs/operations.md)
              --debug              verbose logging and stack traces
              --version            print the version and exit
              --help               print this help and exit
            """;

    /** A command line that cannot be understood: print the message and the usage, exit 2. */
    public static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        public UsageException(String message) {
            super(message);
        }
    }

    public static CommandLine parse(String... args) throws UsageException {
        Path config = null;
        int threads = 0;
        String listen = null;
        Mode mode = Mode.RUN;
        boolean debug = false;
        boolean demo = false;
        boolean takeover = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String name = arg;
            String inlineValue = null;
            int equals = arg.indexOf('=');
            if (arg.startsWith("--") && equals > 0) {
                name = arg.substring(0, equals);
                inlineValue = arg.substring(equals + 1);
            }
            switch (name) {
                case "--config", "-c" -> {
                    String value = inlineValue != null ? inlineValue : valueOf(args, ++i, name);
                    if (value.isBlank()) {
                        throw new UsageException(name + " needs a file name");
                    }
                    config = Path.of(value);
                }
                case "--threads", "-t" -> threads = threads(inlineValue != null ? inlineValue : valueOf(args, ++i, name));
                case "--listen", "-l" -> {
                    listen = inlineValue != null ? inlineValue : valueOf(args, ++i, name);
                    if (listen.isBlank()) {
                        throw new UsageException(name + " needs [HOST:]PORT");
                    }
                }
                case "--check" -> mode = noValue(inlineValue, name, Mode.CHECK, mode);
                case "--version", "-v" -> mode = noValue(inlineValue, name, Mode.VERSION, mode);
                case "--help", "-h" -> mode = noValue(inlineValue, name, Mode.HELP, mode);
                case "--debug" -> debug = noValue(inlineValue, name, true, debug);
                case "--demo" -> demo = noValue(inlineValue, name, true, demo);
                case "--takeover" -> takeover = noValue(inlineValue, name, true, takeover);
                default -> throw new UsageException(arg.startsWith("-") ? "unknown option " + arg : "unexpected argument " + arg);
            }
        }
        return new CommandLine(config, threads, listen, mode, debug, demo, takeover);
    }

    private static <T> T noValue(String inlineValue, String name, T value, T previous) throws UsageException {
        if (inlineValue != null) {
            throw new UsageException(name + " takes no value");
        }
        return value;
    }

    private static String valueOf(String[] args, int index, String name) throws UsageException {
        if (index >= args.length || args[index].startsWith("--")) {
            throw new UsageException(name + " needs a value");
        }
        return args[index];
    }

    private static int threads(String value) throws UsageException {
        int threads;
        try {
            threads = Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            throw new UsageException("--threads needs a whole number, got \"" + value + "\"");
        }
        if (threads < 1 || threads > dev.moonbeam.config.ProxyConfig.MAX_THREADS) {
            throw new UsageException("--threads must be between 1 and " + dev.moonbeam.config.ProxyConfig.MAX_THREADS + ", got " + threads);
        }
        return threads;
    }
}
