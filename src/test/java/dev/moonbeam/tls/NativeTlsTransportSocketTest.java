package dev.moonbeam.tls;

class NativeTlsTransportSocketTest extends TlsTransportSocketTest {
    @Override
    TestProvider provider() {
        return TestProvider.NATIVE;
    }
}
