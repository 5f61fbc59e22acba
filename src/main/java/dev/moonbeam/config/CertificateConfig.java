package dev.moonbeam.config;

import java.nio.file.Path;

/**
 * One server certificate: either a PEM pair ({@code certFile} + {@code keyFile}) or a PKCS#12
 * keystore ({@code keystoreFile} + {@code keystorePassword}); the unused fields are null.
 * {@code keyPath} says where it sits in the config, for error messages raised when it is loaded.
 */
public record CertificateConfig(String keyPath, Path certFile, Path keyFile, Path keystoreFile, String keystorePassword) {
    public boolean isKeystore() {
        return keystoreFile != null;
    }

    @Override
    public String toString() {
        // Never print the password.
        return isKeystore() ? "keystore " + keystoreFile : "cert " + certFile + ", key " + keyFile;
    }
}
