package dev.moonbeam.tls;

import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * The TLS providers the suites run over. The native one is skipped, with the reason, where its
 * library cannot load (another OS or architecture) — skipped, never passed.
 */
public enum TestProvider {
    JDK("jdk"),
    NATIVE("native");

    private final String configName;

    TestProvider(String configName) {
        this.configName = configName;
    }

    /** The value of {@code ssl.provider} that selects it. */
    public String configName() {
        return configName;
    }

    /** Skips the calling test when this provider cannot run here. */
    public void assumeAvailable() {
        if (this == NATIVE) {
            TlsProviders.NativeAvailability availability = TlsProviders.nativeAvailability();
            Assumptions.assumeTrue(availability.loaded(),
                    () -> "native TLS provider cannot load here (" + availability.reason() + "): skipped");
        }
    }

    public ServerTls create(List<KeyMaterial> certificates, TlsSettings settings) throws Exception {
        assumeAvailable();
        ServerTls tls = TlsProviders.create(certificates, settings, configName);
        if (!tls.provider().name().equals(configName)) {
            throw new AssertionError("asked for " + configName + ", got " + tls.provider().describe());
        }
        return tls;
    }
}
