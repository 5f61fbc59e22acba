package dev.moonbeam.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DevCertificateTest {
    @TempDir
    Path dir;

    @Test
    void createsAnEcLocalhostCertificateOnceAndKeepsExistingFiles() throws Exception {
        Path cert = dir.resolve("conf/tls/cert.pem");
        Path key = dir.resolve("conf/tls/key.pem");

        assertThat(DevCertificate.ensure(cert, key)).isTrue();
        KeyMaterial material = KeyMaterial.fromPem(cert, key);
        var leaf = material.leaf();
        assertThat(leaf.getSubjectX500Principal().getName()).isEqualTo("CN=localhost");
        assertThat(leaf.getSubjectAlternativeNames()).containsExactlyInAnyOrder(
                List.of(2, "localhost"), List.of(7, "127.0.0.1"), List.of(7, "0:0:0:0:0:0:0:1"));
        assertThat(leaf.getPublicKey()).isInstanceOf(ECPublicKey.class);
        assertThat(((ECPublicKey) leaf.getPublicKey()).getParams().getCurve().getField().getFieldSize()).isEqualTo(256);
        Duration validity = Duration.between(leaf.getNotBefore().toInstant(), leaf.getNotAfter().toInstant());
        assertThat(validity.toDays()).isBetween(824L, 825L);
        leaf.verify(leaf.getPublicKey()); // self-signed
        if (Files.getFileStore(key).supportsFileAttributeView("posix")) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
        }
        try (var left = Files.list(cert.getParent())) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("cert.pem", "key.pem");
        }

        String before = Files.readString(cert);
        assertThat(DevCertificate.ensure(cert, key)).isFalse();
        assertThat(Files.readString(cert)).isEqualTo(before);
    }
}
