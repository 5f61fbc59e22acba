package dev.moonbeam.proxy;

import dev.moonbeam.MoonBeam;
import dev.moonbeam.balance.DnsDiscovery;
import dev.moonbeam.config.ConfigLoader;
import dev.moonbeam.config.ProxyConfig;
import dev.moonbeam.observe.RequestListener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.IntFunction;

/** Starts a real MoonBeam on an ephemeral loopback port from a JSON config written by the test. */
final class ProxyHarness implements AutoCloseable {
    final MoonBeam proxy;
    final ProxyConfig config;

    private ProxyHarness(MoonBeam proxy, ProxyConfig config) {
        this.proxy = proxy;
        this.config = config;
    }

    /**
     * @param extraJson more top-level members, e.g. {@code "\"timeouts\": {...}"}, or empty
     */
    static ProxyHarness start(Path dir, int threads, String backendsJson, String extraJson) throws Exception {
        return start(dir, threads, backendsJson, extraJson, i -> RequestListener.NONE);
    }

    /** As above, with a listener per loop told about every finished request. */
    static ProxyHarness start(Path dir, int threads, String backendsJson, String extraJson,
            IntFunction<RequestListener> listeners) throws Exception {
        return start(dir, threads, backendsJson, extraJson, listeners, DnsDiscovery.SYSTEM);
    }

    /** As above, with {@code resolver} standing in for DNS for {@code "resolve": "dns"} backends. */
    static ProxyHarness start(Path dir, int threads, String backendsJson, String extraJson,
            IntFunction<RequestListener> listeners, DnsDiscovery.Resolver resolver) throws Exception {
        String json = "{\"listen\": \"127.0.0.1:0\", \"threads\": " + threads + ", \"backend_servers\": " + backendsJson
                + ", \"log\": {\"file\": null}" + (extraJson.isEmpty() ? "" : ", " + extraJson) + "}";
        Path file = dir.resolve("proxy_config.json");
        Files.writeString(file, json);
        ProxyConfig config = new ConfigLoader(dir, null).load(file);
        return new ProxyHarness(MoonBeam.start(config, listeners, false, resolver), config);
    }

    int port() {
        return proxy.address().getPort();
    }

    RawClient client() throws IOException {
        return new RawClient(port());
    }

    /** Idle pooled backend connections over all loops (read racily; for eventual assertions). */
    int idleBackendConnections() {
        int idle = 0;
        for (Worker worker : proxy.workers()) {
            idle += worker.idleBackendConnections();
        }
        return idle;
    }

    @Override
    public void close() {
        proxy.close();
    }
}
