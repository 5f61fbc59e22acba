package dev.moonbeam.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SniKeyManagerTest {
    /** Certificates: 0 = ec (ec.test, *.wild.test), 1 = rsa (rsa.test), 2 = leaf (leaf.test, EC). */
    @ParameterizedTest(name = "{0} {1} -> {2}")
    @CsvSource(nullValues = "none", value = {
        "EC, ec.test, 0",
        "EC, leaf.test, 2",
        "RSA, rsa.test, 1",
        "EC, rsa.test, none",       // the named certificate is RSA: let the JDK ask for RSA next
        "EC, a.wild.test, 0",
        "EC, a.b.wild.test, 0",     // unknown (wildcards are one label deep): default
        "RSA, unknown.test, none",  // only the default (EC) may answer: the JDK asks for EC next
        "EC, none, 0",
        "RSA, none, none",
        "EC_EC, ec.test, 0",
        "DSA, ec.test, none",
    })
    void choosesByNameThenWildcardThenDefault(String keyType, String host, String expected) throws Exception {
        SniKeyManager manager = new SniKeyManager(List.of(Fixtures.ec(), Fixtures.rsa(),
                KeyMaterial.fromPem(Fixtures.resource("leaf-chain.crt"), Fixtures.resource("leaf-pkcs8.key"))));
        String alias = manager.choose(keyType, host);
        assertThat(alias).isEqualTo(expected);
        if (alias != null) {
            assertThat(manager.getPrivateKey(alias)).isNotNull();
            assertThat(manager.getCertificateChain(alias)).isNotEmpty();
        }
        assertThat(manager.getPrivateKey("99")).isNull();
        assertThat(manager.getPrivateKey("x")).isNull();
    }
}
