package dev.moonbeam.balance;

import dev.moonbeam.config.BackendConfig;
import dev.moonbeam.config.HealthCheckConfig;
import dev.moonbeam.config.ProxyConfig;
import dev.moonbeam.loop.Clock;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Active health checks: probes each backend with {@code GET path} on its schedule and takes it out
 * of rotation after {@code unhealthy_threshold} failures in a row ({@link Backend#markActiveDown}),
 * puts it back after {@code healthy_threshold} passes in a row ({@link Backend#markActiveUp(long)}).
 *
 * <p>Runs on <b>one control thread</b> of its own ({@link #start}); probes are blocking and one at
 * a time, each bounded by its timeout, so a round over N backends takes at most N timeouts. The
 * per-backend counters live only on that thread; the backends' health flags are the shared,
 * thread-safe part. {@link #reconfigure} and {@link #close} may be called from any thread.
 *
 * <p>Works across reloads: each round reads {@code routing.current().backends()}, and a reload that
 * keeps an address keeps its {@link Backend} (and with it its health and these counters).
 *
 * <p>Combining with passive health: a backend is available only if neither says it is down. A
 * passive back-off is also ended by {@code healthy_threshold} passing probes <em>after</em> the last
 * passive failure, since the probe proves the backend answers (DESIGN: "an active checker brings it
 * back"); the loops' own back-off ends it too, whichever comes first.
 */
public final class HealthChecker implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(HealthChecker.class.getName());
    /** The thread wakes at least this often, so a reconfigure or new backend is noticed soon. */
    private static final long MAX_SLEEP_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** close() aborts the probe in progress, so the thread ends at once; this bounds the wait anyway. */
    private static final long CLOSE_WAIT_MILLIS = 2000;

    /**
     * Which check applies to which backend: per-address overrides, then the check the backend's own
     * spec carries (DNS-discovered members, whose addresses no config names), then the defaults.
     */
    private record Plan(HealthCheckConfig defaults, Map<InetSocketAddress, HealthCheckConfig> perBackend) {
        HealthCheckConfig forBackend(Backend backend) {
            HealthCheckConfig own = backend.spec().healthCheck();
            return perBackend.getOrDefault(backend.spec().address(), own != null ? own : defaults);
        }
    }

    /** One backend's run of results. Control thread only. */
    private static final class Counters {
        int passesInARow;
        int failuresInARow;
        long passiveFailuresSeen;
        long nextProbeNanos;
        boolean scheduled;
    }

    private final RoutingTable routing;
    private final Clock clock;
    private final HealthProbe probe = new HealthProbe();
    private final Map<Backend, Counters> counters = new IdentityHashMap<>();
    private final CountDownLatch stop = new CountDownLatch(1);
    private volatile Plan plan;
    private volatile Thread thread;

    /** Checks every backend with {@code check} (unless it is {@link HealthCheckConfig#DISABLED}). */
    public HealthChecker(RoutingTable routing, HealthCheckConfig check, Clock clock) {
        this(routing, check, Map.of(), clock);
    }

    /**
     * @param defaults   the check for backends not in {@code perBackend}
     * @param perBackend the check for particular addresses (e.g. {@link HealthCheckConfig#DISABLED})
     */
    public HealthChecker(RoutingTable routing, HealthCheckConfig defaults,
                         Map<InetSocketAddress, HealthCheckConfig> perBackend, Clock clock) {
        this.routing = Objects.requireNonNull(routing, "routing");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.plan = new Plan(Objects.requireNonNull(defaults, "defaults"), Map.copyOf(perBackend));
    }

    /**
     * The one-liner for start-up and reload: a started checker for the config's backends, or null
     * when no backend has checks. With none, any backend an earlier checker took out is put back
     * (removing the section on reload must not strand a backend out of rotation).
     */
    public static HealthChecker startIfConfigured(RoutingTable routing, ProxyConfig config) {
        Map<InetSocketAddress, HealthCheckConfig> perBackend = perBackend(config);
        boolean any = config.backends().stream().anyMatch(b -> b.healthCheck().enabled());
        if (!any) {
            for (Backend backend : routing.current().backends()) {
                backend.slowStartNanos(0);
                if (backend.isActiveDown()) {
                    backend.markActiveUp();
                    LOG.log(System.Logger.Level.INFO, "backend " + backend.spec().hostPort() + " is back in rotation: health checks are off");
                }
            }
            return null;
        }
        HealthChecker checker = new HealthChecker(routing, HealthCheckConfig.DISABLED, perBackend, Clock.SYSTEM);
        checker.start();
        return checker;
    }

    /** Each configured backend's effective check, by resolved address. */
    public static Map<InetSocketAddress, HealthCheckConfig> perBackend(ProxyConfig config) {
        Map<InetSocketAddress, HealthCheckConfig> map = new HashMap<>();
        for (BackendConfig backend : config.backends()) {
            if (!backend.isDiscovered()) {
                map.put(backend.address(), backend.healthCheck());
            }
        }
        return map;
    }

    /** Takes new checks (after a reload); the running thread uses them from its next round. */
    public void reconfigure(HealthCheckConfig defaults, Map<InetSocketAddress, HealthCheckConfig> perBackend) {
        this.plan = new Plan(Objects.requireNonNull(defaults, "defaults"), Map.copyOf(perBackend));
    }

    /**
     * Takes a reloaded config's checks (call after {@code routing.reload}). A config with no checks
     * at all is fine here: every backend is then released and nothing is probed.
     */
    public void reconfigure(ProxyConfig config) {
        reconfigure(HealthCheckConfig.DISABLED, perBackend(config));
    }

    /** Starts the daemon control thread; the first round runs at once. */
    public synchronized void start() {
        if (thread != null) {
            throw new IllegalStateException("already started");
        }
        Thread t = new Thread(this::run, "health-check");
        t.setDaemon(true);
        thread = t;
        t.start();
    }

    /**
     * Probes every checked backend once, now, ignoring the schedule, and applies the results. For
     * tests and tools; only while the checker is not started (the counters belong to one thread).
     */
    public void runOnce() {
        if (thread != null) {
            throw new IllegalStateException("runOnce is for a checker that is not started");
        }
        round(true);
    }

    /** Stops the thread, aborting a probe in progress; returns within 2 s at most. Idempotent. */
    @Override
    public void close() {
        stop.countDown();
        probe.abort();
        Thread t = thread;
        if (t == null || t == Thread.currentThread()) {
            return;
        }
        try {
            t.join(CLOSE_WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t.isAlive()) {
            LOG.log(System.Logger.Level.WARNING, "health-check thread did not stop in time; it is a daemon and will not block exit");
        }
    }

    private void run() {
        try {
            while (stop.getCount() > 0) {
                long sleep = round(false);
                if (stop.await(sleep, TimeUnit.NANOSECONDS)) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // A bug here must not silently stop health checking while traffic still flows.
            LOG.log(System.Logger.Level.ERROR, "health checker stopped by an unexpected error", e);
        }
    }

    /**
     * Probes the backends that are due (all of them when {@code all}) and returns how long to sleep
     * before the next one is due, at most {@link #MAX_SLEEP_NANOS}.
     */
    private long round(boolean all) {
        Plan current = plan;
        Map<Backend, Counters> seen = new IdentityHashMap<>();
        long sleep = MAX_SLEEP_NANOS;
        for (Backend backend : routing.current().backends()) {
            if (stop.getCount() == 0 && !all) {
                break;
            }
            HealthCheckConfig check = current.forBackend(backend);
            Counters c = counters.computeIfAbsent(backend, b -> new Counters());
            seen.put(backend, c);
            if (!check.enabled()) {
                release(backend, c);
                continue;
            }
            backend.slowStartNanos(check.slowStart().toNanos());
            long now = clock.nanoTime();
            if (all || !c.scheduled || now - c.nextProbeNanos >= 0) {
                c.nextProbeNanos = now + check.interval().toNanos();
                c.scheduled = true;
                apply(backend, check, c, probe.probe(backend.spec(), check));
                now = clock.nanoTime();
            }
            sleep = Math.min(sleep, Math.max(0, c.nextProbeNanos - now));
        }
        // Backends a reload removed drop their counters; those kept are the same objects.
        counters.keySet().retainAll(seen.keySet());
        return sleep;
    }

    private void apply(Backend backend, HealthCheckConfig check, Counters c, HealthProbe.Result result) {
        String name = backend.spec().hostPort();
        long passiveFailures = backend.failureCount();
        if (passiveFailures != c.passiveFailuresSeen) {
            // Passes before a passive failure say nothing about the backend after it.
            c.passiveFailuresSeen = passiveFailures;
            c.passesInARow = 0;
        }
        if (result.passed()) {
            c.failuresInARow = 0;
            c.passesInARow = Math.min(c.passesInARow + 1, check.healthyThreshold());
            boolean down = backend.isActiveDown() || backend.consecutiveFailures() > 0;
            if (down && c.passesInARow >= check.healthyThreshold()) {
                boolean wasActiveDown = backend.isActiveDown();
                backend.markActiveUp(clock.nanoTime());
                LOG.log(System.Logger.Level.INFO, "backend " + name + " is healthy again (" + check.healthyThreshold()
                        + " passing checks in a row" + (wasActiveDown ? "" : ", ends its passive back-off") + "); back in rotation");
            }
        } else {
            c.passesInARow = 0;
            c.failuresInARow = Math.min(c.failuresInARow + 1, check.unhealthyThreshold());
            if (!backend.isActiveDown() && c.failuresInARow >= check.unhealthyThreshold()) {
                backend.markActiveDown();
                LOG.log(System.Logger.Level.WARNING, "backend " + name + " is unhealthy (" + check.unhealthyThreshold()
                        + " failed checks in a row, last: " + result.reason() + "); out of rotation");
            }
        }
    }

    /** Checks were switched off for this backend: it must not stay out because of an earlier probe. */
    private void release(Backend backend, Counters c) {
        c.passesInARow = 0;
        c.failuresInARow = 0;
        c.scheduled = false;
        backend.slowStartNanos(0);
        if (backend.isActiveDown()) {
            backend.markActiveUp();
            LOG.log(System.Logger.Level.INFO, "backend " + backend.spec().hostPort()
                    + " is back in rotation: health checks are off for it");
        }
    }
}
