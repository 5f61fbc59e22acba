package dev.moonbeam;

import dev.moonbeam.config.ConfigException;
import dev.moonbeam.config.ConfigLoader;
import dev.moonbeam.config.ProxyConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The control thread: config reload (on SIGHUP and when the file changes on disk) and graceful
 * shutdown (SIGTERM/SIGINT; a second signal exits at once). Everything here runs on one
 * single-threaded executor, so reloads never overlap; event loops are never blocked by it.
 */
final class Controller implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Controller.class.getName());
    /** How often the config file's timestamp and size are checked (polling also sees symlink swaps). */
    private static final long WATCH_INTERVAL_MILLIS = 1000;

    private final MoonBeam proxy;
    private final ConfigLoader loader;
    private final Path configFile;
    private final CommandLine cli;
    private final ScheduledExecutorService executor;
    private final AtomicInteger terminationSignals = new AtomicInteger();
    private final List<java.util.function.Consumer<ProxyConfig>> onReload;
    private FileStamp lastStamp;

    /** Modification time plus size: enough to notice an edit without reading the file. */
    private record FileStamp(FileTime modified, long size) {
        static FileStamp of(Path file) {
            try {
                return new FileStamp(Files.getLastModifiedTime(file), Files.size(file));
            } catch (IOException e) {
                return null;
            }
        }
    }

    Controller(MoonBeam proxy, ConfigLoader loader, Path configFile, CommandLine cli,
               List<java.util.function.Consumer<ProxyConfig>> onReload) {
        this.proxy = proxy;
        this.loader = loader;
        this.configFile = configFile;
        this.cli = cli;
        this.onReload = onReload;
        this.executor = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "control");
            thread.setDaemon(true);
            return thread;
        });
        this.lastStamp = FileStamp.of(configFile);
    }

    /** Starts watching the config file and installs the signal handlers. */
    void start() {
        executor.scheduleWithFixedDelay(this::checkFile, WATCH_INTERVAL_MILLIS, WATCH_INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
        Signals.handle("HUP", () -> executor.execute(() -> {
            proxy.reopenLogs(); // logrotate's usual postrotate signal
            reload("SIGHUP");
        }));
        Signals.handle("USR1", () -> executor.execute(() -> {
            LOG.log(System.Logger.Level.INFO, "SIGUSR1: reopening the access log");
            proxy.reopenLogs();
        }));
        Signals.handle("TERM", () -> terminate("SIGTERM"));
        Signals.handle("INT", () -> terminate("SIGINT"));
    }

    private void checkFile() {
        FileStamp stamp = FileStamp.of(configFile);
        if (stamp != null && !stamp.equals(lastStamp)) {
            lastStamp = stamp;
            reload("change of " + configFile.getFileName());
        }
    }

    /**
     * Loads and applies the config file. An invalid file changes nothing and says exactly why.
     *
     * @return true when the new config was applied
     */
    boolean reload(String reason) {
        lastStamp = FileStamp.of(configFile);
        ProxyConfig next;
        ProxyConfig previous = proxy.config();
        try {
            next = Startup.load(loader, configFile, cli);
            List<String> notApplied = proxy.reload(next);
            for (String item : notApplied) {
                LOG.log(System.Logger.Level.WARNING, "reload: " + item);
            }
        } catch (ConfigException e) {
            LOG.log(System.Logger.Level.ERROR, "reload (" + reason + ") rejected, the running config stays in force: "
                    + e.getMessage());
            return false;
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "reload (" + reason + ") failed, the running config stays in force", e);
            return false;
        }
        if (!next.log().equals(previous.log())) {
            // Reopening an unchanged file would make java.util.logging pick "moonbeam.log.1".
            try {
                LogSetup.apply(next.log(), cli.debug());
            } catch (IOException e) {
                LOG.log(System.Logger.Level.ERROR, "reload: " + e.getMessage() + "; logging to the console only");
            }
        }
        for (java.util.function.Consumer<ProxyConfig> hook : onReload) {
            try {
                hook.accept(next);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "reload: applying to a component failed", e);
            }
        }
        LOG.log(System.Logger.Level.INFO, "reloaded " + configFile + " (" + reason + "): " + next.backends().size()
                + " backend(s)");
        return true;
    }

    void terminate(String signal) {
        terminate(signal, true);
    }

    /**
     * @param delay whether {@code timeouts.shutdown_delay} applies: not to a signal that came
     *              during start-up, before any balancer could have seen this process healthy
     */
    void terminate(String signal, boolean delay) {
        if (terminationSignals.incrementAndGet() > 1) {
            LOG.log(System.Logger.Level.WARNING, signal + " again: exiting now");
            Runtime.getRuntime().halt(1);
        }
        long delayMillis = delay ? proxy.config().timeouts().shutdownDelay().toMillis() : 0;
        Duration drain = proxy.config().timeouts().shutdownDrain(); // as configured now: a reload during the delay does not change it
        long drainMillis = drain.toMillis();
        LOG.log(System.Logger.Level.INFO, signal + ": stopping; "
                + (delayMillis > 0 ? "/healthz answers 503 and clients are still served for " + delayMillis
                        + " ms (timeouts.shutdown_delay), then " : "")
                + "in-flight requests get up to " + drainMillis + " ms (send the signal again to exit at once)");
        proxy.announceStopping();
        Thread shutdown = new Thread(() -> {
            if (delayMillis > 0) {
                try {
                    Thread.sleep(delayMillis);
                } catch (InterruptedException e) {
                    // Nothing interrupts this thread today; if something does, drain at once, with
                    // the flag cleared so that the drain still waits.
                }
                LOG.log(System.Logger.Level.INFO, "shutdown_delay over: draining");
            }
            proxy.drainAndClose(drain);
        }, "shutdown");
        shutdown.start();
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
