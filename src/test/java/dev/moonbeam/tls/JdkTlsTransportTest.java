package dev.moonbeam.tls;

class JdkTlsTransportTest extends TlsTransportTest {
    @Override
    TestProvider provider() {
        return TestProvider.JDK;
    }
}
