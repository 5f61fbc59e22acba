package dev.moonbeam.tls;

class NativeTlsTransportTest extends TlsTransportTest {
    @Override
    TestProvider provider() {
        return TestProvider.NATIVE;
    }
}
