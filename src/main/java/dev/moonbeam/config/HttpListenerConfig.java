package dev.moonbeam.config;

/**
 * The optional plain-HTTP listener next to the TLS one (e.g. port 80): it either redirects every
 * request to HTTPS with a 301, or proxies like the main listener.
 */
public record HttpListenerConfig(ListenAddress listen, Action action) {
    public enum Action { REDIRECT, PROXY }
}
