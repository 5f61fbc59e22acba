package dev.moonbeam.warmup;

import dev.moonbeam.MoonBeam;
import dev.moonbeam.config.BackendConfig;
import dev.moonbeam.config.ConfigException;
import dev.moonbeam.config.HealthCheckConfig;
import dev.moonbeam.config.HostPort;
import dev.moonbeam.config.HttpListenerConfig;
import dev.moonbeam.config.Limits;
import dev.moonbeam.config.ListenAddress;
import dev.moonbeam.config.ObserveConfig;
import dev.moonbeam.config.ProxyConfig;
import dev.moonbeam.config.WarmUpConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The warm-up before the listeners open. A JVM compiles a method to fast code only after it has
 * run it many times, and it compiles on the cores that also serve: started cold, MoonBeam's first
 * seconds serve half of what it serves a minute later, at several times the p99 (docs/benchmarks.md,
 * cold start). So before binding the configured addresses, {@link #run} starts a second,
 * private MoonBeam on the same configuration — same TLS provider and certificates, same loops,
 * parser, pools and limits — listening on 127.0.0.1 at ephemeral ports and proxying to
 * {@link WarmUpOrigin}s on 127.0.0.1, drives real traffic through it with {@link WarmUpClient}s
 * for the configured time, and shuts it down. The compiled code stays with the JVM.
 *
 * <p>Nothing leaves the machine: the configured backends are never contacted and nothing is
 * bound but 127.0.0.1 with port 0. Nothing can hang start-up: every socket has a timeout, and the
 * phase stops at its deadline whatever the clients are doing. A failure costs only the warm-up.
 */
public final class WarmUp {
    private static final System.Logger LOG = System.getLogger(WarmUp.class.getName());
    private static final int ORIGINS = 2;
    /** After the deadline: the clients' socket timeouts (2 s) plus the proxy's shutdown. */
    private static final Duration GRACE = Duration.ofSeconds(5);

    /** What the warm-up did, for the start-up log and tests. */
    public record Result(long requests, long connections, long failures, Duration took, String lastFailure) {
        public String describe() {
            return "warm-up: " + requests + " requests over " + connections + " connections in " + took.toMillis()
                    + " ms" + (failures == 0 ? "" : " (" + failures + " steps failed; last: " + lastFailure + ")");
        }
    }

    private WarmUp() {
    }

    /** Runs the warm-up for {@code config.warmUp().duration()}; never throws for a failed warm-up. */
    public static Result run(ProxyConfig config) {
        long start = System.nanoTime();
        List<WarmUpOrigin> origins = new ArrayList<>();
        MoonBeam proxy = null;
        try {
            for (int i = 0; i < ORIGINS; i++) {
                origins.add(new WarmUpOrigin("origin" + (i + 1)));
            }
            proxy = MoonBeam.start(privateConfig(config, origins));
            Result result = drive(proxy, config.warmUp().duration(), start);
            LOG.log(System.Logger.Level.INFO, result.describe());
            return result;
        } catch (IOException | ConfigException | RuntimeException | OutOfMemoryError | LinkageError e) {
            // OutOfMemoryError: typically "unable to create native thread"; the real start may still fit.
            LOG.log(System.Logger.Level.WARNING, "warm-up skipped: " + e);
            return new Result(0, 0, 1, Duration.ofNanos(System.nanoTime() - start), e.toString());
        } finally {
            if (proxy != null) {
                proxy.close();
            }
            origins.forEach(WarmUpOrigin::close);
        }
    }

    /**
     * The configuration the warm-up proxy runs: the user's, listening on 127.0.0.1:0 (with TLS, a
     * plain listener there too), proxying only to the warm-up origins, without admin listener,
     * access log or health checks.
     */
    static ProxyConfig privateConfig(ProxyConfig config, List<WarmUpOrigin> origins) {
        List<BackendConfig> backends = new ArrayList<>();
        for (WarmUpOrigin origin : origins) {
            InetSocketAddress address = origin.address();
            backends.add(new BackendConfig(new HostPort(address.getHostString(), address.getPort()), address,
                    BackendConfig.DEFAULT_WEIGHT, HealthCheckConfig.DISABLED));
        }
        // With TLS, a plain proxying listener too: most warm-up requests go through it, because the
        // client side of TLS (JSSE, in this same JVM) would otherwise take most of the CPU and of
        // the JIT's time, compiling client code the proxy never runs. The request path past the
        // transport is the same code either way.
        HttpListenerConfig plain = config.isTls()
                ? new HttpListenerConfig(loopbackEphemeral(), HttpListenerConfig.Action.PROXY) : null;
        // The user's client connection cap does not apply (0 would derive one): the crowd must fit.
        Limits limits = config.limits();
        Limits uncapped = new Limits(limits.maxRequestLine(), limits.maxHeaderBytes(), limits.maxHeaderCount(),
                limits.maxChunkExtension(), limits.maxBodyBytes(), limits.maxIdlePerBackend(), Integer.MAX_VALUE);
        return new ProxyConfig(config.source(), loopbackEphemeral(), config.threads(), backends, config.tls(),
                config.timeouts(), uncapped, config.log(), config.trustForwardedHeaders(), plain,
                HealthCheckConfig.DISABLED, ObserveConfig.NONE, WarmUpConfig.OFF, null, null);
    }

    private static ListenAddress loopbackEphemeral() {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        return new ListenAddress(new HostPort(loopback.getHostAddress(), 0), new InetSocketAddress(loopback, 0));
    }

    private static Result drive(MoonBeam proxy, Duration duration, long start) throws IOException {
        long deadline = System.nanoTime() + duration.toNanos();
        InetSocketAddress main = proxy.address();
        boolean tls = proxy.settings().tls() != null;
        InetSocketAddress plain = proxy.plainAddress();
        // Two clients per loop, at most four: enough to keep the loops busy (each client waits for
        // every answer) without the clients' own work (JSSE on the client side) starving them.
        int clients = Math.min(4, 2 * proxy.workers().size());
        List<WarmUpClient> drivers = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            WarmUpClient client = new WarmUpClient(tls ? main : null, tls ? plain : main, deadline);
            Thread thread = new Thread(client, "warmup-client-" + (i + 1));
            thread.setDaemon(true);
            drivers.add(client);
            threads.add(thread);
            thread.start();
        }
        long joinBy = deadline + GRACE.toNanos();
        for (Thread thread : threads) {
            try {
                long left = joinBy - System.nanoTime();
                if (left > 0) {
                    thread.join(Math.max(1, left / 1_000_000));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        long requests = 0;
        long connections = 0;
        long failures = 0;
        String lastFailure = null;
        for (int i = 0; i < drivers.size(); i++) {
            if (threads.get(i).isAlive()) {
                threads.get(i).interrupt(); // stuck past its timeouts: abandon it, it is a daemon
                failures++;
                lastFailure = "a warm-up client did not stop in time";
                continue;
            }
            WarmUpClient.Counts counts = drivers.get(i).counts;
            requests += counts.requests;
            connections += counts.connections;
            failures += counts.failures;
            lastFailure = counts.lastFailure != null ? counts.lastFailure : lastFailure;
        }
        return new Result(requests, connections, failures, Duration.ofNanos(System.nanoTime() - start), lastFailure);
    }
}
