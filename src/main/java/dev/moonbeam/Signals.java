package dev.moonbeam;

/**
 * POSIX signal handlers through {@code sun.misc.Signal} (module jdk.unsupported), the only way a
 * JDK program can act on SIGHUP or turn SIGTERM into a graceful drain. Where a signal is not
 * available (another OS, or the JVM uses it), this says so once and carries on without it.
 */
final class Signals {
    private static final System.Logger LOG = System.getLogger(Signals.class.getName());

    private Signals() {
    }

    static boolean handle(String name, Runnable action) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> action.run());
            return true;
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            LOG.log(System.Logger.Level.WARNING, "SIG" + name + " cannot be handled here (" + e.getMessage() + ")");
            return false;
        }
    }
}
