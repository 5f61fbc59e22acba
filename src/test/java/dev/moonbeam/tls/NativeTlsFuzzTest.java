package dev.moonbeam.tls;

class NativeTlsFuzzTest extends TlsFuzzTest {
    @Override
    TestProvider provider() {
        return TestProvider.NATIVE;
    }
}
