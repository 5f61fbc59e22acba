package dev.moonbeam.observe;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * The bodies the admin endpoint serves. Called on the admin loop's thread for each request;
 * implementations must be quick (they render from memory) and never block.
 */
public interface AdminPages {
    /** The Prometheus text exposition. */
    byte[] metrics();

    /** The HTML status page. */
    byte[] status();

    /**
     * False while the proxy drains for shutdown, so {@code /healthz} answers 503 and an upstream
     * load balancer stops sending new clients before the listener closes.
     */
    default boolean healthy() {
        return true;
    }

    /** The same pages, with {@code healthy} deciding {@code /healthz}. */
    default AdminPages withHealth(java.util.function.BooleanSupplier healthy) {
        AdminPages pages = this;
        return new AdminPages() {
            @Override
            public byte[] metrics() {
                return pages.metrics();
            }

            @Override
            public byte[] status() {
                return pages.status();
            }

            @Override
            public boolean healthy() {
                return healthy.getAsBoolean();
            }
        };
    }

    /** Pages rendered from {@code registry}, with {@code version} on the status page. */
    static AdminPages of(MetricsRegistry registry, String version) {
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(version, "version");
        return new AdminPages() {
            @Override
            public byte[] metrics() {
                return registry.prometheus().getBytes(StandardCharsets.UTF_8);
            }

            @Override
            public byte[] status() {
                return StatusPage.render(registry.snapshot(), version, System.currentTimeMillis())
                        .getBytes(StandardCharsets.UTF_8);
            }
        };
    }
}
