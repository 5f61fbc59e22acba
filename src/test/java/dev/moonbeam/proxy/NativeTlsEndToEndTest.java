package dev.moonbeam.proxy;

import dev.moonbeam.tls.TestProvider;

class NativeTlsEndToEndTest extends TlsEndToEndTest {
    @Override
    TestProvider provider() {
        return TestProvider.NATIVE;
    }
}
