package dev.moonbeam.balance;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/** Test helpers: loopback specs and backends, never connected to. */
final class Backends {
    private Backends() {}

    static BackendSpec spec(int port, int weight) {
        return new BackendSpec("127.0.0.1:" + port,
                new InetSocketAddress(InetAddress.getLoopbackAddress(), port), weight);
    }

    static Backend backend(int port, int weight) {
        return new Backend(spec(port, weight));
    }

    static List<Backend> equal(int count) {
        List<Backend> list = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            list.add(backend(9000 + i, 1));
        }
        return list;
    }

    static void acquire(Backend backend, int times) {
        for (int i = 0; i < times; i++) {
            backend.acquire();
        }
    }
}
