package dev.moonbeam.tls;

class NativeTlsEngineTest extends TlsEngineTest {
    @Override
    TestProvider provider() {
        return TestProvider.NATIVE;
    }
}
