package dev.moonbeam.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.params.provider.CsvSource;

class TlsSettingsTest {
    @Test
    void defaultsAreTheSecureChoice() {
        TlsSettings settings = TlsSettings.defaults();
        assertThat(settings.protocols()).containsExactly("TLSv1.3", "TLSv1.2");
        assertThat(settings.cipherSuites()).allSatisfy(suite -> assertThat(suite).containsAnyOf("_GCM_", "_CHACHA20_POLY1305_"));
        assertThat(settings.cipherOrder()).isEqualTo(TlsSettings.CipherOrder.SERVER);
        assertThat(settings.applicationProtocols()).containsExactly("http/1.1");
        assertThat(settings.sessionCacheSize()).isPositive();
        assertThat(settings.handshakeTimeout()).isEqualTo(Duration.ofSeconds(10));
    }

    @ParameterizedTest(name = "protocol {0}")
    @CsvSource({"TLSv1.1", "TLSv1", "SSLv3", "TLSv1.4"})
    void oldOrUnknownProtocolsAreRefusedByName(String protocol) {
        assertThatThrownBy(() -> TlsSettings.defaults().withProtocols(List.of("TLSv1.3", protocol)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'" + protocol + "'");
    }

    @ParameterizedTest(name = "suite {0}")
    @CsvSource({
        "TLS_NOT_A_SUITE, unknown to this JDK",
        "TLS_RSA_WITH_AES_128_GCM_SHA256, not an ECDHE AEAD suite",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, not an ECDHE AEAD suite",
    })
    void weakOrUnknownSuitesAreRefusedByName(String suite, String problem) {
        assertThatThrownBy(() -> TlsSettings.defaults().withCipherSuites(List.of(suite)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'" + suite + "'")
                .hasMessageContaining(problem);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "ECDHE-ECDSA-AES128-GCM-SHA256, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "ECDHE-RSA-AES256-GCM-SHA384, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "ECDHE-RSA-CHACHA20-POLY1305, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256",
    })
    void openSslAndIanaNamesAreBothAcceptedAndKeptAsIana(String given, String kept) {
        assertThat(TlsSettings.defaults().withCipherSuites(java.util.List.of(given)).cipherSuites()).containsExactly(kept);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"AES128-GCM-SHA256", "ECDHE-RSA-AES128-SHA", "DHE-RSA-AES128-GCM-SHA256"})
    void weakSuitesAreRefusedUnderTheirOpenSslNamesToo(String suite) {
        assertThatThrownBy(() -> TlsSettings.defaults().withCipherSuites(java.util.List.of(suite)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(suite);
    }

    @Test
    void timeoutsMustBePositive() {
        assertThatThrownBy(() -> TlsSettings.defaults().withHandshakeTimeout(Duration.ZERO))
                .hasMessageContaining("handshake timeout");
    }

    @Test
    void enginesCarryTheSettings() throws Exception {
        JdkServerTls tls = SslContexts.create(List.of(Fixtures.ec()),
                TlsSettings.defaults().withProtocols(List.of("TLSv1.2")));
        SSLEngine engine = tls.newEngine("203.0.113.9", 51000);
        assertThat(engine.getUseClientMode()).isFalse();
        assertThat(engine.getEnabledProtocols()).containsExactly("TLSv1.2");
        assertThat(engine.getEnabledCipherSuites()).containsExactlyElementsOf(TlsSettings.DEFAULT_CIPHER_SUITES);
        assertThat(engine.getSSLParameters().getUseCipherSuitesOrder()).isTrue();
        assertThat(engine.getSSLParameters().getApplicationProtocols()).containsExactly("http/1.1");
        assertThat(tls.certificates()).hasSize(1);
    }

    @Test
    void hardeningSetsTheRenegotiationProperty() {
        SslContexts.hardenJdkDefaults();
        assertThat(System.getProperty("jdk.tls.rejectClientInitiatedRenegotiation")).isEqualTo("true");
    }
}
