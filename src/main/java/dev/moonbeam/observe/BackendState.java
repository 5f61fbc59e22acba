package dev.moonbeam.observe;

import dev.moonbeam.balance.Backend;

/** What an operator should see for a backend, most serious first. */
public enum BackendState {
    /** Drained by configuration or an admin request. */
    ADMIN_DOWN("admin-down"),
    /** The active health checker says it is down. */
    ACTIVE_DOWN("active-down"),
    /** Passive back-off after connect failures; a request will probe it when the back-off ends. */
    BACKOFF("backoff"),
    AVAILABLE("available");

    private final String label;

    BackendState(String label) {
        this.label = label;
    }

    /** The label value in metrics and the text on the status page. */
    public String label() {
        return label;
    }

    public static BackendState of(Backend backend, long nowNanos) {
        if (backend.isAdminDown()) {
            return ADMIN_DOWN;
        }
        if (backend.isActiveDown()) {
            return ACTIVE_DOWN;
        }
        return backend.isAvailable(nowNanos) ? AVAILABLE : BACKOFF;
    }
}
