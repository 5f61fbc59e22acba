package dev.moonbeam.balance;

import dev.moonbeam.config.BackendConfig;
import dev.moonbeam.config.HostPort;
import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Follows the DNS records of {@code "resolve": "dns"} backends: each name is looked up every
 * {@code resolve_interval} on this class's own thread (never on an event loop, where a slow
 * resolver would stall every connection), and every A/AAAA record becomes a member. When a name's
 * set of addresses changes, {@code onChange} runs (on this thread) to rebuild the routing; a failed
 * lookup keeps the last good set and is logged once per change of state, not once per attempt.
 *
 * <p>Thread-safe: {@link #configure} from the control thread, {@link #members} from any.
 */
public final class DnsDiscovery implements AutoCloseable {
    /** Looks up every address of a host name; injectable so tests need no network. */
    @FunctionalInterface
    public interface Resolver {
        List<InetAddress> resolve(String host) throws IOException;
    }

    /** The JVM's resolver (the system's, through its cache; the launcher keeps that cache short). */
    public static final Resolver SYSTEM = host -> Arrays.asList(InetAddress.getAllByName(host));

    private static final System.Logger LOG = System.getLogger(DnsDiscovery.class.getName());
    /** A name with more records than this is cut here: a member per record must stay bounded. */
    static final int MAX_MEMBERS = 256;
    private static final long MAX_SLEEP_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** IPv4 before IPv6, then by address: a stable order, so an unchanged set compares equal. */
    private static final Comparator<InetAddress> BY_BYTES = Comparator.<InetAddress>comparingInt(a -> a.getAddress().length)
            .thenComparing((a, b) -> Arrays.compareUnsigned(a.getAddress(), b.getAddress()));

    /** One discovered entry's state. Guarded by {@code this}. */
    private static final class Entry {
        final HostPort name;
        long intervalNanos;
        long nextDueNanos;
        List<InetAddress> members = List.of();
        /** Why the last lookup failed, or null after a success: logged when it changes. */
        String failure;

        Entry(HostPort name) {
            this.name = name;
        }
    }

    private final Resolver resolver;
    private volatile Runnable onChange = () -> { };
    private final Map<HostPort, Entry> entries = new LinkedHashMap<>();
    private final CountDownLatch stop = new CountDownLatch(1);
    private Thread thread;

    public DnsDiscovery(Resolver resolver) {
        this.resolver = Objects.requireNonNull(resolver, "resolver");
    }

    /**
     * Takes the discovered entries of a (new or reloaded) config. Names already followed keep their
     * members; new names are looked up now, on the caller's thread, so the routing built right after
     * has their members. Does not call {@code onChange}: the caller rebuilds the routing anyway.
     */
    public void configure(List<BackendConfig> backends) {
        List<Entry> fresh = new ArrayList<>();
        synchronized (this) {
            Map<HostPort, Entry> previous = new HashMap<>(entries);
            entries.clear();
            for (BackendConfig backend : backends) {
                if (!backend.isDiscovered()) {
                    continue;
                }
                Entry entry = previous.get(backend.hostPort());
                if (entry == null) {
                    entry = new Entry(backend.hostPort());
                    fresh.add(entry);
                }
                entry.intervalNanos = backend.resolveInterval().toNanos();
                entries.put(backend.hostPort(), entry);
            }
        }
        for (Entry entry : fresh) {
            refresh(entry, System.nanoTime());
        }
    }

    /** The addresses {@code name} resolves to now (sorted), or empty when it never resolved. */
    public synchronized List<InetAddress> members(HostPort name) {
        Entry entry = entries.get(name);
        return entry == null ? List.of() : entry.members;
    }

    /**
     * Starts the lookup thread (idle without discovered entries; a reload may add some).
     *
     * @param whenChanged runs on that thread after a name's set of addresses changed
     */
    public synchronized void start(Runnable whenChanged) {
        if (thread != null) {
            throw new IllegalStateException("already started");
        }
        this.onChange = Objects.requireNonNull(whenChanged, "whenChanged");
        thread = new Thread(this::run, "dns-discovery");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        try {
            while (stop.getCount() > 0) {
                long sleep = lookUpDue();
                if (stop.await(sleep, TimeUnit.NANOSECONDS)) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Looks up every entry that is due; returns how long until the next one is. */
    long lookUpDue() {
        long now = System.nanoTime();
        List<Entry> due = new ArrayList<>();
        synchronized (this) {
            for (Entry entry : entries.values()) {
                if (entry.nextDueNanos - now <= 0) {
                    due.add(entry);
                }
            }
        }
        boolean changed = false;
        for (Entry entry : due) {
            changed |= refresh(entry, now);
        }
        if (changed) {
            try {
                onChange.run();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "applying new DNS members failed", e);
            }
        }
        long sleep = MAX_SLEEP_NANOS;
        long after = System.nanoTime();
        synchronized (this) {
            for (Entry entry : entries.values()) {
                sleep = Math.min(sleep, entry.nextDueNanos - after);
            }
        }
        return Math.max(1, sleep);
    }

    /** One lookup, outside the lock (it blocks); true when the entry's members changed. */
    private boolean refresh(Entry entry, long now) {
        String host = entry.name.host();
        List<InetAddress> found;
        String failure = null;
        try {
            found = normalise(resolver.resolve(host));
            if (found.isEmpty()) {
                failure = "no A or AAAA records";
            }
        } catch (IOException | RuntimeException e) {
            found = List.of();
            failure = e instanceof java.net.UnknownHostException ? "unknown host" : e.toString();
        }
        List<InetAddress> before;
        synchronized (this) {
            entry.nextDueNanos = now + entry.intervalNanos;
            before = entry.members;
            String previousFailure = entry.failure;
            entry.failure = failure;
            if (failure != null) {
                if (!failure.equals(previousFailure)) {
                    LOG.log(System.Logger.Level.WARNING, "backend " + entry.name + ": DNS lookup failed (" + failure + "); "
                            + (before.isEmpty() ? "no members yet" : "keeping its last " + before.size() + " address(es) "
                            + names(before)) + " until it resolves again");
                }
                return false;
            }
            if (previousFailure != null && !before.isEmpty()) {
                LOG.log(System.Logger.Level.INFO, "backend " + entry.name + ": DNS lookups succeed again");
            }
            if (found.equals(before)) {
                return false;
            }
            entry.members = found;
        }
        LOG.log(System.Logger.Level.INFO, "backend " + entry.name + " now resolves to " + names(found)
                + (before.isEmpty() ? "" : " (was " + names(before) + ")"));
        return true;
    }

    private List<InetAddress> normalise(List<InetAddress> addresses) {
        List<InetAddress> sorted = new ArrayList<>(addresses.stream().distinct().sorted(BY_BYTES).toList());
        if (sorted.size() > MAX_MEMBERS) {
            LOG.log(System.Logger.Level.WARNING, "a DNS name has " + sorted.size() + " addresses; using the first " + MAX_MEMBERS);
            return List.copyOf(sorted.subList(0, MAX_MEMBERS));
        }
        return List.copyOf(sorted);
    }

    private static String names(List<InetAddress> addresses) {
        return addresses.stream().map(InetAddress::getHostAddress).toList().toString();
    }

    @Override
    public void close() {
        stop.countDown();
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null) {
            t.interrupt();
            try {
                t.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
