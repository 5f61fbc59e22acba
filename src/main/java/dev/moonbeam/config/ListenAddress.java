package dev.moonbeam.config;

import java.net.InetSocketAddress;

/** Where a listener binds; {@code address} is resolved when the config is loaded. */
public record ListenAddress(HostPort hostPort, InetSocketAddress address) {
    @Override
    public String toString() {
        return hostPort.toString();
    }
}
