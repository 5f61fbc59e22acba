package dev.moonbeam;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moonbeam.tls.TestProvider;
import dev.moonbeam.tls.TlsProviders;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code ssl.provider} as an operator meets it through {@code --check}: which provider serves and
 * why, and a clear error for {@code "native"} where it cannot load. "Cannot load" is simulated with
 * {@link TlsProviders#DISABLE_NATIVE_PROPERTY}, the same path a platform without the library takes.
 */
class TlsProviderChoiceTest {
    @TempDir
    Path dir;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @AfterEach
    void enableNative() {
        System.clearProperty(TlsProviders.DISABLE_NATIVE_PROPERTY);
    }

    private int check(String provider) throws Exception {
        String providerMember = provider == null ? "" : ", \"provider\": \"" + provider + "\"";
        Path file = dir.resolve("proxy_config.json");
        Files.writeString(file, "{\"listen\": \"127.0.0.1:0\", \"backend_servers\": [\"127.0.0.1:9\"], \"ssl\": {"
                + "\"cert_file\": \"" + fixture("ec.crt") + "\", \"key_file\": \"" + fixture("ec-sec1.key") + "\""
                + providerMember + "}, \"log\": {\"file\": null}}");
        return Main.run(new String[] {"--check", "--config", file.toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private static Path fixture(String name) throws URISyntaxException {
        return Path.of(TlsProviderChoiceTest.class.getResource("/dev/moonbeam/tls/" + name).toURI());
    }

    private String stdout() {
        return out.toString(StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @CsvSource(nullValues = "none", value = {"none, native (BoringSSL", "auto, native (BoringSSL", "native, native (BoringSSL",
            "jdk, jdk (JSSE"})
    void checkNamesTheProviderThatWouldServe(String provider, String expected) throws Exception {
        if (!"jdk".equals(provider)) {
            TestProvider.NATIVE.assumeAvailable();
        }
        assertThat(check(provider)).isZero();
        assertThat(stdout()).contains("TLS provider " + expected);
    }

    @Test
    void autoFallsBackToTheJdkAndSaysWhy() throws Exception {
        System.setProperty(TlsProviders.DISABLE_NATIVE_PROPERTY, "true");
        assertThat(check("auto")).isZero();
        assertThat(stdout()).contains("TLS provider jdk (JSSE").contains("auto fell back: disabled by -Dmoonbeam.tls.disableNative=true");
    }

    @Test
    void nativeWhereItCannotLoadIsAConfigurationErrorNamingTheKey() throws Exception {
        System.setProperty(TlsProviders.DISABLE_NATIVE_PROPERTY, "true");
        assertThat(check("native")).isEqualTo(Main.EXIT_FAILURE);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("proxy_config.json").contains("ssl.provider").contains("native TLS cannot load here");
    }

    @Test
    void unknownProviderIsRefusedWithTheChoices() throws Exception {
        assertThat(check("openssl")).isEqualTo(Main.EXIT_FAILURE);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("ssl.provider")
                .contains("\"openssl\" is not a TLS provider; use \"auto\", \"native\" or \"jdk\"");
    }
}
