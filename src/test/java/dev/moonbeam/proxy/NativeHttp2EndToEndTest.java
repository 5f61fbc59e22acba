package dev.moonbeam.proxy;

import dev.moonbeam.tls.TestProvider;

class NativeHttp2EndToEndTest extends Http2EndToEndTest {
    @Override
    TestProvider provider() {
        return TestProvider.NATIVE;
    }
}
