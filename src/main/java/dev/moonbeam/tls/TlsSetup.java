package dev.moonbeam.tls;

import dev.moonbeam.config.CertificateConfig;
import dev.moonbeam.config.ConfigException;
import dev.moonbeam.config.TlsConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns the config's {@code ssl} section into a ready {@link ServerTls}: loads every certificate
 * and key and applies the protocol settings. Runs on the control thread (it reads files).
 */
public final class TlsSetup {
    private TlsSetup() {
    }

    /**
     * @throws ConfigException naming the config file, the key path of the certificate entry and
     *                         what is wrong with the certificate or key file
     */
    public static ServerTls build(Path configFile, TlsConfig config, Duration handshakeTimeout) throws ConfigException {
        return build(configFile, config, handshakeTimeout, false);
    }

    /** @param http2 offer ALPN h2 before http/1.1 */
    public static ServerTls build(Path configFile, TlsConfig config, Duration handshakeTimeout, boolean http2)
            throws ConfigException {
        List<KeyMaterial> certificates = new ArrayList<>();
        for (CertificateConfig certificate : config.certificates()) {
            try {
                certificates.add(certificate.isKeystore()
                        ? KeyMaterial.fromPkcs12(certificate.keystoreFile(), certificate.keystorePassword().toCharArray())
                        : KeyMaterial.fromPem(certificate.certFile(), certificate.keyFile()));
            } catch (TlsMaterialException e) {
                String key = certificate.keyPath().isEmpty() ? "ssl" : certificate.keyPath();
                throw new ConfigException(configFile, key, e.getMessage(), e);
            }
        }
        TlsSettings settings;
        try {
            settings = TlsSettings.defaults().withProtocols(config.protocols()).withHandshakeTimeout(handshakeTimeout)
                    .withApplicationProtocols(http2 ? TlsSettings.HTTP2_APPLICATION_PROTOCOLS
                            : TlsSettings.DEFAULT_APPLICATION_PROTOCOLS);
            if (!config.cipherSuites().isEmpty()) {
                settings = settings.withCipherSuites(config.cipherSuites());
            }
        } catch (IllegalArgumentException e) {
            throw new ConfigException(configFile, "ssl", e.getMessage(), e);
        }
        try {
            return TlsProviders.create(certificates, settings, config.provider());
        } catch (javax.net.ssl.SSLException e) {
            String key = config.provider().equals("native") && e.getMessage().startsWith("native TLS cannot load")
                    ? "ssl.provider" : "ssl";
            throw new ConfigException(configFile, key, e.getMessage(), e);
        }
    }
}
