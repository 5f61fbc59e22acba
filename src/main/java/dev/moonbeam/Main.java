package dev.moonbeam;

import dev.moonbeam.config.ConfigException;
import dev.moonbeam.config.ConfigLoader;
import dev.moonbeam.config.ProxyConfig;
import dev.moonbeam.tls.SslContexts;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * Command-line entry point: parses the flags, loads and validates the config, and starts the
 * proxy. Exit codes: 0 success, 1 bad configuration or start-up failure, 2 bad command line.
 */
public final class Main {
    public static final int EXIT_OK = 0;
    public static final int EXIT_FAILURE = 1;
    public static final int EXIT_USAGE = 2;
    public static final String DEFAULT_CONFIG = "conf/proxy_config.json";
    /** Set by the launcher to the installation folder (the one holding conf/). */
    public static final String HOME_PROPERTY = "moonbeam.home";

    private Main() {
    }

    public static void main(String[] args) {
        shortenDnsCache();
        int code = run(args, System.out, System.err);
        if (code != EXIT_OK || !Boolean.getBoolean("moonbeam.noExitOnSuccess")) {
            System.exit(code);
        }
    }

    /**
     * The JVM caches a successful lookup for 30 s by default, which would hide DNS changes from
     * {@code "resolve": "dns"} backends for longer than their resolve_interval. One second keeps the
     * lookups fresh and still absorbs bursts. An operator's own setting (java.security or
     * -Dsun.net.inetaddr.ttl) wins. Must run before the first lookup: the JVM reads it once.
     */
    static void shortenDnsCache() {
        if (java.security.Security.getProperty("networkaddress.cache.ttl") == null
                && System.getProperty("sun.net.inetaddr.ttl") == null) {
            java.security.Security.setProperty("networkaddress.cache.ttl", "1");
        }
    }

    /** Runs the command; returns the exit code. Blocks until shutdown when it starts the proxy. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine cli;
        try {
            cli = CommandLine.parse(args);
        } catch (CommandLine.UsageException e) {
            err.println("moonbeam: " + e.getMessage());
            err.println();
            err.print(CommandLine.USAGE);
            return EXIT_USAGE;
        }
        switch (cli.mode()) {
            case HELP -> {
                out.print(CommandLine.USAGE);
                return EXIT_OK;
            }
            case VERSION -> {
                out.println("MoonBeam " + Version.get() + " (Java " + Runtime.version() + ")");
                return EXIT_OK;
            }
            case CHECK, RUN -> {
                return checkOrRun(cli, out, err);
            }
            default -> throw new IllegalStateException("unhandled mode " + cli.mode());
        }
    }

    private static int checkOrRun(CommandLine cli, PrintStream out, PrintStream err) {
        LogSetup.consoleOnly(cli.debug());
        SslContexts.hardenJdkDefaults();
        Path home = home();
        Path configFile = cli.configFile() != null ? cli.configFile().toAbsolutePath().normalize()
                : home.resolve(DEFAULT_CONFIG);
        ConfigLoader loader = new ConfigLoader(home, Startup::makeDevCertificate);
        ProxyConfig config;
        String tlsProvider;
        try {
            config = Startup.load(loader, configFile, cli);
            tlsProvider = Startup.checkTls(config);
        } catch (ConfigException e) {
            err.println("moonbeam: " + e.getMessage());
            if (cli.debug()) {
                e.printStackTrace(err);
            }
            return EXIT_FAILURE;
        }
        if (cli.mode() == CommandLine.Mode.CHECK) {
            out.println("moonbeam: configuration " + configFile + " is valid: listen " + config.listen()
                    + (config.isTls() ? " (TLS)" : " (plain HTTP)") + ", " + config.backends().size() + " backend(s), "
                    + config.effectiveThreads() + " thread(s)" + (tlsProvider.isEmpty() ? "" : ", TLS provider " + tlsProvider));
            return EXIT_OK;
        }
        try {
            LogSetup.apply(config.log(), cli.debug());
        } catch (IOException e) {
            err.println("moonbeam: " + configFile + ": log.file: " + e.getMessage());
            return EXIT_FAILURE;
        }
        try {
            return Startup.run(config, loader, cli);
        } catch (ConfigException | IOException | RuntimeException e) {
            err.println("moonbeam: " + e.getMessage());
            if (cli.debug()) {
                e.printStackTrace(err);
            }
            return EXIT_FAILURE;
        }
    }

    static Path home() {
        String home = System.getProperty(HOME_PROPERTY);
        return (home == null || home.isBlank() ? Path.of("") : Path.of(home)).toAbsolutePath().normalize();
    }
}
