package dev.moonbeam;

import dev.moonbeam.balance.HealthChecker;
import dev.moonbeam.config.ProxyConfig;

/** Keeps the active health checker in step with the config: started, reconfigured or stopped on reload. Control thread. */
final class HealthChecks implements AutoCloseable {
    private final MoonBeam proxy;
    private HealthChecker checker;

    HealthChecks(MoonBeam proxy) {
        this.proxy = proxy;
    }

    void apply(ProxyConfig config) {
        if (checker == null) {
            checker = HealthChecker.startIfConfigured(proxy.routing(), config);
        } else {
            checker.reconfigure(config);
        }
    }

    @Override
    public void close() {
        if (checker != null) {
            checker.close();
        }
    }
}
