package dev.moonbeam.config;

import java.util.List;

/**
 * The {@code ssl} section. The first certificate is the default one, served to clients that send
 * no SNI name or one no certificate matches.
 */
public record TlsConfig(List<CertificateConfig> certificates, List<String> protocols, List<String> cipherSuites) {
    public TlsConfig {
        certificates = List.copyOf(certificates);
        protocols = List.copyOf(protocols);
        cipherSuites = List.copyOf(cipherSuites);
    }
}
