package dev.moonbeam.tls;

class JdkTlsTransportSocketTest extends TlsTransportSocketTest {
    @Override
    TestProvider provider() {
        return TestProvider.JDK;
    }
}
