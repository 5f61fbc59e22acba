package dev.moonbeam;

import dev.moonbeam.config.ProxyConfig;
import dev.moonbeam.loop.ListenSockets;
import java.io.IOException;
import java.nio.channels.ServerSocketChannel;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/** Wires the configured parts together and starts them. */
public final class MoonBeam implements AutoCloseable {
    private final List<ServerSocketChannel> listeners;
    private final CountDownLatch terminated = new CountDownLatch(1);

    private MoonBeam(List<ServerSocketChannel> listeners) {
        this.listeners = listeners;
    }

    public static MoonBeam start(ProxyConfig config) throws IOException {
        List<ServerSocketChannel> listeners = ListenSockets.open(config.listen().address(), config.effectiveThreads());
        return new MoonBeam(listeners);
    }

    public void awaitTermination() {
        try {
            terminated.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        ListenSockets.closeAll(listeners);
        terminated.countDown();
    }
}
