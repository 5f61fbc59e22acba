package dev.moonbeam.tls;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Keys made by the real {@link DevCertificate} keytool path, once per test JVM (keytool starts a
 * JVM, about a second each), in a temp directory deleted at exit.
 */
final class GeneratedMaterial {
    private static Path dir;
    private static KeyMaterial ecLocalhost;
    private static KeyMaterial rsa;

    private GeneratedMaterial() {
    }

    static synchronized Path dir() {
        if (dir == null) {
            try {
                dir = Files.createTempDirectory("moonbeam-tls-test");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            dir.toFile().deleteOnExit();
        }
        return dir;
    }

    static Path ecCert() {
        return dir().resolve("ec/localhost.crt");
    }

    static Path ecKey() {
        return dir().resolve("ec/localhost.key");
    }

    static Path rsaCert() {
        return dir().resolve("rsa/rsa.crt");
    }

    static Path rsaKey() {
        return dir().resolve("rsa/rsa.key");
    }

    static synchronized KeyMaterial ecLocalhost() throws TlsMaterialException {
        if (ecLocalhost == null) {
            DevCertificate.ensure(ecCert(), ecKey());
            ecLocalhost = KeyMaterial.fromPem(ecCert(), ecKey());
            ecCert().toFile().deleteOnExit();
            ecKey().toFile().deleteOnExit();
            ecCert().getParent().toFile().deleteOnExit();
        }
        return ecLocalhost;
    }

    static synchronized KeyMaterial rsa() throws TlsMaterialException {
        if (rsa == null) {
            DevCertificate.create(rsaCert(), rsaKey(), DevCertificate.Spec.rsa("rsa.example", "dns:rsa.example"));
            rsa = KeyMaterial.fromPem(rsaCert(), rsaKey());
            rsaCert().toFile().deleteOnExit();
            rsaKey().toFile().deleteOnExit();
            rsaCert().getParent().toFile().deleteOnExit();
        }
        return rsa;
    }
}
