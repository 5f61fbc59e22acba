package dev.moonbeam.observe;

import static dev.moonbeam.observe.Records.backend;
import static dev.moonbeam.observe.Records.head;
import static dev.moonbeam.observe.Records.record;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.moonbeam.balance.Backend;
import dev.moonbeam.balance.BackendSpec;
import dev.moonbeam.balance.Routing;
import dev.moonbeam.http.HttpHead;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class MetricsTest {
    private final Backend b1 = backend("127.0.0.1:8081");
    private final Backend b2 = backend("127.0.0.1:8082");
    /** A name from a config file that needs escaping in labels and HTML. */
    private final Backend odd = new Backend(new BackendSpec("we\"ird\\<b>\n:1", new InetSocketAddress("127.0.0.1", 9), 3));
    private final HttpHead get = head("GET / HTTP/1.1\r\nHost: h\r\n\r\n");

    private MetricsRegistry registry(Backend... backends) {
        Routing routing = new Routing(List.of(backends));
        return new MetricsRegistry(() -> routing);
    }

    @Test
    void countersMatchTheRequestsAcrossLoops() {
        MetricsRegistry registry = registry(b1, b2, odd);
        LoopMetrics loop0 = registry.newLoop();
        LoopMetrics loop1 = registry.newLoop();
        for (int i = 0; i < 7; i++) {
            loop0.requestFinished(record(get, 200, 100, b1, 2, 20, 25, 26, Termination.COMPLETED));
        }
        for (int i = 0; i < 3; i++) {
            loop1.requestFinished(record(get, 200, 100, b1, -1, 300, 310, 311, Termination.COMPLETED));
        }
        loop1.requestFinished(record(get, 502, 50, b2, -1, -1, -1, 1, Termination.BACKEND_CONNECT_FAILED));
        loop1.requestFinished(record(get, 499, 0, b2, 1, -1, 5, 6, Termination.CLIENT_CLOSED));
        loop0.requestFinished(record(null, 400, 10, null, -1, -1, -1, 0, Termination.BAD_REQUEST));
        loop0.requestFinished(record(get, 200, 10, odd, 1, 1, 1, 1, Termination.BACKEND_RESET));

        PrometheusParser metrics = PrometheusParser.parse(registry.prometheus());
        assertThat(metrics.value("moonbeam_requests_total", "code", "2xx")).isEqualTo(11);
        assertThat(metrics.value("moonbeam_requests_total", "code", "4xx")).isEqualTo(2);
        assertThat(metrics.value("moonbeam_requests_total", "code", "5xx")).isEqualTo(1);
        assertThat(metrics.value("moonbeam_request_terminations_total", "reason", "client_closed")).isEqualTo(1);
        assertThat(metrics.value("moonbeam_request_terminations_total", "reason", "completed")).isEqualTo(10);
        assertThat(metrics.value("moonbeam_request_terminations_total", "reason", "backend_connect_failed")).isEqualTo(1);
        assertThat(metrics.value("moonbeam_request_terminations_total", "reason", "bad_request")).isEqualTo(1);
        assertThat(metrics.value("moonbeam_request_terminations_total", "reason", "backend_reset")).isEqualTo(1);
        assertThat(metrics.value("moonbeam_request_terminations_total", "reason", "queue_timeout")).isEqualTo(0);
        assertThat(metrics.value("moonbeam_response_bytes_total")).isEqualTo(1000 + 50 + 10 + 10);
        assertThat(metrics.value("moonbeam_backend_requests_total", "backend", "127.0.0.1:8081", "code", "2xx")).isEqualTo(10);
        assertThat(metrics.value("moonbeam_backend_requests_total", "backend", "127.0.0.1:8082", "code", "5xx")).isEqualTo(1);
        assertThat(metrics.value("moonbeam_backend_errors_total", "backend", "127.0.0.1:8082")).isEqualTo(1);
        assertThat(metrics.value("moonbeam_backend_errors_total", "backend", odd.spec().hostPort())).isEqualTo(1);
        assertThat(metrics.value("moonbeam_backend_weight", "backend", odd.spec().hostPort())).isEqualTo(3);
        // Connect time only for new connections: 7 on loop 0 (2 ms), none pooled.
        assertThat(metrics.value("moonbeam_backend_connect_seconds_count", "backend", "127.0.0.1:8081")).isEqualTo(7);
        assertThat(metrics.value("moonbeam_backend_connect_seconds_bucket", "backend", "127.0.0.1:8081", "le", "0.001")).isEqualTo(0);
        assertThat(metrics.value("moonbeam_backend_connect_seconds_bucket", "backend", "127.0.0.1:8081", "le", "0.0025")).isEqualTo(7);
        assertThat(metrics.value("moonbeam_backend_response_seconds_count", "backend", "127.0.0.1:8081")).isEqualTo(10);
        assertThat(metrics.value("moonbeam_backend_response_seconds_bucket", "backend", "127.0.0.1:8081", "le", "0.025")).isEqualTo(7);
        assertThat(metrics.value("moonbeam_backend_response_seconds_sum", "backend", "127.0.0.1:8081")).isCloseTo(1.04, within(1e-9));
    }

    @Test
    void backendHealthAndInflightComeFromTheRouting() {
        MetricsRegistry registry = registry(b1, b2, odd);
        b1.acquire();
        b1.acquire();
        b2.markActiveDown();
        odd.markFailed(System.nanoTime());
        PrometheusParser metrics = PrometheusParser.parse(registry.prometheus());
        assertThat(metrics.value("moonbeam_backend_inflight", "backend", "127.0.0.1:8081")).isEqualTo(2);
        assertThat(metrics.value("moonbeam_backend_attempts_total", "backend", "127.0.0.1:8081")).isEqualTo(2);
        assertThat(metrics.value("moonbeam_backend_up", "backend", "127.0.0.1:8081")).isEqualTo(1);
        assertThat(metrics.value("moonbeam_backend_up", "backend", "127.0.0.1:8082")).isEqualTo(0);
        assertThat(metrics.value("moonbeam_backend_state", "backend", "127.0.0.1:8082", "state", "active-down")).isEqualTo(1);
        assertThat(metrics.value("moonbeam_backend_state", "backend", "127.0.0.1:8082", "state", "available")).isEqualTo(0);
        assertThat(metrics.value("moonbeam_backend_state", "backend", odd.spec().hostPort(), "state", "backoff")).isEqualTo(1);
        assertThat(metrics.value("moonbeam_backend_failures_total", "backend", odd.spec().hostPort())).isEqualTo(1);
        b2.markActiveUp();
        b2.markAdminDown();
        assertThat(PrometheusParser.parse(registry.prometheus())
                .value("moonbeam_backend_state", "backend", "127.0.0.1:8082", "state", "admin-down")).isEqualTo(1);
    }

    @Test
    void registeredGaugesAndCountersAreRenderedAsFamilies() {
        MetricsRegistry registry = registry(b1);
        AtomicLong drops = new AtomicLong(5);
        registry.gauge("moonbeam_open_connections", "Open client connections.", Map.of("loop", "0"), () -> 3);
        registry.gauge("moonbeam_open_connections", "Open client connections.", Map.of("loop", "1"), () -> 4);
        registry.counter("moonbeam_access_log_drops_total", "Access-log lines dropped.", Map.of(), drops::get);
        registry.counter("moonbeam_tls_handshakes_total", "TLS handshakes.", Map.of("result", "failed"), () -> 1);
        registry.counter("moonbeam_tls_handshakes_total", "TLS handshakes.", Map.of("result", "ok"), () -> 9);
        registry.configLoaded(1_795_690_250_000L);
        drops.set(6);
        PrometheusParser metrics = PrometheusParser.parse(registry.prometheus());
        assertThat(metrics.value("moonbeam_open_connections", "loop", "1")).isEqualTo(4);
        assertThat(metrics.value("moonbeam_access_log_drops_total")).isEqualTo(6);
        assertThat(metrics.value("moonbeam_tls_handshakes_total", "result", "ok")).isEqualTo(9);
        assertThat(metrics.types).containsEntry("moonbeam_tls_handshakes_total", "counter").containsEntry("moonbeam_open_connections", "gauge");
        assertThat(metrics.value("moonbeam_config_loaded_timestamp_seconds")).isEqualTo(1_795_690_250.0);
        assertThat(metrics.value("moonbeam_uptime_seconds")).isGreaterThanOrEqualTo(0);
    }

    static Stream<Arguments> badRegistrations() {
        return Stream.of(
                Arguments.of("bad name", (Runnable) () -> null_().gauge("1bad", "h", Map.of(), () -> 1)),
                Arguments.of("counter without _total", (Runnable) () -> null_().counter("moonbeam_x", "h", Map.of(), () -> 1)),
                Arguments.of("reserved label", (Runnable) () -> null_().gauge("moonbeam_x", "h", Map.of("__x", "v"), () -> 1)),
                Arguments.of("type clash", (Runnable) () -> {
                    MetricsRegistry r = null_();
                    r.gauge("moonbeam_x_total", "h", Map.of(), () -> 1);
                    r.counter("moonbeam_x_total", "h", Map.of("a", "b"), () -> 1);
                }));
    }

    private static MetricsRegistry null_() {
        return new MetricsRegistry(() -> Routing.EMPTY);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRegistrations")
    void badRegistrationsAreRefused(String name, Runnable registration) {
        assertThatThrownBy(registration::run).isInstanceOf(IllegalArgumentException.class);
    }

    static Stream<Arguments> quantiles() {
        return Stream.of(
                // observations (ms), q, expected seconds: linear inside the bucket, like histogram_quantile
                Arguments.of(new long[] {}, 0.5, Double.NaN),
                Arguments.of(new long[] {3, 3, 3, 3}, 0.5, 0.00375), // rank 2 of 4 in (2.5, 5] ms
                Arguments.of(new long[] {20, 20, 20, 20, 20, 20, 20, 20, 20, 900}, 0.5, 0.010 + 0.015 * 5 / 9),
                Arguments.of(new long[] {20, 20, 20, 20, 20, 20, 20, 20, 20, 900}, 0.99, 0.95), // rank 9.9: 0.9 into (0.5, 1]
                Arguments.of(new long[] {120_000}, 0.99, 60.0));
    }

    @ParameterizedTest
    @MethodSource("quantiles")
    void quantilesInterpolateInsideBuckets(long[] millis, double q, double expected) {
        Histogram h = new Histogram();
        for (long m : millis) {
            h.record(m * 1_000_000);
        }
        if (Double.isNaN(expected)) {
            assertThat(h.quantileSeconds(q)).isNaN();
        } else {
            assertThat(h.quantileSeconds(q)).isCloseTo(expected, within(1e-9));
        }
    }

    @Test
    void statusPageEscapesAndShowsBackends() {
        MetricsRegistry registry = registry(b1, odd);
        registry.newLoop().requestFinished(record(get, 200, 100, b1, 2, 20, 25, 26, Termination.COMPLETED));
        String html = StatusPage.render(registry.snapshot(), "1.0<script>", 1_795_690_250_000L);
        assertThat(html).contains("<meta http-equiv=\"refresh\" content=\"2\">")
                .contains("127.0.0.1:8081").contains("available")
                .contains("we&quot;ird\\&lt;b&gt;").doesNotContain("<b>\n")
                .contains("1.0&lt;script&gt;").doesNotContain("<script>")
                .contains("2026-11-26 10:50:50 UTC");
    }

    @Test
    void countingAllocatesNothing() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        LoopMetrics loop = registry(b1, b2).newLoop();
        RequestRecord r1 = record(get, 200, 100, b1, 2, 20, 25, 26, Termination.COMPLETED);
        RequestRecord r2 = record(get, 502, 100, b2, -1, -1, 25, 26, Termination.BACKEND_INVALID_RESPONSE);
        int rounds = 10_000;
        long allocated = 0;
        for (int pass = 0; pass < 3; pass++) {
            long before = threads.getThreadAllocatedBytes(Thread.currentThread().getId());
            for (int i = 0; i < rounds; i++) {
                loop.requestFinished((i & 1) == 0 ? r1 : r2);
            }
            allocated = threads.getThreadAllocatedBytes(Thread.currentThread().getId()) - before;
        }
        assertThat(allocated).isLessThan(rounds / 4);
    }
}
