package dev.moonbeam.tls;

class JdkTlsFuzzTest extends TlsFuzzTest {
    @Override
    TestProvider provider() {
        return TestProvider.JDK;
    }
}
