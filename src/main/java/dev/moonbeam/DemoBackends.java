package dev.moonbeam;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.moonbeam.config.BackendConfig;
import dev.moonbeam.config.ProxyConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;

/**
 * Small origins for {@code --demo}: one per loopback backend the config names, each answering
 * with its own name and the request it saw (so X-Forwarded-* and the balancing are visible). Uses
 * the JDK's built-in HTTP server; this is a demo, not part of the proxy.
 */
final class DemoBackends implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(DemoBackends.class.getName());

    private final List<HttpServer> servers;

    private DemoBackends(List<HttpServer> servers) {
        this.servers = servers;
    }

    static DemoBackends start(ProxyConfig config) throws IOException {
        // Without TCP_NODELAY the JDK server's separate head and body writes meet delayed ACKs:
        // ~25 requests/s per keep-alive connection, which would make wrk through the demo look slow.
        System.setProperty("sun.net.httpserver.nodelay", "true");
        List<HttpServer> servers = new ArrayList<>();
        try {
            for (BackendConfig backend : config.backends()) {
                InetSocketAddress address = backend.address();
                if (backend.isDiscovered() || !address.getAddress().isLoopbackAddress()) {
                    LOG.log(System.Logger.Level.INFO, "demo: not starting a backend for " + backend.hostPort() + " (not loopback)");
                    continue;
                }
                HttpServer server;
                try {
                    server = HttpServer.create(address, 128);
                } catch (IOException e) {
                    throw new IOException("demo backend cannot listen on " + backend.hostPort() + ": " + e.getMessage()
                            + " (is something else using it?)", e);
                }
                String name = "demo backend " + backend.hostPort();
                server.createContext("/", exchange -> answer(exchange, name));
                server.setExecutor(Executors.newFixedThreadPool(2, runnable -> {
                    Thread thread = new Thread(runnable, "demo-" + backend.hostPort().port());
                    thread.setDaemon(true);
                    return thread;
                }));
                server.start();
                servers.add(server);
                LOG.log(System.Logger.Level.INFO, "demo: started " + name);
            }
        } catch (IOException | RuntimeException e) {
            new DemoBackends(servers).close();
            throw e;
        }
        return new DemoBackends(servers);
    }

    private static void answer(HttpExchange exchange, String name) throws IOException {
        try (exchange) {
            exchange.getRequestBody().readAllBytes();
            StringBuilder body = new StringBuilder();
            body.append("Hello from ").append(name).append(" via MoonBeam\n\n");
            body.append(exchange.getRequestMethod()).append(' ').append(exchange.getRequestURI()).append(' ')
                    .append(exchange.getProtocol()).append('\n');
            for (Map.Entry<String, List<String>> header : exchange.getRequestHeaders().entrySet()) {
                for (String value : header.getValue()) {
                    body.append(header.getKey()).append(": ").append(value).append('\n');
                }
            }
            byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
            exchange.getResponseHeaders().set("X-Demo-Backend", name);
            boolean head = exchange.getRequestMethod().equals("HEAD");
            exchange.sendResponseHeaders(200, head ? -1 : bytes.length);
            if (!head) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(bytes);
                }
            }
        }
    }

    @Override
    public void close() {
        for (HttpServer server : servers) {
            server.stop(0);
        }
    }
}
