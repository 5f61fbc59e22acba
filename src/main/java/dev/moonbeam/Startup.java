package dev.moonbeam;

import dev.moonbeam.config.ConfigException;
import dev.moonbeam.config.ConfigLoader;
import dev.moonbeam.config.ProxyConfig;
import dev.moonbeam.loop.ListenSockets;
import dev.moonbeam.observe.RequestListener;
import dev.moonbeam.tls.DevCertificate;
import dev.moonbeam.tls.ServerTls;
import dev.moonbeam.tls.TlsMaterialException;
import dev.moonbeam.tls.TlsProviderInfo;
import dev.moonbeam.tls.TlsSetup;
import dev.moonbeam.warmup.WarmUp;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** The steps between a parsed command line and a running proxy, kept out of {@link Main} for tests. */
final class Startup {
    private static final System.Logger LOG = System.getLogger(Startup.class.getName());

    private Startup() {
    }

    /** What to type to see the demo working. */
    static String tryItLine(ProxyConfig config, MoonBeam proxy) {
        int port = proxy.address().getPort();
        String scheme = config.isTls() ? "https" : "http";
        boolean defaultPort = config.isTls() ? port == 443 : port == 80;
        return "MoonBeam demo is up. Try:  curl " + (config.isTls() ? "-k " : "") + scheme + "://localhost"
                + (defaultPort ? "" : ":" + port) + "/";
    }

    /** Loads the config and applies the command-line overrides. */
    static ProxyConfig load(ConfigLoader loader, Path configFile, CommandLine cli) throws ConfigException {
        ProxyConfig config = loader.load(configFile);
        if (cli.threads() > 0) {
            config = config.withThreads(cli.threads());
        }
        if (cli.listen() != null) {
            config = config.withListen(loader.parseListen(configFile, cli.listen()));
        }
        return config;
    }

    static boolean makeDevCertificate(Path certFile, Path keyFile) throws IOException {
        try {
            return DevCertificate.ensure(certFile, keyFile);
        } catch (TlsMaterialException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /**
     * Loads the certificates too, so --check catches a bad key the way nginx -t does, and the TLS
     * provider, so a "native" that cannot load here fails the check.
     *
     * @return which provider would serve TLS, or "" for plain HTTP
     */
    static String checkTls(ProxyConfig config) throws ConfigException {
        if (!config.isTls()) {
            return "";
        }
        ServerTls tls = TlsSetup.build(config.source(), config.tls(), config.timeouts().tlsHandshake(), config.http2().enabled());
        tls.retire();
        return tls.provider().describe();
    }

    private static void requirePortsFree(ProxyConfig config) throws IOException {
        ListenSockets.requireFree(config.listen().address());
        if (config.httpListener() != null) {
            ListenSockets.requireFree(config.httpListener().listen().address());
        }
        if (config.observe().admin() != null) {
            ListenSockets.requireFree(config.observe().admin().address());
        }
    }

    /** Starts the proxy and blocks until it has shut down; returns the exit code. */
    static int run(ProxyConfig config, ConfigLoader loader, CommandLine cli) throws IOException, ConfigException {
        DemoBackends demo = cli.demo() ? DemoBackends.start(config) : null;
        if (config.warmUp().enabled()) {
            if (!cli.takeover()) {
                requirePortsFree(config); // a taken port fails now, not after the warm-up
            }
            // Before anything listens: a load balancer or client sees this process only once warm.
            WarmUp.run(config);
        }
        // The listeners open before the controller can handle signals: a SIGTERM in between must
        // still drain (the JVM's default would exit at once, cutting off requests in flight).
        java.util.concurrent.atomic.AtomicReference<String> earlySignal = new java.util.concurrent.atomic.AtomicReference<>();
        Signals.handle("TERM", () -> earlySignal.compareAndSet(null, "SIGTERM"));
        Signals.handle("INT", () -> earlySignal.compareAndSet(null, "SIGINT"));
        MoonBeam proxy;
        try {
            proxy = MoonBeam.start(config, index -> RequestListener.NONE, cli.takeover());
        } catch (IOException | ConfigException | RuntimeException e) {
            if (demo != null) {
                demo.close();
            }
            throw e;
        }
        // Only now: during the warm-up nothing is served, and C2 should compile as fast as it can.
        String compilerPriority = CompilerThreadPriority.applyFromProperty();
        if (compilerPriority != null) {
            LOG.log(System.Logger.Level.INFO, compilerPriority);
        }
        HealthChecks healthChecks = new HealthChecks(proxy);
        healthChecks.apply(config);
        Controller controller = new Controller(proxy, loader, config.source(), cli, List.of(healthChecks::apply));
        controller.start();
        String early = earlySignal.get();
        if (early != null) {
            LOG.log(System.Logger.Level.INFO, early + " arrived while starting: stopping now that the signal handlers are in place");
            controller.terminate(early, false);
        }
        if (demo != null) {
            System.out.println(tryItLine(config, proxy));
        }
        if (cli.takeover()) {
            LOG.log(System.Logger.Level.INFO, "--takeover: sharing the ports with any MoonBeam already on them;"
                    + " stop the old one with SIGTERM (it drains, then exits)");
        }
        LOG.log(System.Logger.Level.INFO, "MoonBeam " + Version.get() + " listening on " + config.listen()
                + (config.isTls() ? " (TLS)" : " (plain HTTP)") + " with " + config.effectiveThreads() + " thread(s), "
                + config.backends().size() + " backend(s), Java " + Runtime.version() + (c1Only() ? " (JIT: C1 only)" : ""));
        LOG.log(System.Logger.Level.INFO, proxy.clientLimitDescription());
        if (!config.proxyProtocolFrom().isEmpty()) {
            LOG.log(System.Logger.Level.INFO, "PROXY protocol (v1/v2) required from " + config.proxyProtocolFrom()
                    + " and refused from every other address");
        }
        if (proxy.settings().tls() != null) {
            TlsProviderInfo provider = proxy.settings().tls().provider();
            LOG.log(System.Logger.Level.INFO, "TLS provider: " + provider.describe());
            if (TlsProviderInfo.JDK.equals(provider.name()) && c1Only()) {
                LOG.log(System.Logger.Level.WARNING, "JSSE serves TLS under the C1-only JIT that scripts/moonbeam.sh"
                        + " chose for the native provider; JSSE then serves about 40% fewer handshakes. Set"
                        + " \"ssl\": {\"provider\": \"jdk\"} in the config (the launcher then keeps the full JIT)"
                        + " or choose the JVM flags with MOONBEAM_JAVA_OPTS");
            }
        }
        proxy.awaitTermination();
        controller.close();
        healthChecks.close();
        if (demo != null) {
            demo.close();
        }
        LOG.log(System.Logger.Level.INFO, "stopped");
        return Main.EXIT_OK;
    }

    /** True when the launcher runs the JVM with C1 alone ({@code -XX:TieredStopAtLevel=1}; see moonbeam.sh). */
    private static boolean c1Only() {
        return "c1".equals(System.getProperty("moonbeam.jit"));
    }
}
