package dev.moonbeam.observe;

import dev.moonbeam.balance.Backend;
import dev.moonbeam.balance.Routing;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The process's metrics: sums every loop's {@link LoopMetrics}, reads the backends of the current
 * {@link Routing}, and calls the gauges and counters the wiring registered, then renders them as
 * Prometheus text ({@link #prometheus()}) or a {@link Snapshot} for the status page.
 *
 * <p>Shared: one per process. {@link #newLoop}, {@link #gauge} and {@link #counter} are meant for
 * wiring but are safe from any thread; rendering may run on any thread (the admin loop) and reads
 * the loops' counters racily, as {@link LoopMetrics} explains. Rendering allocates freely; it is
 * not the request path.
 */
public final class MetricsRegistry {
    private static final String[] CLASS_LABELS = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};

    private final Supplier<Routing> routing;
    private final List<LoopMetrics> loops = new CopyOnWriteArrayList<>();
    private final List<Callback> callbacks = new CopyOnWriteArrayList<>();
    private final Map<String, Callback> familyByName = new ConcurrentHashMap<>();
    private final long startNanos = System.nanoTime();
    private final long startEpochMillis = System.currentTimeMillis();
    private volatile long configLoadedEpochMillis;
    /** What serves TLS, for the status page; "" when the listener is plain HTTP. */
    private volatile Supplier<String> tlsDescription = () -> "";
    private volatile LongSupplier clientConnections = () -> 0;
    private volatile LongSupplier clientConnectionsLimit = () -> 0;
    private volatile LongSupplier queueLength = () -> 0;
    private volatile LongSupplier queueMaxWaiting = () -> 0;

    /** A registered value: one sample of a family named by the wiring. */
    private record Callback(String name, String type, String help, Map<String, String> labels, LongSupplier value) { }

    /** @param routing the current snapshot, e.g. {@code routingTable::current} */
    public MetricsRegistry(Supplier<Routing> routing) {
        this.routing = Objects.requireNonNull(routing, "routing");
    }

    /** A listener for one more event loop; call once per loop while wiring. */
    public LoopMetrics newLoop() {
        LoopMetrics loop = new LoopMetrics();
        loops.add(loop);
        return loop;
    }

    /**
     * Registers a gauge sample, e.g. {@code gauge("moonbeam_open_connections", "Open client
     * connections.", Map.of("loop", "0"), worker::openClients)}. Several samples may share a name
     * (with different labels) and must then share the help text.
     */
    public void gauge(String name, String help, Map<String, String> labels, LongSupplier value) {
        register(new Callback(name, "gauge", help, new TreeMap<>(labels), value));
    }

    /** Registers a counter sample; the name must end in {@code _total}. */
    public void counter(String name, String help, Map<String, String> labels, LongSupplier value) {
        if (!name.endsWith("_total")) {
            throw new IllegalArgumentException("a counter's name ends in _total: " + name);
        }
        register(new Callback(name, "counter", help, new TreeMap<>(labels), value));
    }

    /** What serves TLS (provider and library), shown on the status page. */
    /** Open client connections and the cap, for the status page. */
    public void clientConnections(LongSupplier open, LongSupplier limit) {
        clientConnections = Objects.requireNonNull(open, "open");
        clientConnectionsLimit = Objects.requireNonNull(limit, "limit");
    }

    /** Requests waiting for a backend slot and the queue's capacity, for the status page. */
    public void queue(LongSupplier length, LongSupplier maxWaiting) {
        queueLength = Objects.requireNonNull(length, "length");
        queueMaxWaiting = Objects.requireNonNull(maxWaiting, "maxWaiting");
    }

    public void tlsDescription(Supplier<String> description) {
        tlsDescription = Objects.requireNonNull(description, "description");
    }

    /** When the configuration in force was loaded (start or last reload). */
    public void configLoaded(long epochMillis) {
        configLoadedEpochMillis = epochMillis;
    }

    private void register(Callback callback) {
        if (!PrometheusText.METRIC_NAME.matcher(callback.name()).matches()) {
            throw new IllegalArgumentException("not a metric name: " + callback.name());
        }
        for (String label : callback.labels().keySet()) {
            if (!PrometheusText.LABEL_NAME.matcher(label).matches() || label.startsWith("__")) {
                throw new IllegalArgumentException("not a label name: " + label);
            }
        }
        Callback first = familyByName.putIfAbsent(callback.name(), callback);
        if (first != null && (!first.type().equals(callback.type()) || !first.help().equals(callback.help()))) {
            throw new IllegalArgumentException(callback.name() + " is already registered as a " + first.type()
                    + " with other help text");
        }
        callbacks.add(callback);
    }

    /** Every loop's counters summed, plus each backend's, keyed by backend name. */
    private Totals sum() {
        Totals totals = new Totals();
        Routing current = routing.get();
        for (Backend backend : current.backends()) {
            totals.backend(backend).configured = true;
        }
        for (LoopMetrics loop : loops) {
            for (int i = 0; i < LoopMetrics.STATUS_CLASSES; i++) {
                totals.requestsByClass[i] += loop.requestsByClass[i];
            }
            for (int i = 0; i < totals.terminations.length; i++) {
                totals.terminations[i] += loop.terminations[i];
            }
            totals.bytesSent += loop.bytesSent;
            totals.http2Requests += loop.http2Requests;
            loop.queueWait.addTo(totals.queueWait);
            for (LoopMetrics.BackendMetrics metrics : loop.backends) {
                if (metrics == null) {
                    continue;
                }
                BackendTotals b = totals.backend(metrics.backend);
                for (int i = 0; i < LoopMetrics.STATUS_CLASSES; i++) {
                    b.requestsByClass[i] += metrics.requestsByClass[i];
                }
                b.errors += metrics.errors;
                metrics.connect.addTo(b.connect);
                metrics.response.addTo(b.response);
            }
        }
        return totals;
    }

    private static final class Totals {
        final long[] requestsByClass = new long[LoopMetrics.STATUS_CLASSES];
        final long[] terminations = new long[LoopMetrics.terminations().length];
        long bytesSent;
        long http2Requests;
        final Histogram queueWait = new Histogram();
        /** By name: two Backend objects of one name (removed and re-added) report as one. */
        final Map<String, BackendTotals> backends = new LinkedHashMap<>();

        BackendTotals backend(Backend backend) {
            BackendTotals totals = backends.computeIfAbsent(backend.spec().hostPort(), BackendTotals::new);
            if (totals.backend == null) {
                totals.backend = backend;
            }
            return totals;
        }

        long requests() {
            long sum = 0;
            for (long count : requestsByClass) {
                sum += count;
            }
            return sum;
        }
    }

    private static final class BackendTotals {
        final String name;
        Backend backend;
        boolean configured;
        final long[] requestsByClass = new long[LoopMetrics.STATUS_CLASSES];
        long errors;
        final Histogram connect = new Histogram();
        final Histogram response = new Histogram();

        BackendTotals(String name) {
            this.name = name;
        }

        long requests() {
            long sum = 0;
            for (long count : requestsByClass) {
                sum += count;
            }
            return sum;
        }
    }

    /** The Prometheus text exposition (format 0.0.4) of everything. */
    public String prometheus() {
        Totals totals = sum();
        long now = System.nanoTime();
        PrometheusText out = new PrometheusText();
        out.family("moonbeam_requests_total", "counter", "Requests finished, by status class sent to the client (499: client left).");
        for (int i = 1; i < LoopMetrics.STATUS_CLASSES; i++) {
            out.sample("moonbeam_requests_total", totals.requestsByClass[i], "code", CLASS_LABELS[i]);
        }
        out.sample("moonbeam_requests_total", totals.requestsByClass[0], "code", CLASS_LABELS[0]);
        out.family("moonbeam_request_terminations_total", "counter",
                "Requests finished, by why they ended (see docs/operations.md, termination reasons).");
        for (Termination termination : LoopMetrics.terminations()) {
            out.sample("moonbeam_request_terminations_total", totals.terminations[termination.ordinal()],
                    "reason", termination.label());
        }
        out.family("moonbeam_requests_by_protocol_total", "counter", "Requests finished, by the protocol the client spoke.");
        long all = 0;
        for (long count : totals.requestsByClass) {
            all += count;
        }
        out.sample("moonbeam_requests_by_protocol_total", all - totals.http2Requests, "protocol", "http/1.1");
        out.sample("moonbeam_requests_by_protocol_total", totals.http2Requests, "protocol", "h2");
        out.family("moonbeam_response_bytes_total", "counter", "Response bytes (head and body) sent to clients.");
        out.sample("moonbeam_response_bytes_total", totals.bytesSent);

        out.family("moonbeam_backend_requests_total", "counter", "Requests a backend served, by status class.");
        for (BackendTotals b : totals.backends.values()) {
            for (int i = 1; i < LoopMetrics.STATUS_CLASSES; i++) {
                out.sample("moonbeam_backend_requests_total", b.requestsByClass[i], "backend", b.name, "code", CLASS_LABELS[i]);
            }
        }
        out.family("moonbeam_backend_errors_total", "counter", "Backend requests answered with 5xx or cut short by the backend.");
        for (BackendTotals b : totals.backends.values()) {
            out.sample("moonbeam_backend_errors_total", b.errors, "backend", b.name);
        }
        out.family("moonbeam_backend_failures_total", "counter", "Connect failures and timeouts (passive health).");
        for (BackendTotals b : totals.backends.values()) {
            out.sample("moonbeam_backend_failures_total", b.backend.failureCount(), "backend", b.name);
        }
        out.family("moonbeam_backend_attempts_total", "counter", "Times the balancer sent a request to a backend, retries included.");
        for (BackendTotals b : totals.backends.values()) {
            out.sample("moonbeam_backend_attempts_total", b.backend.requestCount(), "backend", b.name);
        }
        out.family("moonbeam_backend_inflight", "gauge", "Requests in flight to a backend.");
        for (BackendTotals b : configured(totals)) {
            out.sample("moonbeam_backend_inflight", b.backend.inflight(), "backend", b.name);
        }
        out.family("moonbeam_backend_weight", "gauge", "Configured weight of a backend.");
        for (BackendTotals b : configured(totals)) {
            out.sample("moonbeam_backend_weight", b.backend.weight(), "backend", b.name);
        }
        out.family("moonbeam_backend_up", "gauge", "1 if a backend may be sent new requests now.");
        for (BackendTotals b : configured(totals)) {
            out.sample("moonbeam_backend_up", BackendState.of(b.backend, now) == BackendState.AVAILABLE ? 1 : 0, "backend", b.name);
        }
        out.family("moonbeam_backend_state", "gauge", "1 for the state a backend is in, 0 for the others.");
        for (BackendTotals b : configured(totals)) {
            BackendState state = BackendState.of(b.backend, now);
            for (BackendState s : BackendState.values()) {
                out.sample("moonbeam_backend_state", s == state ? 1 : 0, "backend", b.name, "state", s.label());
            }
        }
        histogram(out, "moonbeam_backend_connect_seconds", "Time to connect to a backend (new connections only).",
                totals, true);
        histogram(out, "moonbeam_backend_response_seconds", "Time from sending a request to the backend's response head.",
                totals, false);

        out.family("moonbeam_queue_wait_seconds", "histogram", "Time requests waited in the backend queue (those that waited).");
        long waited = 0;
        for (int i = 0; i < totals.queueWait.counts.length; i++) {
            waited += totals.queueWait.counts[i];
            out.sample("moonbeam_queue_wait_seconds_bucket", waited, "le", Histogram.LE[i]);
        }
        out.sample("moonbeam_queue_wait_seconds_sum", totals.queueWait.sumNanos / 1e9);
        out.sample("moonbeam_queue_wait_seconds_count", waited);

        out.family("moonbeam_start_time_seconds", "gauge", "When the process started, in seconds since the epoch.");
        out.sample("moonbeam_start_time_seconds", startEpochMillis / 1000.0);
        out.family("moonbeam_uptime_seconds", "gauge", "Seconds since the process started.");
        out.sample("moonbeam_uptime_seconds", (now - startNanos) / 1e9);
        long loadedAt = configLoadedEpochMillis;
        if (loadedAt != 0) {
            out.family("moonbeam_config_loaded_timestamp_seconds", "gauge", "When the configuration in force was loaded.");
            out.sample("moonbeam_config_loaded_timestamp_seconds", loadedAt / 1000.0);
        }
        callbacks(out);
        return out.toString();
    }

    private static List<BackendTotals> configured(Totals totals) {
        List<BackendTotals> list = new ArrayList<>();
        for (BackendTotals b : totals.backends.values()) {
            if (b.configured) {
                list.add(b);
            }
        }
        return list;
    }

    private static void histogram(PrometheusText out, String name, String help, Totals totals, boolean connect) {
        out.family(name, "histogram", help);
        for (BackendTotals b : totals.backends.values()) {
            Histogram h = connect ? b.connect : b.response;
            long cumulative = 0;
            for (int i = 0; i < h.counts.length; i++) {
                cumulative += h.counts[i];
                out.sample(name + "_bucket", cumulative, "backend", b.name, "le", Histogram.LE[i]);
            }
            out.sample(name + "_sum", h.sumNanos / 1e9, "backend", b.name);
            out.sample(name + "_count", cumulative, "backend", b.name);
        }
    }

    private void callbacks(PrometheusText out) {
        Map<String, List<Callback>> families = new LinkedHashMap<>();
        for (Callback callback : callbacks) {
            families.computeIfAbsent(callback.name(), name -> new ArrayList<>()).add(callback);
        }
        for (List<Callback> family : families.values()) {
            Callback first = family.get(0);
            out.family(first.name(), first.type(), first.help());
            for (Callback callback : family) {
                String[] labels = new String[callback.labels().size() * 2];
                int i = 0;
                for (Map.Entry<String, String> label : callback.labels().entrySet()) {
                    labels[i++] = label.getKey();
                    labels[i++] = label.getValue();
                }
                out.sample(callback.name(), callback.value().getAsLong(), labels);
            }
        }
    }

    /** What the status page shows. Times are epoch milliseconds; latencies seconds, NaN when unknown. */
    public record Snapshot(long startedEpochMillis, long uptimeSeconds, long configLoadedEpochMillis,
                           long requests, long[] requestsByClass, long bytesSent, long inflight,
                           List<BackendRow> backends, String tls, long clientConnections,
                           long clientConnectionsLimit, long queueLength, long queueMaxWaiting,
                           double queueWaitP99Seconds) {
        /** Requests with status class 1..5 ({@code requestsByClass[0]} is anything else). */
        public long requestsOfClass(int statusClass) {
            return requestsByClass[statusClass];
        }
    }

    /** One configured backend's line on the status page. */
    public record BackendRow(String address, BackendState state, int weight, int inflight, int maxConnections,
                             long requests, long errors, double p50Seconds, double p99Seconds) { }

    public Snapshot snapshot() {
        Totals totals = sum();
        long now = System.nanoTime();
        List<BackendRow> rows = new ArrayList<>();
        long inflight = 0;
        for (BackendTotals b : configured(totals)) {
            int backendInflight = b.backend.inflight();
            inflight += backendInflight;
            rows.add(new BackendRow(b.name, BackendState.of(b.backend, now), b.backend.weight(), backendInflight,
                    b.backend.maxConnections(), b.requests(), b.errors, b.response.quantileSeconds(0.5), b.response.quantileSeconds(0.99)));
        }
        return new Snapshot(startEpochMillis, (now - startNanos) / 1_000_000_000L, configLoadedEpochMillis,
                totals.requests(), totals.requestsByClass, totals.bytesSent, inflight, rows, tlsDescription.get(),
                clientConnections.getAsLong(), clientConnectionsLimit.getAsLong(), queueLength.getAsLong(),
                queueMaxWaiting.getAsLong(), totals.queueWait.quantileSeconds(0.99));
    }
}
