package dev.moonbeam.proxy;

import dev.moonbeam.tls.TestProvider;

class JdkTlsEndToEndTest extends TlsEndToEndTest {
    @Override
    TestProvider provider() {
        return TestProvider.JDK;
    }
}
