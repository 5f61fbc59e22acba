package dev.moonbeam.tls;

class JdkTlsEngineTest extends TlsEngineTest {
    @Override
    TestProvider provider() {
        return TestProvider.JDK;
    }
}
