package dev.moonbeam.config;

import java.util.List;

/**
 * The {@code ssl} section. The first certificate is the default one, served to clients that send
 * no SNI name or one no certificate matches.
 *
 * @param provider {@code "auto"} (native when it loads, else the JDK's), {@code "native"} or {@code "jdk"}
 */
public record TlsConfig(List<CertificateConfig> certificates, List<String> protocols, List<String> cipherSuites,
                        String provider) {
    public static final String PROVIDER_AUTO = "auto";
    public static final String PROVIDER_NATIVE = "native";
    public static final String PROVIDER_JDK = "jdk";
    public static final List<String> PROVIDERS = List.of(PROVIDER_AUTO, PROVIDER_NATIVE, PROVIDER_JDK);

    public TlsConfig {
        certificates = List.copyOf(certificates);
        protocols = List.copyOf(protocols);
        cipherSuites = List.copyOf(cipherSuites);
    }
}
